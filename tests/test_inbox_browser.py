"""The agent inbox at ``/app`` in a real browser: what agents, admins and customers do (issue 4).

Each test drives Debian's Chromium against a real server and records every request of every
page of its browser contexts: nothing may go anywhere but the eyelevel origin. Locators go by
role and accessible name, so a control that loses its label fails here too. What the UI shows
is checked against the API (the record), never the other way round. Screenshots land in
``artifacts/`` (git-ignored).
"""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from playwright.async_api import (
    APIResponse,
    Browser,
    BrowserContext,
    Locator,
    Page,
    Response,
    WebSocket,
    expect,
)

from eyelevel.clock import FakeClock
from eyelevel.core.entities import Role
from tests import backends
from tests.browser_support import (
    Requests,
    assert_accessible,
    recorded_context,
    screenshot,
    setup_company,
)
from tests.harness import PASSWORD, Client, Server, start_server

BERLIN = ZoneInfo("Europe/Berlin")
EN = {"locale": "en-GB", "timezone_id": "Europe/Berlin"}
DESKTOP = {"viewport": {"width": 1440, "height": 900}}
TIMEOUT_MS = 10_000
SIGN_OUT_MS = 5_000  # the bound for ending a deactivated agent's session


# -- one person at a browser ---------------------------------------------------------------


@dataclass
class Person:
    """A browser context with one page, its recorded requests, and the text of every WebSocket
    frame and every API response body its pages received."""

    context: BrowserContext
    page: Page
    requests: Requests
    frames: list[str] = field(default_factory=list)
    responses: list[tuple[str, str]] = field(default_factory=list)  # (url, body)

    def watch_wire(self) -> None:
        """Keep every WebSocket frame and every ``/api/`` response body this page receives."""

        def on_socket(ws: WebSocket) -> None:
            def on_frame(payload: str | bytes) -> None:
                text = payload if isinstance(payload, str) else payload.decode("utf-8", "replace")
                self.frames.append(text)

            ws.on("framereceived", on_frame)

        async def on_response(response: Response) -> None:
            if "/api/" not in response.url:
                return
            with contextlib.suppress(Exception):  # a body already gone (navigation) is no text
                self.responses.append((response.url, await response.text()))

        self.page.on("websocket", on_socket)
        self.page.on("response", on_response)


@contextlib.asynccontextmanager
async def person(browser: Browser, **options: Any) -> AsyncIterator[Person]:
    requests = Requests()
    context = await recorded_context(browser, requests, **{**EN, **DESKTOP, **options})
    context.set_default_timeout(TIMEOUT_MS)
    page = await context.new_page()
    try:
        yield Person(context, page, requests)
    finally:
        await context.close()


def assert_same_origin(who: Person, *servers: Server) -> None:
    origins = [s.url for s in servers]
    assert who.requests.urls, "the recorder saw no request at all"
    assert who.requests.foreign(*origins) == [], who.requests.foreign(*origins)


async def csrf_headers(context: BrowserContext) -> dict[str, str]:
    """The header the API wants with an unsafe request made with the context's session."""
    cookies = {c["name"]: c["value"] for c in await context.cookies()}
    return {"x-csrf-token": cookies["eyelevel_csrf"]}


async def problem(response: APIResponse) -> dict[str, Any]:
    assert response.headers["content-type"].startswith("application/problem+json"), (
        response.headers,
        await response.text(),
    )
    return dict(await response.json())


# -- the customer (the messenger at /) -----------------------------------------------------


def thread(page: Page) -> Locator:
    return page.get_by_role("list", name="Messages")


def message(page: Page, text: str) -> Locator:
    return thread(page).get_by_role("listitem").filter(has_text=text)


async def customer_signs_in(page: Page, server: Server, email: str) -> None:
    await page.goto(f"{server.url}/")
    await page.get_by_label("Email address").fill(email)
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", name="Messages", level=1)).to_be_visible()


async def customer_writes_first(page: Page, server: Server, slug: str, text: str) -> int:
    """Starts a conversation with ``slug`` from the messenger; returns its id."""
    await page.goto(f"{server.url}/#/new/{slug}")
    box = page.get_by_role("textbox", name="Message")
    await box.fill(text)
    await box.press("Enter")
    await expect(page).to_have_url(re.compile(r"#/chat/\d+$"))
    await expect(message(page, text).get_by_text("Sent", exact=True)).to_be_visible()
    return int(page.url.rsplit("/", 1)[1])


