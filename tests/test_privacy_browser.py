"""The privacy card in the messenger and its effect on an open agent view (real Chromium).

A customer shares their phone number with one tap from the company's card; the agent's open
customer panel shows it live, and loses it within a second when the customer switches it off.
A canned response's ``{customer.first_name}`` stays empty until the first name is shared.
The customer downloads all of their data from the settings.
"""

from __future__ import annotations

import json
import re
import zipfile

from playwright.async_api import Browser, expect

from tests.harness import Server
from tests.test_inbox_browser import (
    agent_logs_in,
    beispiel_team,
    customer_signs_in,
    email_for,
    open_conversation,
    person,
    reply_box,
)

PHONE = "+49 151 2345678"
REVOKED_WITHIN_MS = 1_000  # the issue: gone within a second in an open agent view


async def test_sharing_the_phone_shows_it_live_and_revoking_takes_it_away(
    server: Server, browser: Browser
) -> None:
    team = await beispiel_team(server)
    kim_email = email_for("kim")
    kim = await server.customer(kim_email, name="Kim K.")
    r = await kim.http.put("/api/v1/me/profile", json={"first_name": "Kim", "last_name": "Kunde"})
    assert r.status_code == 200, r.text
    started = await kim.start_conversation("beispiel", "Bitte rufen Sie mich zurück.")
    cid = int(started["conversation"]["id"])
    canned = {"shortcut": "gruss", "body": "Hallo {customer.first_name}, gern.", "personal": True}
    r = await team.anna.post("/api/v1/companies/beispiel/canned-responses", canned)
    assert r.status_code == 201, r.text

    async with person(browser) as anna, person(browser) as customer:
        await agent_logs_in(anna.page, server, team.anna_email)
        await open_conversation(anna.page, server, cid)
        panel = anna.page.locator("#customer-panel")
        await expect(panel).to_contain_text("shares only their display name")
        await expect(panel.get_by_role("link", name=PHONE)).to_have_count(0)

        # an ungranted first name stays empty in a canned response
        box = reply_box(anna.page)
        await box.fill("/gruss")
        await box.press("Enter")
        await expect(box).to_have_value("Hallo , gern.")

        # the customer shares the phone from the company's card, with one tap
        await customer_signs_in(customer.page, server, kim_email)
        await customer.page.goto(f"{server.url}/#/company/beispiel")
        card = customer.page.locator("section.privacy")
        await expect(card.get_by_role("heading", name="What Beispiel GmbH can see")).to_be_visible()
        await card.get_by_role("textbox", name="Phone number").fill(PHONE)
        share = card.get_by_role("button", name="Share my phone number so they can call me back")
        await share.click()
        switch = card.get_by_role("switch", name="Phone number")
        await expect(switch).to_be_checked()
        await expect(panel.get_by_role("link", name=PHONE)).to_be_visible()

        # switched off: gone from the open agent view within a second
        await switch.uncheck()
        await expect(panel.get_by_role("link", name=PHONE)).to_have_count(
            0, timeout=REVOKED_WITHIN_MS
        )
        await expect(switch).not_to_be_checked()

        # the first name shared: the same canned response greets her by name
        await card.get_by_role("switch", name="First name").check()
        shared = panel.get_by_role("definition").filter(has_text="Kim")
        await expect(shared).to_have_text("Kim", timeout=REVOKED_WITHIN_MS)  # not the last name
        await box.fill("/gruss")
        await box.press("Enter")
        await expect(box).to_have_value("Hallo Kim, gern.")

        # the ledger on the settings page lists all three decisions
        await customer.page.goto(f"{server.url}/#/settings")
        ledger = customer.page.locator("ol.ledger li")
        await expect(ledger).to_have_count(3)
        await expect(ledger.first).to_contain_text("First name shared")


async def test_a_customer_downloads_their_data_from_the_settings(
    server: Server, browser: Browser
) -> None:
    """Settings → Download my data: requested, prepared by the worker, downloaded as a ZIP
    that holds the customer's own conversation."""
    await beispiel_team(server)
    kim_email = email_for("kim")
    kim = await server.customer(kim_email, name="Kim K.")
    await kim.start_conversation("beispiel", "Meine Daten, bitte.")

    async with person(browser) as customer:
        await customer_signs_in(customer.page, server, kim_email)
        await customer.page.goto(f"{server.url}/#/settings")
        await customer.page.get_by_role("button", name="Request my data").click()
        link = customer.page.get_by_role("link", name=re.compile(r"^Download ZIP"))
        await expect(link).to_be_visible(timeout=15_000)  # the worker builds it meanwhile
        await expect(customer.page.get_by_text("Ready since")).to_be_visible()
        async with customer.page.expect_download() as started:
            await link.click()
        download = await started.value
        path = await download.path()
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            exported = json.loads(archive.read("export.json"))
        assert "README.txt" in names
        assert "Meine Daten, bitte." in json.dumps(exported, ensure_ascii=False)


async def test_a_customer_deletes_their_account_from_the_settings(
    server: Server, browser: Browser
) -> None:
    """Settings → Delete my account: a wrong password is refused and changes nothing; the
    right one deletes the account and the messenger is signed out."""
    from tests.browser_support import screenshot
    from tests.harness import PASSWORD

    await beispiel_team(server)
    kim_email = email_for("kim")
    kim = await server.customer(kim_email, name="Kim K.")
    await kim.start_conversation("beispiel", "Bitte alles löschen.")

    async with person(browser) as customer:
        page = customer.page
        await customer_signs_in(page, server, kim_email)
        await page.goto(f"{server.url}/#/settings")
        card = page.locator("#delete-account")
        await card.get_by_label("Your password").fill("not my password")
        await card.get_by_label("I understand that this cannot be undone.").check()
        await card.scroll_into_view_if_needed()
        await screenshot(page, "messenger-delete-account")
        await card.get_by_role("button", name="Delete my account permanently").click()
        await expect(card.get_by_role("alert")).to_have_text("The password is wrong.")
        assert (await kim.get("/api/v1/auth/me")).status_code == 200

        await card.get_by_label("Your password").fill(PASSWORD)
        await card.get_by_role("button", name="Delete my account permanently").click()
        await expect(page).to_have_url(re.compile(r"#/signin$"), timeout=10_000)
        assert (await kim.get("/api/v1/auth/me")).status_code == 401
