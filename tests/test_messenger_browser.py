"""The customer messenger in a real browser: what a person does at ``/`` and in the widget.

Each test drives Debian's Chromium against a real server (the ``server`` fixture) and records
every request of every page, frame and service worker of its browser contexts: nothing may go
anywhere but the eyelevel origin (the widget test also allows its host page's own document).
Locators go by role and accessible name, so a control that loses its label fails here too.
Screenshots land in ``artifacts/`` (git-ignored).
"""

from __future__ import annotations

import asyncio
import io
import re
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from PIL import Image
from playwright.async_api import (
    Browser,
    BrowserContext,
    FilePayload,
    FrameLocator,
    Locator,
    Page,
    Route,
    expect,
)

from tests.browser_support import (
    Requests,
    assert_accessible,
    assert_no_horizontal_scroll,
    host_page,
    recorded_context,
    screenshot,
    setup_company,
)
from tests.harness import PASSWORD, Client, Server, all_messages

T = TypeVar("T")
PHONE = {"is_mobile": True, "has_touch": True, "device_scale_factor": 2}
EN = {"locale": "en-GB", "timezone_id": "Europe/Berlin"}
DE = {"locale": "de-DE", "timezone_id": "Europe/Berlin"}
TIMEOUT_MS = 10_000


# -- helpers -------------------------------------------------------------------------------


def gps_photo() -> bytes:
    """A JPEG that says where and with what it was taken (camera make and GPS in EXIF)."""
    img = Image.new("RGB", (640, 480), (200, 60, 40))
    for x in range(0, 640, 40):  # some structure, so the re-encoded file is a real picture
        img.paste((30, 90, 200), (x, 0, x + 20, 480))
    exif = Image.Exif()
    exif[0x010F] = "Canon"
    exif[0x8825] = {1: "N", 2: (52.0, 31.0, 0.0)}
    buf = io.BytesIO()
    img.save(buf, "JPEG", exif=exif.tobytes())
    data = buf.getvalue()
    assert b"Canon" in data and Image.open(io.BytesIO(data)).getexif().get_ifd(0x8825)
    return data


def assert_no_exif(data: bytes, what: str) -> None:
    assert b"Canon" not in data, f"{what} still names the camera"
    exif = Image.open(io.BytesIO(data)).getexif()
    assert 0x8825 not in exif and not exif.get_ifd(0x8825), f"{what} still has GPS: {dict(exif)}"
    assert len(exif) == 0, f"{what} still has EXIF: {dict(exif)}"


def new_email() -> str:
    return f"kunde-{uuid.uuid4().hex[:8]}@example.org"


def stored_files(server: Server) -> list[Path]:
    root = server.settings.data_dir / "files"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


async def eventually(
    probe: Callable[[], Awaitable[T | None]], what: str, timeout: float = 5.0
) -> T:
    """The first truthy answer of ``probe``, asked again until ``timeout`` seconds have passed."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        found = await probe()
        if found:
            return found
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def new_page(context: BrowserContext) -> Page:
    page = await context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    return page


def assert_same_origin(requests: Requests, server: Server, *also: str) -> None:
    assert requests.urls, "the recorder saw no request at all"
    assert requests.foreign(server.url, *also) == [], requests.foreign(server.url, *also)


def thread(scope: Page | FrameLocator) -> Locator:
    return scope.get_by_role("list", name="Messages")


def message(scope: Page | FrameLocator, text: str) -> Locator:
    """The entry of the thread that shows ``text``."""
    return thread(scope).get_by_role("listitem").filter(has_text=text)


def sent(scope: Page | FrameLocator, text: str) -> Locator:
    """The delivery state "Sent" of the own message that shows ``text``."""
    return message(scope, text).get_by_text("Sent", exact=True)


def composer_box(page: Page) -> Locator:
    return page.get_by_role("textbox", name="Message")


async def refused(page: Page, text: str) -> None:
    """The composer's alert is on screen and says ``text``."""
    alert = page.get_by_role("alert").filter(has_text=re.compile(r"\S"))
    await expect(alert).to_have_text(text)
    await expect(alert).to_be_visible()


async def sign_in(page: Page, server: Server, email: str, password: str = PASSWORD) -> None:
    await page.goto(f"{server.url}/")
    await page.get_by_label("Email address").fill(email)
    await page.get_by_label("Password", exact=True).fill(password)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", name="Messages", level=1)).to_be_visible()