# -- the agent inbox (/app): its vocabulary in one place ----------------------------------


def views(page: Page) -> Locator:
    """The sidebar's list of views: Mine, Unassigned, my teams, All, Mentions."""
    nav = page.get_by_role("navigation", name="Inbox navigation")
    return nav.get_by_role("list", name="Views", exact=True)


def view(page: Page, name: str) -> Locator:
    """A view's link; its accessible name is the view's name, then its live count."""
    return views(page).get_by_role("link", name=re.compile(rf"^{re.escape(name)}(?![A-Za-z])"))


def counted(name: str, n: int) -> re.Pattern[str]:
    """The accessible name of a view's link when its count is ``n``."""
    return re.compile(rf"^{re.escape(name)}\s*{n}$")


def conversations(page: Page, title: str) -> Locator:
    """The middle column's list; it is named by the view's (or the search's) heading."""
    return page.get_by_role("list", name=title, exact=True)


def conversation_entry(page: Page, title: str, text: str) -> Locator:
    return conversations(page, title).get_by_role("listitem").filter(has_text=text)


def reply_box(page: Page) -> Locator:
    return page.get_by_role("textbox", name="Reply to the customer")


def note_box(page: Page) -> Locator:
    return page.get_by_role("textbox", name="Private note — the customer does not see this")


def write_as(page: Page, mode: str) -> Locator:
    """The composer's mode buttons: "Reply" or "Private note"."""
    return page.get_by_role("group", name="Write as").get_by_role("button", name=mode)


def status_of(page: Page) -> Locator:
    """The open conversation's status as its header shows it (a visual pill with no role of
    its own; the same word is also announced when it changes)."""
    return page.locator(".conv-subtitle .status-pill")


def sign_in_heading(page: Page) -> Locator:
    return page.get_by_role("heading", name="Sign in to the inbox")


async def agent_signs_in(page: Page, server: Server, email: str) -> None:
    """Through the sign-in form at /app."""
    await page.goto(f"{server.url}/app")
    await expect(sign_in_heading(page)).to_be_visible()
    await page.get_by_label("Email address").fill(email)
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(views(page)).to_be_visible()


async def agent_logs_in(page: Page, server: Server, email: str) -> None:
    """With the session cookie from the API's login, then /app."""
    r = await page.request.post(
        f"{server.url}/api/v1/auth/login",
        data={"kind": "agent", "email": email, "password": PASSWORD},
    )
    assert r.status == 200, await r.text()
    await page.goto(f"{server.url}/app")
    await expect(views(page)).to_be_visible()


async def open_view(page: Page, name: str) -> None:
    await view(page, name).click()
    await expect(view(page, name)).to_have_attribute("aria-current", "page")


async def open_conversation(page: Page, server: Server, conversation_id: int) -> None:
    await page.goto(f"{server.url}/app#/inbox/mine/{conversation_id}")
    await expect(thread(page).get_by_role("listitem").first).to_be_visible()


def snooze_dialog(page: Page) -> Locator:
    return page.get_by_role("dialog", name="Snooze until")


async def snooze_in_ui(page: Page, until: datetime) -> None:
    """The conversation's snooze dialog, a date and time typed in (the page's own zone)."""
    await page.get_by_role("group", name="Actions").get_by_role("button", name="Snooze…").click()
    dialog = snooze_dialog(page)
    local = until.astimezone(BERLIN).strftime("%Y-%m-%dT%H:%M")
    await dialog.get_by_label("Date and time").fill(local)
    await dialog.get_by_role("button", name="Snooze", exact=True).click()


# -- API checks (the record) ---------------------------------------------------------------


async def conversation_of(agent: Client, conversation_id: int) -> dict[str, Any]:
    r = await agent.get(f"/api/v1/conversations/{conversation_id}")
    assert r.status_code == 200, r.text
    return dict(r.json())


def email_for(who: str) -> str:
    return f"{who}-{uuid.uuid4().hex[:8]}@example.com"


