"""The contact card in the messenger and the agent's view of it (real Chromium).

The customer switches a topic on and sets quiet hours (the time zone defaults to the
browser's); the agent's open customer panel shows the allowed topics live, and a company
message for a topic the customer has not allowed is refused with a clear message.
"""

from __future__ import annotations

import os

from playwright.async_api import Browser, expect

from tests.harness import Server
from tests.test_inbox_browser import (
    agent_logs_in,
    beispiel_team,
    customer_signs_in,
    email_for,
    open_conversation,
    person,
)

SHOTS = os.environ.get("EYELEVEL_SCREENSHOTS")  # a directory: save screenshots there


async def test_contact_card_and_the_agents_view_of_it(server: Server, browser: Browser) -> None:
    team = await beispiel_team(server)
    kim_email = email_for("kim")
    kim = await server.customer(kim_email, name="Kim K.")
    started = await kim.start_conversation("beispiel", "Wann kommt mein Paket?")
    cid = int(started["conversation"]["id"])

    async with person(browser) as anna, person(browser) as customer:
        await agent_logs_in(anna.page, server, team.anna_email)
        await open_conversation(anna.page, server, cid)
        panel = anna.page.locator("#customer-panel")
        allowed = panel.locator(".contact-allowed dd").first  # the allowed topics
        await expect(allowed).to_have_text("Replies")

        # a news message without the customer's consent: refused, and the agent is told why
        await panel.get_by_text("New message to customer").click()
        await panel.get_by_role("combobox", name="Topic").select_option("news")
        await panel.get_by_role("textbox", name="Subject").fill("Neu im Sortiment")
        await panel.get_by_role("textbox", name="Message").fill("Schauen Sie mal rein!")
        await panel.get_by_role("button", name="Send").click()
        await expect(panel.get_by_role("alert")).to_contain_text("has not allowed")

        await customer.page.set_viewport_size({"width": 430, "height": 1600})
        await customer_signs_in(customer.page, server, kim_email)
        await customer.page.goto(f"{server.url}/#/company/beispiel")
        card = customer.page.locator("section.contact")
        await expect(
            card.get_by_role("heading", name="How Beispiel GmbH may contact me")
        ).to_be_visible()
        await expect(
            card.get_by_role("switch", name="Replies in my conversations")
        ).to_be_disabled()
        news = card.get_by_role("switch", name="News and offers")
        await news.check()
        await expect(news).to_be_checked()
        await expect(allowed).to_have_text("Replies, News")  # live in the open agent panel

        await card.get_by_role("switch", name="Quiet hours").check()
        zone = card.get_by_role("textbox", name="Time zone")
        browser_zone = await customer.page.evaluate(
            "Intl.DateTimeFormat().resolvedOptions().timeZone"
        )
        await expect(zone).to_have_value(browser_zone)
        await expect(card.get_by_label("From")).to_have_value("22:00")
        if SHOTS:
            await card.screenshot(path=f"{SHOTS}/contact-card-430.png")
            await panel.screenshot(path=f"{SHOTS}/agent-panel.png")

        ledger = (await kim.get("/api/v1/me/consents")).json()
        assert [(e["action"], e["field"]) for e in ledger[:2]] == [
            ("grant", "quiet_hours"),
            ("grant", "topic:news"),
        ]