async def write(page: Page, text: str) -> None:
    box = composer_box(page)
    await box.fill(text)
    await box.press("Enter")


async def attach(page: Page, payload: FilePayload | Path) -> None:
    async with page.expect_file_chooser() as chooser:
        await page.get_by_role("button", name="Add a photo or PDF").click()
    await (await chooser.value).set_files(payload)


async def open_chat(page: Page, server: Server, conversation_id: int) -> None:
    await page.goto(f"{server.url}/#/chat/{conversation_id}")
    await expect(thread(page)).to_be_visible()


async def conversation_of(agent: Client, conversation_id: int) -> dict[str, Any]:
    r = await agent.get(f"/api/v1/conversations/{conversation_id}")
    assert r.status_code == 200, r.text
    return dict(r.json())


async def bodies(agent: Client, conversation_id: int) -> list[str]:
    return [m["body"] for m in await all_messages(agent.http, conversation_id)]


# -- 1: sign up, find the company, write, send a photo, get an answer live -----------------


async def test_new_customer_signs_up_writes_sends_a_photo_and_gets_a_live_answer(
    server: Server, browser: Browser
) -> None:
    company = await setup_company(server)
    agent = await server.agent(company, name="Anna Agent")
    requests = Requests()
    context = await recorded_context(browser, requests, **EN)
    page = await new_page(context)
    email = f"neu-{uuid.uuid4().hex[:8]}@example.org"

    # sign up at /
    await page.goto(f"{server.url}/")
    await page.get_by_role("link", name="Create an account").click()
    await page.get_by_label("Your name").fill("Nora Neu")
    await page.get_by_label("Email address").fill(email)
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="Create account").click()
    await expect(page.get_by_role("heading", name="Check your mail")).to_be_visible()

    # the link from the mail, opened in the same browser
    token = await server.mail_token(email, r"/verify\?token=(\S+)")
    await page.goto(f"{server.url}/verify?token={token}")
    await page.get_by_role("button", name="Confirm now").click()
    await expect(page.get_by_text("Your email address is confirmed")).to_be_visible()
    await page.get_by_role("link", name="Open the messenger").click()
    await expect(page.get_by_role("heading", name="Messages", level=1)).to_be_visible()
    await expect(page.get_by_role("heading", name="Check your mail")).to_have_count(0)

    # find the company by name, open its card
    await page.get_by_role("link", name="New conversation").click()
    await page.get_by_role("searchbox", name="Company name").fill("beisp")
    hit = page.get_by_role("link", name=re.compile("Beispiel GmbH"))
    await expect(hit).to_have_count(1)
    await expect(page.get_by_role("link", name=re.compile("Stadtwerke"))).to_have_count(0)
    await hit.click()
    await expect(page.get_by_role("heading", name="Beispiel GmbH", level=1)).to_be_visible()
    await expect(page.get_by_role("link", name=re.compile(r"\+49 30 1234567"))).to_have_attribute(
        "href", "tel:+49301234567"
    )
    await page.get_by_role("link", name="Start a new conversation").click()

    # write the first message: the conversation starts
    await write(page, "Mein Toaster ist kaputt.")
    await expect(page).to_have_url(re.compile(r"#/chat/\d+$"))
    conversation_id = int(page.url.rsplit("/", 1)[1])
    await expect(sent(page, "Mein Toaster ist kaputt.")).to_be_visible()

    # a photo with GPS data
    await attach(page, {"name": "toaster.jpg", "mimeType": "image/jpeg", "buffer": gps_photo()})
    await expect(page.get_by_role("img", name="Preview of toaster.jpg")).to_be_visible()
    await composer_box(page).fill("So sieht er aus")
    await page.get_by_role("button", name="Send", exact=True).click()
    photo = thread(page).get_by_role("button", name="Open photo toaster.jpg")
    await expect(photo).to_be_visible()
    await expect(message(page, "So sieht er aus")).to_be_visible()

    # the agent answers through the API; the reply appears without a reload
    assert (await bodies(agent, conversation_id))[:2] == [
        "Mein Toaster ist kaputt.",
        "So sieht er aus",
    ]
    await page.evaluate("() => { window.notReloaded = true; }")
    r = await agent.send(conversation_id, "Das tut uns leid! Wir schicken Ersatz.")
    assert r.status_code == 201, r.text
    await expect(message(page, "Das tut uns leid! Wir schicken Ersatz.")).to_be_visible()
    await expect(message(page, "Das tut uns leid!")).to_contain_text("Anna")
    assert await page.evaluate("() => window.notReloaded === true"), "the page was reloaded"

    # after a reload the whole history is there, in order
    await page.reload()
    for text in (
        "Mein Toaster ist kaputt.",
        "So sieht er aus",
        "Das tut uns leid! Wir schicken Ersatz.",
    ):
        await expect(message(page, text)).to_be_visible()
    await expect(photo).to_be_visible()
    await expect(photo.get_by_role("img")).to_have_js_property("complete", True)
    assert await photo.get_by_role("img").evaluate("img => img.naturalWidth") > 0
    texts = await thread(page).get_by_role("listitem").all_inner_texts()
    order = [
        next(i for i, t in enumerate(texts) if s in t) for s in ("kaputt", "So sieht", "Ersatz")
    ]
    assert order == sorted(order), texts

    # stored and served without EXIF/GPS
    messages = await all_messages(agent.http, conversation_id)
    attachment = next(a for m in messages for a in m["attachments"])
    assert attachment["content_type"] == "image/jpeg" and attachment["thumbnail"] is True
    files = stored_files(server)
    assert files, "no file stored"
    for path in files:
        assert_no_exif(path.read_bytes(), f"stored {path.name}")
    for suffix in ("", "/thumbnail"):
        served = await page.request.get(
            f"{server.url}/api/v1/attachments/{attachment['id']}{suffix}"
        )
        assert served.status == 200, await served.text()
        assert_no_exif(await served.body(), f"served attachment{suffix}")
    stranger = server.client()
    refused = await stranger.get(f"/api/v1/attachments/{attachment['id']}")
    assert refused.status_code in (401, 403, 404)

    assert_same_origin(requests, server)
    assert any(u.startswith("ws://") for u in requests.urls), "no live connection seen"
    await context.close()