@dataclass
class Team:
    company_slug: str
    admin: Client
    anna: Client
    ben: Client
    anna_email: str
    ben_email: str


async def beispiel_team(server: Server) -> Team:
    company = await setup_company(server)
    anna_email, ben_email = email_for("anna"), email_for("ben")
    admin = await server.agent(company, email_for("chef"), role=Role.ADMIN, name="Clara Chefin")
    anna = await server.agent(company, anna_email, name="Anna Agent")
    ben = await server.agent(company, ben_email, name="Ben Berater")
    return Team(company.slug, admin, anna, ben, anna_email, ben_email)


# -- 1: live unassigned, take it, reply, the customer sees it -----------------------------


async def test_new_message_reaches_both_agents_live_one_takes_it_and_the_customer_sees_the_reply(
    server: Server, browser: Browser
) -> None:
    team = await beispiel_team(server)
    customer_email = email_for("kunde")
    await server.customer(customer_email, name="Kim Kunde")
    first = "Mein Wasserkocher W-200 schaltet nicht mehr ab."
    reply = "Das klingt nach dem Thermostat – wir schicken Ihnen ein Ersatzgerät."

    async with person(browser) as a1, person(browser) as a2, person(browser) as kim:
        await agent_signs_in(a1.page, server, team.anna_email)  # the sign-in form
        await agent_logs_in(a2.page, server, team.ben_email)
        for agent in (a1, a2):
            await open_view(agent.page, "Unassigned")
            await expect(view(agent.page, "Unassigned")).to_have_accessible_name(
                counted("Unassigned", 0)
            )
            await agent.page.evaluate("() => { window.notReloaded = true; }")
        await customer_signs_in(kim.page, server, customer_email)

        # the customer writes; both agents see it in Unassigned without a reload
        conversation_id = await customer_writes_first(kim.page, server, "beispiel", first)
        for agent in (a1, a2):
            entry = conversation_entry(agent.page, "Unassigned", "W-200")
            await expect(entry).to_be_visible()
            await expect(entry).to_contain_text("Kim Kunde")
            await expect(view(agent.page, "Unassigned")).to_have_accessible_name(
                counted("Unassigned", 1)
            )

        # agent 1 takes it: it leaves agent 2's Unassigned, live
        await conversation_entry(a1.page, "Unassigned", "W-200").get_by_role("link").click()
        await expect(message(a1.page, first)).to_be_visible()
        await (
            a1.page.get_by_role("group", name="Actions")
            .get_by_role("button", name="Assign to me")
            .click()
        )
        await expect(a1.page.get_by_text("Owner: Anna Agent")).to_be_visible()
        await expect(conversation_entry(a2.page, "Unassigned", "W-200")).to_have_count(0)
        await expect(view(a2.page, "Unassigned")).to_have_accessible_name(counted("Unassigned", 0))
        owner = (await conversation_of(team.ben, conversation_id))["owner"]
        assert owner == {"type": "agent", "id": team.anna.id}, owner

        # it is in agent 1's Mine; the reply goes out with Enter and reaches the customer live
        await open_view(a1.page, "Mine")
        await expect(view(a1.page, "Mine")).to_have_accessible_name(counted("Mine", 1))
        await conversation_entry(a1.page, "Mine", "W-200").get_by_role("link").click()
        await expect(message(a1.page, first)).to_be_visible()
        await kim.page.evaluate("() => { window.notReloaded = true; }")
        await reply_box(a1.page).fill(reply)
        await reply_box(a1.page).press("Enter")
        await expect(message(a1.page, reply)).to_be_visible()
        await expect(message(kim.page, reply)).to_be_visible()
        await expect(message(kim.page, reply)).to_contain_text("Anna")
        for who in (a2, kim):
            assert await who.page.evaluate("() => window.notReloaded === true"), "reloaded"
        stored = await team.anna.get(f"/api/v1/conversations/{conversation_id}/messages")
        assert [(m["kind"], m["body"]) for m in stored.json()["items"]] == [
            ("customer", first),
            ("agent", reply),
        ]

        for who in (a1, a2, kim):
            assert_same_origin(who, server)
            assert any(u.startswith("ws://") for u in who.requests.urls), "no live connection"


