"""What a person sees in a real browser (Debian's Chromium driven by Playwright)."""

from __future__ import annotations

from playwright.async_api import Browser

from tests.browser_support import Requests, recorded_context
from tests.harness import PASSWORD, Server


async def test_api_docs_render_from_the_server_alone(server: Server, browser: Browser) -> None:
    requests = Requests()
    context = await recorded_context(browser, requests)
    page = await context.new_page()
    await page.goto(f"{server.url}/api/v1/docs")
    await page.wait_for_selector(".opblock-summary-path", timeout=15_000)
    paths = await page.locator(".opblock-summary-path").all_inner_texts()
    assert "/api/v1/conversations/{conversation_id}/messages" in [p.strip() for p in paths]
    assert await page.locator(".information-container .title").inner_text() != ""
    assert requests.foreign(server.url) == []
    assert any(u.endswith("/api/v1/openapi.json") for u in requests.urls)
    await context.close()


async def test_confirming_an_email_in_the_browser(server: Server, browser: Browser) -> None:
    customer = server.client()
    r = await customer.post(
        "/api/v1/auth/signup",
        {"email": "kim@example.org", "password": PASSWORD, "display_name": "Kim"},
    )
    assert r.status_code == 201, r.text
    token = await server.mail_token("kim@example.org", r"/verify\?token=(\S+)")
    requests = Requests()
    context = await recorded_context(browser, requests, locale="de-DE")
    page = await context.new_page()
    await page.goto(f"{server.url}/verify?token={token}")
    await page.get_by_role("button", name="Jetzt bestätigen").click()
    await page.wait_for_selector("text=ist bestätigt")
    assert requests.urls and requests.foreign(server.url) == []
    me = (await customer.get("/api/v1/auth/me")).json()
    assert me["email_verified"] is True
    await context.close()