# -- 2: offline send -----------------------------------------------------------------------


async def test_messages_written_offline_are_sent_once_in_order_when_back_online(
    server: Server, browser: Browser
) -> None:
    company = await setup_company(server)
    agent = await server.agent(company)
    email = new_email()
    customer = await server.customer(email)
    started = await customer.start_conversation("beispiel", "Hallo, ich habe eine Frage.")
    conversation_id = started["conversation"]["id"]
    requests = Requests()
    context = await recorded_context(browser, requests, **EN)
    page = await new_page(context)
    await sign_in(page, server, email)
    await open_chat(page, server, conversation_id)
    await expect(message(page, "Hallo, ich habe eine Frage.")).to_be_visible()

    await context.set_offline(True)
    await expect(page.get_by_text("You are offline")).to_be_visible()
    await write(page, "Erste Nachricht offline")
    await write(page, "Zweite Nachricht offline")
    for text in ("Erste Nachricht offline", "Zweite Nachricht offline"):
        await expect(message(page, text).get_by_text("Sending…")).to_be_visible()
    assert await bodies(agent, conversation_id) == ["Hallo, ich habe eine Frage."]

    # back online, the answer to the first send gets lost on the way (the server has stored
    # the message, the browser sees a broken connection): the retry must not store it again
    lost: list[str] = []

    async def lose_first_answer(route: Route) -> None:
        if route.request.method == "POST" and not lost:
            lost.append(route.request.post_data or "")
            await route.fetch()
            await route.abort("connectionreset")
        else:
            await route.continue_()

    await page.route(f"**/api/v1/conversations/{conversation_id}/messages", lose_first_answer)
    await context.set_offline(False)
    for text in ("Erste Nachricht offline", "Zweite Nachricht offline"):
        await expect(sent(page, text)).to_be_visible()
        await expect(message(page, text)).to_have_count(1)
    await expect(page.get_by_text("You are offline")).to_be_hidden()
    assert lost and "Erste Nachricht offline" in lost[0], lost

    expected = [
        "Hallo, ich habe eine Frage.",
        "Erste Nachricht offline",
        "Zweite Nachricht offline",
    ]
    stored = await all_messages(agent.http, conversation_id)
    assert [m["body"] for m in stored] == expected
    assert len({m["client_id"] for m in stored[1:]}) == 2, stored
    sends = [w for w in requests.writes if w.endswith(f"/{conversation_id}/messages")]
    assert len(sends) >= 3, sends  # the first one twice: the answer of its first try was lost
    # nothing more arrives later (a retry that slipped through would show up here)
    await page.reload()
    await expect(message(page, "Zweite Nachricht offline")).to_have_count(1)
    assert await bodies(agent, conversation_id) == expected

    assert_same_origin(requests, server)
    await context.close()