# -- 2: a private note with an @mention ----------------------------------------------------


async def write_note_mentioning(page: Page, before: str, colleague: str, after: str) -> None:
    """Switch the composer to a private note, type ``before``, pick ``colleague`` from the
    @-suggestions, type ``after`` and add the note with Enter."""
    await write_as(page, "Private note").click()
    await expect(write_as(page, "Private note")).to_have_attribute("aria-pressed", "true")
    box = note_box(page)
    await box.fill(before)
    await box.press_sequentially(" @" + colleague[:3])
    suggestions = page.get_by_role("listbox", name="Suggestions")
    await suggestions.get_by_role("option", name=re.compile(f"^{re.escape(colleague)}")).click()
    await expect(box).to_have_value(re.compile(re.escape(f"@{colleague} ")))
    await box.press_sequentially(after)
    await box.press("Enter")


async def replay_as_customer(page: Page, marker: str) -> list[str]:
    """Opens a second socket in the customer's page that asks for everything since the start
    of the stream (the catch-up after a reconnect), and returns its frames up to the one that
    contains ``marker``."""
    frames: list[str] = await page.evaluate(
        """(marker) => new Promise((resolve, reject) => {
            const url = new URL("/api/v1/ws?since=0", location.href);
            url.protocol = "ws:";
            const ws = new WebSocket(url);
            const got = [];
            const timer = setTimeout(() => { ws.close(); reject(new Error(got.join("\\n"))); },
                                     8000);
            ws.onmessage = (e) => {
                got.push(e.data);
                if (e.data.includes(marker)) { clearTimeout(timer); ws.close(); resolve(got); }
            };
        })""",
        marker,
    )
    return frames


async def test_private_note_mention_notifies_the_colleague_live_and_never_reaches_the_customer(
    server: Server, browser: Browser
) -> None:
    team = await beispiel_team(server)
    customer_email = email_for("kunde")
    kim_api = await server.customer(customer_email, name="Kim Kunde")
    started = await kim_api.start_conversation("beispiel", "Ich habe die Rechnung doppelt bezahlt.")
    conversation_id = started["conversation"]["id"]
    secret = f"NOTE{uuid.uuid4().hex[:10]}"  # ASCII: the same bytes in HTML, JSON and frames
    marker = f"REPLY{uuid.uuid4().hex[:6]}"
    reply = f"Wir prüfen das sofort. {marker}"

    async with person(browser) as a1, person(browser) as a2, person(browser) as kim:
        kim.watch_wire()
        await customer_signs_in(kim.page, server, customer_email)
        await kim.page.goto(f"{server.url}/#/chat/{conversation_id}")
        await expect(message(kim.page, "doppelt bezahlt")).to_be_visible()

        a2.watch_wire()
        await agent_logs_in(a2.page, server, team.ben_email)
        await expect(view(a2.page, "Mentions")).to_have_accessible_name(counted("Mentions", 0))
        await agent_signs_in(a1.page, server, team.anna_email)
        await open_conversation(a1.page, server, conversation_id)
        await write_note_mentioning(a1.page, f"{secret} Zahlung prüfen,", "Ben Berater", "bitte!")

        # the note shows as a note for the company, distinct from a reply
        note = thread(a1.page).get_by_role("article", name="Private note by Anna Agent")
        await expect(note).to_contain_text(secret)
        await expect(note.get_by_text("@Ben Berater")).to_be_visible()

        # Ben is told at once; the conversation is in his Mentions
        toast = a2.page.get_by_role("region", name="Notifications").get_by_role(
            "group", name="Anna Agent mentioned you"
        )
        await expect(toast).to_be_visible()
        await expect(view(a2.page, "Mentions")).to_have_accessible_name(counted("Mentions", 1))
        await toast.get_by_role("link", name="Open the conversation").click()
        await expect(view(a2.page, "Mentions")).to_have_attribute("aria-current", "page")
        await expect(conversation_entry(a2.page, "Mentions", "Kim Kunde")).to_be_visible()
        await expect(message(a2.page, secret)).to_be_visible()

        # the record: a note, and it is in Ben's mentions
        r = await team.ben.get("/api/v1/conversations", params={"mentions": "true"})
        assert r.status_code == 200, r.text
        assert [c["id"] for c in r.json()["items"]] == [conversation_id]
        stored = await team.anna.get(f"/api/v1/conversations/{conversation_id}/messages")
        notes = [m for m in stored.json()["items"] if secret in m["body"]]
        assert [n["kind"] for n in notes] == ["note"], notes

        # a reply after the note: once the customer has it, a leaked note would be there too
        await write_as(a1.page, "Reply").click()
        await reply_box(a1.page).fill(reply)
        await reply_box(a1.page).press("Enter")
        await expect(message(kim.page, reply)).to_be_visible()
        await kim.page.reload()
        await expect(message(kim.page, reply)).to_be_visible()
        catch_up = await replay_as_customer(kim.page, marker)

        # never in the customer's page, frames, or API answers
        assert secret not in await kim.page.content()
        assert secret not in await kim.page.evaluate("() => document.body.innerText")
        assert any(marker in f for f in kim.frames), kim.frames  # the recorder works
        assert any(marker in f for f in catch_up), catch_up
        assert [f for f in kim.frames if secret in f] == []
        assert any(secret in f for f in a2.frames), "the note never went over Ben's socket"
        asked = {url.split("?")[0] for url in kim.requests.urls}
        assert f"{server.url}/api/v1/conversations/{conversation_id}/messages" in asked, asked
        for path in (
            f"/api/v1/conversations/{conversation_id}/messages",
            f"/api/v1/conversations/{conversation_id}",
            "/api/v1/conversations",
        ):
            r2 = await kim.page.request.get(f"{server.url}{path}")
            assert r2.status == 200, await r2.text()
            kim.responses.append((f"{server.url}{path}", await r2.text()))
        assert [url for url, body in kim.responses if secret in body] == []
        for who in (a1, a2, kim):
            assert_same_origin(who, server)


