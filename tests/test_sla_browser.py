"""Response-time promises in the browser (docs/sla.md): the customer sees the promise when
writing and an honest update when it is at risk; the agent's list shows the due time and
turns it amber, with a toast, live at 80 % of the time (a durable job run by the worker on a
``FakeClock``)."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from playwright.async_api import Browser, expect

from eyelevel.clock import FakeClock
from eyelevel.core.entities import Role
from tests.browser_support import screenshot
from tests.harness import start_server
from tests.test_inbox_browser import (
    agent_logs_in,
    conversation_entry,
    customer_signs_in,
    customer_writes_first,
    open_view,
    person,
)

ALWAYS = {d: [["00:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
PROMISE = re.compile(r"We answer within 1 hour \(business hours\) — by (today|tomorrow) \d\d:\d\d")


async def test_the_promise_is_shown_and_the_80_percent_warning_arrives_live(
    db_url: str, tmp_path: Path, browser: Browser
) -> None:
    clock = FakeClock(datetime.now(UTC).replace(microsecond=0))
    async with start_server(db_url, tmp_path, clock=clock) as server:
        company = await server.company("acme", "Acme AG")
        admin = await server.agent(company, role=Role.ADMIN, name="Olaf Admin")
        r = await admin.http.patch(
            "/api/v1/companies/acme",
            json={"timezone": "UTC", "business_hours": ALWAYS, "reply_within_minutes": 60},
        )
        assert r.status_code == 200, r.text
        anna_email = f"anna-{uuid.uuid4().hex[:6]}@example.com"
        await server.agent(company, anna_email, name="Anna Agent")
        kim_email = f"kim-{uuid.uuid4().hex[:6]}@example.org"
        await server.customer(kim_email, name="Kim Kunde")

        async with person(browser) as kim, person(browser) as anna:
            await customer_signs_in(kim.page, server, kim_email)
            await kim.page.goto(f"{server.url}/#/new/acme")
            await expect(kim.page.locator(".promise-slot")).to_have_text(PROMISE)
            cid = await customer_writes_first(kim.page, server, "acme", "Wo bleibt mein Paket?")
            await expect(kim.page.locator(".promise-slot")).to_have_text(PROMISE)

            await agent_logs_in(anna.page, server, anna_email)
            await open_view(anna.page, "Unassigned")
            entry = conversation_entry(anna.page, "Unassigned", "Wo bleibt mein Paket?")
            chip = entry.locator(".due-chip")
            await expect(chip).to_have_text(re.compile(r"due in (59 min|1 h)"))
            await expect(chip).to_have_class(re.compile(r"\bdue-ok\b"))
            await screenshot(anna.page, "sla-inbox-due")

            # 80 % of the hour: the worker's job warns, the list turns amber and a toast says it
            clock.advance(timedelta(minutes=48))
            toast = anna.page.locator(".toast").filter(has_text="80 % of the promised time")
            await expect(toast).to_be_visible()
            await expect(chip).to_have_class(re.compile(r"\bdue-risk\b"))
            await expect(toast.get_by_role("link")).to_have_attribute(
                "href", f"#/inbox/unassigned/{cid}"
            )
            # the customer is told honestly, live, in the thread
            await expect(kim.page.locator(".promise-slot")).to_have_text(
                re.compile(r"This is taking a little longer — we still aim to answer by")
            )
            await screenshot(anna.page, "sla-inbox-warning")
            await screenshot(kim.page, "sla-messenger-at-risk")