# -- 3: the widget on someone else's website ------------------------------------------------


async def test_widget_on_another_site_lets_a_visitor_write_and_keep_the_conversation(
    server: Server, browser: Browser
) -> None:
    company = await setup_company(server)
    agent = await server.agent(company)
    html = (
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>Beispiel Shop</title>"
        "</head><body><main><h1>Beispiel Shop</h1><p>Toaster, Wasserkocher, Ersatzteile.</p>"
        f'</main><script src="{server.url}/widget.js" data-company="beispiel" async></script>'
        "</body></html>"
    )
    async with host_page(html) as host:
        requests = Requests()
        context = await recorded_context(browser, requests, **EN)
        page = await new_page(context)
        await page.goto(host.url)
        launcher = page.get_by_role("button", name="Open chat")
        await expect(launcher).to_be_visible()
        # a tiny loader, and nothing else fetched before the visitor asks for the chat
        assert requests.on(server.url) == [f"{server.url}/widget.js"], requests.urls
        loader = await page.request.get(f"{server.url}/widget.js")
        assert len(await loader.body()) < 10_000
        await launcher.click()
        frame = page.frame_locator(f'iframe[src^="{server.url}/widget/beispiel"]')
        box = frame.get_by_role("textbox", name="Message")
        await box.fill("Hallo, haben Sie den Toaster T-1000 noch?")
        await box.press("Enter")
        await expect(sent(frame, "Toaster T-1000")).to_be_visible()

        # the company sees it
        async def seen_by_agent() -> dict[str, Any] | None:
            items = (await agent.get("/api/v1/conversations")).json()["items"]
            return next(
                (c for c in items if "T-1000" in ((c.get("last_message") or {}).get("body") or "")),
                None,
            )

        conversation = await eventually(seen_by_agent, "the agent to see the visitor's message")
        r = await agent.send(conversation["id"], "Ja, der ist vorrätig.")
        assert r.status_code == 201, r.text
        await expect(message(frame, "Ja, der ist vorrätig.")).to_be_visible()

        # the host page cannot read the conversation
        host_text = await page.evaluate("() => document.body.innerText")
        assert "T-1000" not in host_text and "vorrätig" not in host_text
        assert await page.evaluate(
            "() => [...document.querySelectorAll('iframe')].every(f => f.contentDocument === null)"
        )
        assert await page.evaluate("() => localStorage.length") == 0  # the token is not here

        # keep the conversation: email + password
        email = f"besucher-{uuid.uuid4().hex[:8]}@example.org"
        await frame.get_by_role("link", name="Keep this conversation").click()
        await frame.get_by_label("Email address").fill(email)
        await frame.get_by_label("Password", exact=True).fill(PASSWORD)
        await frame.get_by_role("button", name="Keep conversation").click()
        await expect(frame.get_by_text("Done.")).to_be_visible()
        assert await server.mail_token(email, r"/verify\?token=(\S+)")  # confirm-your-address mail
        assert any(u.startswith("ws://") for u in requests.urls), "the widget did not go live"
        # from the host's origin only its own page (and the icon a browser asks for itself)
        assert_same_origin(requests, server, host.origin)
        own = {host.url, f"{host.origin}/favicon.ico"}
        assert host.url in requests.on(host.origin), requests.urls
        assert set(requests.on(host.origin)) <= own, requests.on(host.origin)
        assert host.paths and set(host.paths) <= {"/", "/favicon.ico"}, host.paths
        await context.close()

    # later, on a fresh browser: sign in at / and find the same conversation
    requests = Requests()
    fresh = await recorded_context(browser, requests, **EN)
    page = await new_page(fresh)
    await sign_in(page, server, email)
    await page.get_by_role("link", name=re.compile("Beispiel GmbH")).click()
    for text in ("Hallo, haben Sie den Toaster T-1000 noch?", "Ja, der ist vorrätig."):
        await expect(message(page, text)).to_be_visible()
    assert int(page.url.rsplit("/", 1)[1]) == conversation["id"]
    assert await bodies(agent, conversation["id"]) == [
        "Hallo, haben Sie den Toaster T-1000 noch?",
        "Ja, der ist vorrätig.",
    ]
    assert_same_origin(requests, server)
    await fresh.close()