# -- 3: snooze with a controllable clock, across a restart --------------------------------


def minute(t: datetime) -> datetime:
    return t.replace(second=0, microsecond=0)


async def status_in_api(agent: Client, conversation_id: int, status: str) -> dict[str, Any]:
    """The conversation, asserted to have ``status`` (the UI said so first: the record)."""
    conversation = await conversation_of(agent, conversation_id)
    assert conversation["status"] == status, conversation
    return conversation


async def test_snoozed_conversation_reopens_at_its_time_also_after_a_restart(
    db_url: str, tmp_path: Path, browser: Browser
) -> None:
    # the server's clock starts at the browser's time, so the UI's own checks agree with it
    clock = FakeClock(datetime.now(UTC).replace(microsecond=0))
    async with person(browser) as anna:
        async with start_server(db_url, tmp_path, clock=clock) as server:
            team = await beispiel_team(server)
            kim = await server.customer(name="Kim Kunde")
            first = await kim.start_conversation("beispiel", "Melden Sie sich morgen?")
            second = await kim.start_conversation("beispiel", "Und übermorgen der Termin?")
            first_id = first["conversation"]["id"]
            second_id = second["conversation"]["id"]
            await agent_signs_in(anna.page, server, team.anna_email)

            # snooze the first until tomorrow; the clock passes that time: it reopens, live
            await open_conversation(anna.page, server, first_id)
            await expect(status_of(anna.page)).to_have_text("Open")
            until = minute(clock.now() + timedelta(days=1, hours=1))
            await snooze_in_ui(anna.page, until)
            await expect(status_of(anna.page)).to_have_text("Snoozed")
            snoozed = await status_in_api(team.anna, first_id, "snoozed")
            assert datetime.fromisoformat(snoozed["snoozed_until"]) == until, snoozed
            # a minute before its time the worker runs jobs (each signup's mail is one; the
            # second starts after the first batch is done) and leaves it snoozed
            clock.advance(until - clock.now() - timedelta(minutes=1))
            for _ in range(2):
                await server.customer()
            await status_in_api(team.anna, first_id, "snoozed")
            await expect(status_of(anna.page)).to_have_text("Snoozed")
            clock.advance(timedelta(minutes=1, seconds=1))
            await expect(status_of(anna.page)).to_have_text("Open")
            reopened = await status_in_api(team.anna, first_id, "open")
            assert reopened["snoozed_until"] is None, reopened

            # snooze the second, then stop the server before its time comes
            await open_conversation(anna.page, server, second_id)
            until = minute(clock.now() + timedelta(days=2))
            await snooze_in_ui(anna.page, until)
            await expect(status_of(anna.page)).to_have_text("Snoozed")
            await status_in_api(team.anna, second_id, "snoozed")
            first_server = server.url
            await anna.page.goto("about:blank")  # no socket holds the old server open

        # a new server process on the same database and data directory: the timer is there
        async with start_server(db_url, tmp_path, clock=clock) as server:
            assert server.url != first_server
            await open_conversation(anna.page, server, second_id)  # cookies ignore the port
            await expect(status_of(anna.page)).to_have_text("Snoozed")
            clock.advance(until - clock.now() + timedelta(seconds=1))
            await expect(status_of(anna.page)).to_have_text("Open")
            agent = server.client("agent")
            r = await agent.post(
                "/api/v1/auth/login",
                {"kind": "agent", "email": team.anna_email, "password": PASSWORD},
            )
            assert r.status_code == 200, r.text
            assert (await status_in_api(agent, second_id, "open"))["snoozed_until"] is None
            await status_in_api(agent, first_id, "open")
            assert anna.requests.foreign(first_server, server.url) == []


