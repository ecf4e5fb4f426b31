"""A callback booked, seen, logged and done, in real Chromium (docs/callbacks.md).

The customer asks for a callback in the messenger (slot, phone, note), the agent finds it in
"Callbacks" in the inbox with the shared number, logs the outcome, and the customer's card in
the thread turns to "Callback done" live, with the friendly entry and without the summary.
"""

from __future__ import annotations

from playwright.async_api import Browser, expect

from tests.browser_support import screenshot
from tests.harness import Server
from tests.test_inbox_browser import agent_logs_in, beispiel_team, customer_signs_in, person

PHONE = "+49 151 2345678"
ALWAYS = {d: [["00:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


async def test_a_callback_booked_in_the_messenger_is_logged_in_the_inbox(
    server: Server, browser: Browser
) -> None:
    team = await beispiel_team(server)
    r = await team.admin.http.patch("/api/v1/companies/beispiel", json={"business_hours": ALWAYS})
    assert r.status_code == 200, r.text
    offer = {"slot_minutes": 30, "days_ahead": 2, "lead_minutes": 60, "all_agents": False}
    r = await team.admin.http.put(
        "/api/v1/companies/beispiel/callback-settings", json={**offer, "agent_ids": [team.anna.id]}
    )
    assert r.status_code == 200, r.text
    kim_email = "kim-callback@example.com"
    kim = await server.customer(kim_email, name="Kim K.")
    started = await kim.start_conversation("beispiel", "Können Sie mich anrufen?")
    cid = int(started["conversation"]["id"])

    async with person(browser) as customer, person(browser) as anna:
        await customer_signs_in(customer.page, server, kim_email)
        await customer.page.goto(f"{server.url}/#/chat/{cid}")
        await customer.page.get_by_role("button", name="Request a callback").click()
        form = customer.page.locator("form.callback-form")
        await expect(form.get_by_label("Time (your time zone)")).to_be_visible()
        await form.get_by_label("Phone number").fill(PHONE)
        await form.get_by_label("What is it about? (optional)").fill("Rechnung 4711")
        await form.get_by_role("button", name="Book callback").click()
        card = customer.page.locator(".callback-card")
        await expect(card).to_contain_text("Callback booked")
        await screenshot(customer.page, "callback-booked")

        # the agent: "Callbacks" in the sidebar, today's or the next days' list
        await agent_logs_in(anna.page, server, team.anna_email)
        await anna.page.goto(f"{server.url}/app#/inbox/mine/{cid}")
        strip = anna.page.locator(".callback-strip")
        await expect(strip).to_contain_text("Booked")
        await expect(strip.get_by_role("link", name=PHONE)).to_have_attribute(
            "href", "tel:+491512345678"
        )
        await expect(strip).to_contain_text("Rechnung 4711")
        await strip.get_by_label("Outcome").select_option("yes")
        await strip.get_by_label("Duration (minutes)").fill("4")
        await strip.get_by_label("Summary (internal)").fill("Gutschrift zugesagt")
        await strip.get_by_role("button", name="Log outcome").click()
        await expect(strip).to_contain_text("Done")
        await expect(anna.page.locator(".messages, [aria-label='Messages']").first).to_contain_text(
            "Gutschrift zugesagt"
        )
        await screenshot(anna.page, "callback-logged")

        # the customer's card turns to done live; the summary never reaches them
        await expect(card).to_contain_text("Callback done")
        thread = customer.page.get_by_role("list", name="Messages")
        await expect(thread.get_by_text("thank you for the call")).to_be_visible()
        await expect(customer.page.get_by_text("Gutschrift zugesagt")).to_have_count(0)

        # the day list for the callbacks page
        await anna.page.goto(f"{server.url}/app#/callbacks?owner=all")
        await expect(anna.page.get_by_role("heading", name="All callbacks today")).to_be_visible()
