"""What a person sees in a real browser (Debian's Chromium driven by Playwright)."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import pytest
from playwright.async_api import Browser, Page, async_playwright

from tests import backends
from tests.harness import PASSWORD, Server

# the flags keep Chromium from calling Google's services on a closed network
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    path = shutil.which("chromium")
    if path is None:
        reason = "REQUIRE: Debian's chromium (make test installs it when run as root)"
        if backends.CI:
            pytest.fail(reason)
        pytest.skip(reason)  # REQUIRE: chromium — with CI=true the line above fails instead
    async with async_playwright() as pw:
        b = await pw.chromium.launch(executable_path=path, args=ARGS, headless=True)
        try:
            yield b
        finally:
            await b.close()


def _watch(page: Page) -> list[str]:
    urls: list[str] = []
    page.on("request", lambda request: urls.append(request.url))
    return urls


def _foreign(urls: list[str], server: Server) -> list[str]:
    own = urlsplit(server.url).netloc
    return [
        u
        for u in urls
        if urlsplit(u).scheme in ("http", "https", "ws", "wss") and urlsplit(u).netloc != own
    ]


async def test_api_docs_render_from_the_server_alone(server: Server, browser: Browser) -> None:
    page = await browser.new_page()
    urls = _watch(page)
    await page.goto(f"{server.url}/api/v1/docs")
    await page.wait_for_selector(".opblock-summary-path", timeout=15_000)
    paths = await page.locator(".opblock-summary-path").all_inner_texts()
    assert "/api/v1/conversations/{conversation_id}/messages" in [p.strip() for p in paths]
    assert await page.locator(".information-container .title").inner_text() != ""
    assert _foreign(urls, server) == []
    assert any(u.endswith("/api/v1/openapi.json") for u in urls)


async def test_confirming_an_email_in_the_browser(server: Server, browser: Browser) -> None:
    customer = server.client()
    r = await customer.post(
        "/api/v1/auth/signup",
        {"email": "kim@example.org", "password": PASSWORD, "display_name": "Kim"},
    )
    assert r.status_code == 201, r.text
    token = await server.mail_token("kim@example.org", r"/verify\?token=(\S+)")
    context = await browser.new_context(locale="de-DE")
    page = await context.new_page()
    urls = _watch(page)
    await page.goto(f"{server.url}/verify?token={token}")
    await page.get_by_role("button", name="Jetzt bestätigen").click()
    await page.wait_for_selector("text=ist bestätigt")
    assert _foreign(urls, server) == []
    me = (await customer.get("/api/v1/auth/me")).json()
    assert me["email_verified"] is True
    await context.close()