# -- 4: deactivation ends the agent's browser session --------------------------------------


async def test_deactivating_an_agent_ends_their_open_browser_session_within_5_seconds(
    server: Server, browser: Browser
) -> None:
    team = await beispiel_team(server)
    admin_email = email_for("admin")
    company = await server.company("beispiel")
    await server.agent(company, admin_email, role=Role.ADMIN, name="Dora Admin")

    async with person(browser) as admin, person(browser) as ben:
        async with ben.page.expect_websocket() as opened:
            await agent_logs_in(ben.page, server, team.ben_email)
        socket = await opened.value
        r = await ben.page.request.get(f"{server.url}/api/v1/auth/me")
        assert r.status == 200, await r.text()

        await agent_signs_in(admin.page, server, admin_email)
        admin_nav = admin.page.get_by_role("navigation", name="Inbox navigation")
        await (
            admin_nav.get_by_role("list", name="Administration")
            .get_by_role("link", name="Agents")
            .click()
        )
        row = admin.page.get_by_role("row").filter(has_text="Ben Berater")
        await expect(row).to_be_visible()
        await row.get_by_role("button", name="Deactivate Ben Berater").click()
        confirm = admin.page.get_by_role("dialog", name="Deactivate Ben Berater?")
        await confirm.get_by_role("button", name="Deactivate", exact=True).click()

        # within 5 s of the admin's confirmation: Ben's page is signed out, its socket closed
        await expect(sign_in_heading(ben.page)).to_be_visible(timeout=SIGN_OUT_MS)
        await expect(views(ben.page)).to_have_count(0)
        if not socket.is_closed():
            await socket.wait_for_event("close", timeout=1_000)

        # and nothing of the session works any more
        r = await ben.page.request.get(f"{server.url}/api/v1/auth/me")
        assert r.status == 401, await r.text()
        assert (await problem(r))["code"] == "unauthenticated"
        assert (await team.ben.get("/api/v1/auth/me")).status_code == 401  # his other session
        staff = (await team.anna.get("/api/v1/companies/beispiel/staff")).json()
        ben_row = next(a for a in staff["agents"] if a["id"] == team.ben.id)
        assert ben_row["active"] is False, ben_row
        await expect(row).to_contain_text("Deactivated")
        for who in (admin, ben):
            assert_same_origin(who, server)


# -- 5: search -----------------------------------------------------------------------------


