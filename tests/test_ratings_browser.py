"""CSAT in real Chromium: once the agent resolves the conversation, a customer who allows
feedback requests rates it in the open chat, and the agent's open customer panel shows the
rating live."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from tests.harness import Server
from tests.test_inbox_browser import (
    agent_logs_in,
    assert_same_origin,
    beispiel_team,
    customer_signs_in,
    email_for,
    person,
)


async def test_the_customer_rates_a_resolved_conversation_and_the_agent_sees_it(
    server: Server, browser: Browser
) -> None:
    team = await beispiel_team(server)
    kim_email = email_for("kim")
    kim = await server.customer(kim_email, name="Kim K.")
    r = await kim.http.put(
        "/api/v1/me/privacy/beispiel/contact",
        json={
            "topics": {"feedback": True},
            "screen": "contact_card",
            "text_version": "contact-card-2",
        },
    )
    assert r.status_code == 200, r.text
    started = await kim.start_conversation("beispiel", "Wie setze ich mein Passwort zurück?")
    cid = int(started["conversation"]["id"])

    async with person(browser) as anna, person(browser) as customer:
        await customer_signs_in(customer.page, server, kim_email)
        await customer.page.goto(f"{server.url}/#/chat/{cid}")
        card = customer.page.locator("section.rating-card")
        await expect(
            customer.page.get_by_text("Wie setze ich mein Passwort zurück?")
        ).to_be_visible()
        await expect(card).to_be_hidden()  # not resolved yet: nothing is asked

        await agent_logs_in(anna.page, server, team.anna_email)
        await anna.page.goto(f"{server.url}/app#/inbox/all/{cid}")
        panel = anna.page.locator("#customer-panel")
        await expect(panel.get_by_text("Feedback requests")).to_be_visible()
        r = await team.anna.post(f"/api/v1/conversations/{cid}/status", {"status": "resolved"})
        assert r.status_code == 200, r.text

        await expect(card.get_by_role("heading", name="How did we do?")).to_be_visible()
        await card.get_by_role("button", name="Send rating").click()
        await expect(card.get_by_role("alert")).to_have_text("Choose from 1 to 5 stars.")
        await card.get_by_role("button", name="4 of 5 stars").click()
        await card.get_by_role("textbox", name="Comment (optional)").fill("Sehr hilfreich")
        await card.get_by_role("button", name="Send rating").click()
        await expect(card).to_contain_text("Thank you for your rating.")
        await expect(card.get_by_label("4 of 5 stars")).to_have_text("★★★★☆")

        rating = panel.get_by_role("definition").filter(has_text="Sehr hilfreich")
        await expect(rating).to_contain_text("★★★★☆")
        for who in (anna, customer):
            assert_same_origin(who, server)