# -- 5: phone-sized screens ----------------------------------------------------------------


async def test_inbox_chat_and_company_card_fit_a_phone_screen(
    server: Server, browser: Browser
) -> None:
    company = await setup_company(server)
    agent = await server.agent(company, name="Anna Agent")
    email = new_email()
    customer = await server.customer(email, name="Kim Kunde")
    long_link = "https://example.org/" + "sehr-langer-pfad-" * 12
    started = await customer.start_conversation(
        "beispiel", f"Hier ist die Rechnung, siehe {long_link} und Bestellnummer " + "9" * 60
    )
    conversation_id = started["conversation"]["id"]
    await customer.start_conversation("stadtwerke", "Wann kommt die Jahresabrechnung?")
    r = await agent.send(conversation_id, "Danke, Kim! Wir prüfen das bis morgen.")
    assert r.status_code == 201, r.text

    for width, height in ((390, 844), (360, 740)):
        requests = Requests()
        context = await recorded_context(
            browser, requests, viewport={"width": width, "height": height}, **PHONE, **EN
        )
        page = await new_page(context)
        await sign_in(page, server, email)
        await expect(page.get_by_role("link", name=re.compile("Beispiel GmbH"))).to_be_visible()
        await expect(page.get_by_role("link", name=re.compile("Stadtwerke"))).to_be_visible()
        await screenshot(page, f"messenger-inbox-{width}")
        await assert_no_horizontal_scroll(page, f"inbox at {width}px")

        await open_chat(page, server, conversation_id)
        await expect(message(page, "Wir prüfen das")).to_be_visible()
        await screenshot(page, f"messenger-chat-{width}")
        await assert_no_horizontal_scroll(page, f"chat at {width}px")

        await page.goto(f"{server.url}/#/company/beispiel")
        await expect(page.get_by_role("heading", name="Beispiel GmbH", level=1)).to_be_visible()
        await expect(page.get_by_role("link", name=re.compile(r"\+49 30 1234567"))).to_be_visible()
        await screenshot(page, f"messenger-company-{width}")
        await assert_no_horizontal_scroll(page, f"company card at {width}px")

        assert_same_origin(requests, server)
        await context.close()


# -- 6: bad input --------------------------------------------------------------------------


async def test_bad_input_is_explained_in_the_ui_and_nothing_is_stored(
    server: Server, browser: Browser, tmp_path: Path
) -> None:
    company = await setup_company(server)
    agent = await server.agent(company)
    email = new_email()
    customer = await server.customer(email)
    started = await customer.start_conversation("beispiel", "Erste Nachricht")
    conversation_id = started["conversation"]["id"]
    before = await conversation_of(agent, conversation_id)
    files_before = stored_files(server)
    # made for this test, one byte over the limit; handed over by path, since a 10 MB buffer
    # takes Playwright seconds to ship to the browser (a sparse file costs no disk either)
    oversize = tmp_path / "riesig.jpg"
    with oversize.open("wb") as f:
        f.write(b"\xff\xd8\xff\xe0")
        f.truncate(10 * 1024 * 1024 + 1)

    requests = Requests()
    context = await recorded_context(browser, requests, **EN)
    page = await new_page(context)
    await sign_in(page, server, email)
    await open_chat(page, server, conversation_id)
    # each step changes what the alert says, so every assertion sees a fresh refusal
    await attach(page, oversize)
    await refused(page, "This file is larger than 10 MB.")
    await expect(page.get_by_role("img", name=re.compile("Preview"))).to_have_count(0)

    wrong_type = "Only photos (JPEG, PNG, WebP, HEIC) and PDF files can be sent."
    await attach(page, {"name": "notiz.txt", "mimeType": "text/plain", "buffer": b"nur Text"})
    await refused(page, wrong_type)

    await composer_box(page).fill("")
    await composer_box(page).press("Enter")
    await refused(page, "Write a message first.")

    await attach(page, {"name": "animation.gif", "mimeType": "image/gif", "buffer": _gif()})
    await refused(page, wrong_type)

    await composer_box(page).fill("   \n  ")
    await composer_box(page).press("Enter")
    await refused(page, "Write a message first.")

    too_long = "x" * 10_001
    await composer_box(page).fill(too_long)
    await composer_box(page).press("Enter")
    await refused(page, "A message can have at most 10,000 characters.")
    # nothing written is lost: the text stays in the box to be shortened
    assert await composer_box(page).input_value() == too_long
    await expect(page.get_by_text("10,001 of 10,000 characters")).to_be_visible()
    # not even tried: no message or upload request left the browser
    read = f"POST /api/v1/conversations/{conversation_id}/read"
    assert set(requests.writes) <= {"POST /api/v1/auth/login", read}, requests.writes
    assert_same_origin(requests, server)
    await context.close()

    # the same refusal in German: the UI is translated, not just its labels
    requests = Requests()
    context = await recorded_context(browser, requests, **DE)
    page = await new_page(context)
    await page.goto(f"{server.url}/")
    await page.get_by_label("E-Mail-Adresse").fill(email)
    await page.get_by_label("Passwort", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="Anmelden").click()
    await expect(page.get_by_role("heading", name="Nachrichten", level=1)).to_be_visible()
    await page.goto(f"{server.url}/#/chat/{conversation_id}")
    await expect(page.get_by_role("list", name="Nachrichten")).to_be_visible()
    async with page.expect_file_chooser() as chooser:
        await page.get_by_role("button", name="Foto oder PDF anhängen").click()
    await (await chooser.value).set_files(oversize)
    await refused(page, "Diese Datei ist größer als 10 MB.")
    assert_same_origin(requests, server)
    await context.close()

    after = await conversation_of(agent, conversation_id)
    assert after["last_seq"] == before["last_seq"]
    assert await bodies(agent, conversation_id) == ["Erste Nachricht"]
    assert stored_files(server) == files_before