async def test_search_finds_a_message_by_german_word_form_or_prefix(
    server: Server, browser: Browser
) -> None:
    team = await beispiel_team(server)
    kim = await server.customer(name="Kim Kunde")
    hit = (await kim.start_conversation("beispiel", "Anbei die Rechnung für die Reparatur."))[
        "conversation"
    ]["id"]
    await kim.start_conversation("beispiel", "Wann kommt mein Paket?")
    await kim.start_conversation("stadtwerke", "Die Rechnung der Stadtwerke ist zu hoch.")
    # PostgreSQL: German stemming; SQLite: FTS5 prefix matching
    query = "Rechnungen" if backends.BACKEND == "postgres" else "Rechn"

    async with person(browser) as anna:
        await agent_logs_in(anna.page, server, team.anna_email)
        box = anna.page.get_by_role("search", name="Search").get_by_role(
            "searchbox", name="Search conversations"
        )
        await box.fill(query)
        await box.press("Enter")
        results = conversations(anna.page, "Search results")
        await expect(results.get_by_role("listitem")).to_have_count(1)
        found = results.get_by_role("listitem")
        await expect(found).to_contain_text("Rechnung für die Reparatur")
        await expect(found).to_contain_text("Kim Kunde")
        await found.get_by_role("link").click()
        await expect(anna.page).to_have_url(re.compile(rf"/app#/search/{hit}\?"))
        await expect(message(anna.page, "Anbei die Rechnung")).to_be_visible()
        assert_same_origin(anna, server)

    r = await team.anna.get("/api/v1/companies/beispiel/search", params={"q": query})
    assert r.status_code == 200, r.text
    assert [i["conversation_id"] for i in r.json()["items"]] == [hit]


# -- 6: bad input --------------------------------------------------------------------------


async def test_bad_input_is_refused_with_clear_errors_and_changes_nothing(
    server: Server, browser: Browser
) -> None:
    team = await beispiel_team(server)
    stadtwerke = await server.company("stadtwerke")
    outsider = await server.agent(stadtwerke, role=Role.ADMIN, name="Otto Fremd")
    r = await outsider.post(
        "/api/v1/companies/stadtwerke/labels", {"name": "Strom", "color": "#aa3300"}
    )
    assert r.status_code == 201, r.text
    foreign_label = r.json()["id"]
    r = await team.admin.post(
        "/api/v1/companies/beispiel/labels", {"name": "Rechnung", "color": "#0055aa"}
    )
    assert r.status_code == 201, r.text
    own_label = r.json()["id"]
    kim = await server.customer(name="Kim Kunde")
    conversation_id = (await kim.start_conversation("beispiel", "Wo bleibt mein Geld?"))[
        "conversation"
    ]["id"]
    before = await conversation_of(team.anna, conversation_id)

    async with person(browser) as anna:
        await agent_logs_in(anna.page, server, team.anna_email)
        await open_conversation(anna.page, server, conversation_id)
        headers = await csrf_headers(anna.context)
        base = f"{server.url}/api/v1/conversations/{conversation_id}"

        # the UI offers neither; the API refuses both for the agent's own session
        r = await anna.page.request.post(
            f"{base}/assignment", data={"agent_id": outsider.id}, headers=headers
        )
        assert r.status == 422, await r.text()
        assert (await problem(r))["code"] == "invalid_owner"
        for label_ids in ([foreign_label], [own_label, foreign_label]):
            r = await anna.page.request.put(
                f"{base}/labels", data={"label_ids": label_ids}, headers=headers
            )
            assert r.status == 422, await r.text()
            assert (await problem(r))["code"] == "invalid_label"

        # snoozing into the past in the UI: a clear message, the conversation stays open
        await snooze_in_ui(anna.page, datetime.now(UTC) - timedelta(hours=1))
        alert = snooze_dialog(anna.page).get_by_role("alert")
        await expect(alert).to_have_text("Choose a time in the future.")
        await snooze_dialog(anna.page).get_by_role("button", name="Cancel").click()
        await expect(snooze_dialog(anna.page)).to_have_count(0)
        await expect(status_of(anna.page)).to_have_text("Open")
        # and the API, asked directly with the same session, refuses it too
        past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
        r = await anna.page.request.post(
            f"{base}/status", data={"status": "snoozed", "snoozed_until": past}, headers=headers
        )
        assert r.status == 422, await r.text()
        assert (await problem(r)).get("field") == "snoozed_until"
        assert_same_origin(anna, server)

    # (opening it moved the read marker; that is all that may differ)
    after = await conversation_of(team.anna, conversation_id)
    kept = ("status", "owner", "snoozed_until", "labels", "last_seq", "waiting_since")
    assert {k: after.get(k) for k in kept} == {k: before.get(k) for k in kept}
    assert after["status"] == "open" and after["owner"] is None and after["snoozed_until"] is None
    assert after["labels"] == []


