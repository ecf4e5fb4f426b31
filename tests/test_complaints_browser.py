"""A complaint case in real Chromium: an agent opens it in the customer panel, asks a lead for
goodwill beyond the policy, the lead approves from the live notification, and the customer's
open chat shows the accepted complaint and the promise."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from eyelevel.core.entities import Role
from tests.harness import Server
from tests.test_inbox_browser import (
    agent_logs_in,
    assert_same_origin,
    beispiel_team,
    customer_signs_in,
    email_for,
    person,
)


async def test_a_complaint_beyond_the_policy_is_approved_live_and_the_customer_sees_it(
    server: Server, browser: Browser
) -> None:
    team = await beispiel_team(server)
    company = await server.company("beispiel")
    lead_email = email_for("lea")
    await server.agent(company, lead_email, role=Role.LEAD, name="Lea Leitung")
    policy = {
        "rules": [
            {"name": "Kleinbeträge", "agent_remedies": ["voucher"], "agent_max_amount_cents": 2000}
        ]
    }
    r = await team.admin.http.put("/api/v1/companies/beispiel/goodwill-policy", json=policy)
    assert r.status_code == 200, r.text
    kim_email = email_for("kim")
    kim = await server.customer(kim_email, name="Kim K.")
    started = await kim.start_conversation("beispiel", "Mein Trockner ist nach zwei Wochen kaputt.")
    cid = int(started["conversation"]["id"])

    async with person(browser) as anna, person(browser) as lea, person(browser) as customer:
        await customer_signs_in(customer.page, server, kim_email)
        await customer.page.goto(f"{server.url}/#/chat/{cid}")
        await expect(
            customer.page.get_by_text("Mein Trockner ist nach zwei Wochen kaputt.")
        ).to_be_visible()

        await agent_logs_in(lea.page, server, lead_email)
        await agent_logs_in(anna.page, server, team.anna_email)
        await anna.page.goto(f"{server.url}/app#/inbox/all/{cid}")
        panel = anna.page.locator("#customer-panel")
        await panel.get_by_role("button", name="Open a complaint case").click()
        await panel.get_by_label("Product", exact=True).fill("Trockner T8")
        await panel.get_by_label("Order or reference").fill("4711")
        await panel.get_by_label("Requested remedy").select_option("replacement")
        await panel.get_by_label("Amount (€)").fill("599,00")
        await panel.get_by_role("button", name="Open case").click()
        await expect(
            panel.get_by_text("Rule “Kleinbeträge”: you may grant Voucher up to €20.00.")
        ).to_be_visible()

        # the customer's open chat learns of the case live
        card = customer.page.locator("section.case-card")
        await expect(card).to_contain_text("We are looking into your complaint.")
        await expect(card).to_contain_text("Trockner T8 · 4711")

        # a replacement for 599 € is beyond the policy: ask a lead
        await expect(panel.get_by_role("button", name="Grant")).to_be_hidden()
        await panel.get_by_label("Promise to the customer").fill("Ersatzgerät kommt bis Freitag")
        await panel.get_by_role("button", name="Ask a lead").click()
        await expect(panel.get_by_text("Waiting for approval")).to_be_visible()
        await expect(card).to_contain_text("Your complaint is being reviewed.")
        await expect(card).not_to_contain_text("Ersatzgerät")  # not a promise until approved

        # the lead is notified live and approves in one step
        toast = lea.page.locator(".toast").filter(has_text="Anna Agent asks for approval")
        await expect(toast).to_contain_text("Replacement, €599.00")
        await toast.get_by_role("link", name="Open the conversation").click()
        lead_panel = lea.page.locator("#customer-panel")
        await lead_panel.get_by_role("button", name="Approve").click()
        await expect(lead_panel.get_by_text("Granted: Replacement, €599.00")).to_be_visible()
        trail = lead_panel.get_by_role("list", name="Trail")
        await expect(trail).to_contain_text("Anna Agent asked for approval")
        await expect(trail).to_contain_text("Lea Leitung approved")

        # the agent's panel and the customer's chat follow
        await expect(panel.get_by_text("Granted: Replacement, €599.00")).to_be_visible()
        await expect(card).to_contain_text("Your complaint was accepted.")
        await expect(card).to_contain_text("You get a replacement.")
        await expect(card).to_contain_text("Ersatzgerät kommt bis Freitag")
        await expect(card).not_to_contain_text("null")

        # kept: fulfilled from the inbox
        await panel.get_by_role("button", name="Mark fulfilled").click()
        await expect(card).to_contain_text("Done: we kept our promise.")
        for who in (anna, lea, customer):
            assert_same_origin(who, server)