def _gif() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (0, 128, 0)).save(buf, "GIF")
    return buf.getvalue()


# -- 7: accessibility ----------------------------------------------------------------------


async def test_messenger_pages_have_no_serious_accessibility_violations(
    server: Server, browser: Browser
) -> None:
    company = await setup_company(server)
    agent = await server.agent(company, name="Anna Agent")
    email = new_email()
    customer = await server.customer(email, name="Kim Kunde")
    started = await customer.start_conversation("beispiel", "Wo bleibt meine Bestellung?")
    conversation_id = started["conversation"]["id"]
    assert (await agent.send(conversation_id, "Sie ist unterwegs.")).status_code == 201
    requests = Requests()
    context = await recorded_context(browser, requests, **EN)
    page = await new_page(context)

    await page.goto(f"{server.url}/#/signup")
    await expect(page.get_by_role("button", name="Create account")).to_be_visible()
    await assert_accessible(page, "the sign-up page")

    await page.goto(f"{server.url}/#/signin")
    await sign_in(page, server, email)
    await expect(page.get_by_role("link", name=re.compile("Beispiel GmbH"))).to_be_visible()
    await assert_accessible(page, "the inbox")

    await open_chat(page, server, conversation_id)
    await expect(message(page, "Sie ist unterwegs.")).to_be_visible()
    await assert_accessible(page, "the chat")

    await page.goto(f"{server.url}/#/company/beispiel")
    await expect(page.get_by_role("heading", name="Beispiel GmbH", level=1)).to_be_visible()
    await expect(page.get_by_role("link", name="Continue the conversation")).to_be_visible()
    await assert_accessible(page, "the company card")

    widget = await new_page(context)
    await widget.goto(f"{server.url}/widget/beispiel")
    await expect(widget.get_by_role("textbox", name="Message")).to_be_visible()
    await assert_accessible(widget, "the widget page")

    html = (
        "<!doctype html><html lang=en><head><meta charset=utf-8><title>Shop</title></head>"
        f'<body><main><h1>Shop</h1></main><script src="{server.url}/widget.js" '
        'data-company="beispiel" async></script></body></html>'
    )
    async with host_page(html) as host:
        shop = await new_page(context)
        await shop.goto(host.url)
        launcher = shop.get_by_role("button", name="Open chat")
        await launcher.click()
        frame_el = shop.locator(f'iframe[src^="{server.url}/widget/beispiel"]')
        await expect(frame_el).to_be_visible()
        frame = await (await frame_el.element_handle()).content_frame()
        assert frame is not None
        await expect(frame.get_by_role("textbox", name="Message")).to_be_visible()
        await assert_accessible(shop, "the host page with the open widget")
        await assert_accessible(frame, "the widget inside its iframe")
        assert_same_origin(requests, server, host.origin)

    assert_same_origin(requests, server, host.origin)
    await context.close()