# -- 7: accessibility and screenshots ------------------------------------------------------


async def test_inbox_conversation_and_admin_pages_have_no_serious_accessibility_violations(
    server: Server, browser: Browser
) -> None:
    team = await beispiel_team(server)
    r = await team.admin.post(
        "/api/v1/companies/beispiel/labels", {"name": "Rechnung", "color": "#0055aa"}
    )
    assert r.status_code == 201, r.text
    label_id = r.json()["id"]
    kim = await server.customer(name="Kim Kunde")
    conversation_id = (
        await kim.start_conversation("beispiel", "Meine Spülmaschine pumpt nicht ab.")
    )["conversation"]["id"]
    await kim.start_conversation("beispiel", "Haben Sie das Ersatzteil E-17 vorrätig?")
    r = await team.anna.send(conversation_id, "Ist das Sieb frei?")
    assert r.status_code == 201, r.text
    r = await team.anna.send(
        conversation_id, "Vermutlich die Pumpe, @Ben Berater?", note=True, mentions=[team.ben.id]
    )
    assert r.status_code == 201, r.text
    r = await team.anna.http.put(
        f"/api/v1/conversations/{conversation_id}/labels", json={"label_ids": [label_id]}
    )
    assert r.status_code == 200, r.text

    admin_email = email_for("admin")
    company = await server.company("beispiel")
    await server.agent(company, admin_email, role=Role.ADMIN, name="Dora Admin")
    # the tokens page lists one with its scopes
    await server.token_client(company, "Shop", scopes=["conversations:read", "messages:write"])
    async with person(browser) as admin:
        page = admin.page
        await page.goto(f"{server.url}/app")
        await expect(sign_in_heading(page)).to_be_visible()
        await assert_accessible(page, "the sign-in page")
        await agent_signs_in(page, server, admin_email)
        await open_view(page, "All")
        await expect(conversation_entry(page, "All", "E-17")).to_be_visible()
        await assert_accessible(page, "the inbox")
        await screenshot(page, "agent-inbox")

        await conversation_entry(page, "All", "Vermutlich die Pumpe").get_by_role("link").click()
        await expect(message(page, "Vermutlich die Pumpe")).to_be_visible()
        await assert_accessible(page, "a conversation")
        await screenshot(page, "agent-conversation")
        actions = page.get_by_role("group", name="Actions")
        await actions.get_by_role("button", name="Snooze…").click()
        await expect(snooze_dialog(page)).to_be_visible()
        await assert_accessible(page, "the snooze dialog")
        await snooze_dialog(page).get_by_role("button", name="Cancel").click()
        await expect(snooze_dialog(page)).to_have_count(0)

        nav = page.get_by_role("navigation", name="Inbox navigation")
        sections = nav.get_by_role("list", name="Administration").get_by_role("link")
        names = [n.strip() for n in await sections.all_inner_texts()]
        assert len(names) >= 5, names  # profile, teams, agents, labels, tokens, audit log
        for i, name in enumerate(names):
            await sections.nth(i).click()
            await expect(sections.nth(i)).to_have_attribute("aria-current", "page")
            await expect(page.get_by_role("heading", name=name, level=1)).to_be_visible()
            await assert_accessible(page, f"the admin page {name!r}")
            slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
            await screenshot(page, "agent-admin" if i == 0 else f"agent-admin-{slug}")

        # the agent's own pages: canned responses and the account (sessions, second factor)
        await nav.get_by_role("link", name="Canned responses").click()
        await expect(page.get_by_role("heading", name="Canned responses", level=1)).to_be_visible()
        await assert_accessible(page, "the canned responses page")
        await page.get_by_role("link", name="My account").click()
        await expect(page.get_by_role("heading", name="My account", level=1)).to_be_visible()
        await assert_accessible(page, "the account page")
        await screenshot(page, "agent-account")
        assert_same_origin(admin, server)
