"""Routing and legal hold in real Chromium (docs/routing.md, docs/privacy.md *Erasure*).

An admin adds a conversation topic and a routing rule in the admin pages; a customer who picks
that topic in the messenger lands in the rule's team, where its member sees it with the topic
and the rule that routed it. A lead puts a conversation under legal hold from its actions and
lifts it again; an admin's open view turns read-only when the customer deletes their account.
"""

from __future__ import annotations

import re

from playwright.async_api import Browser, Locator, Page, expect

from eyelevel.core.entities import Role
from tests.browser_support import assert_accessible, screenshot
from tests.harness import PASSWORD, Server
from tests.test_inbox_browser import (
    agent_logs_in,
    assert_same_origin,
    beispiel_team,
    conversation_of,
    customer_signs_in,
    email_for,
    open_conversation,
    person,
    reply_box,
    thread,
    view,
)

PHONE = {"viewport": {"width": 430, "height": 900}}


def actions(page: Page) -> Locator:
    """The open conversation's actions (the toolbar above the thread)."""
    return page.get_by_role("group", name="Actions")


async def test_a_topic_and_a_rule_made_in_the_admin_pages_route_a_customer_to_the_team(
    server: Server, browser: Browser
) -> None:
    team = await beispiel_team(server)
    company = await server.company("beispiel")
    admin_email = email_for("admin")
    await server.agent(company, admin_email, role=Role.ADMIN, name="Ada Admin")
    r = await team.admin.post("/api/v1/companies/beispiel/teams", {"name": "Buchhaltung"})
    assert r.status_code == 201, r.text
    billing = int(r.json()["id"])
    r = await team.admin.http.put(
        f"/api/v1/companies/beispiel/teams/{billing}/members", json={"agent_ids": [team.ben.id]}
    )
    assert r.status_code == 200, r.text
    kim_email = email_for("kim")
    await server.customer(kim_email, name="Kim K.")

    async with person(browser) as ada, person(browser) as ben, person(browser, **PHONE) as kim:
        page = ada.page
        await agent_logs_in(page, server, admin_email)

        # Administration → Conversation topics: add two, require a choice, reorder
        nav = page.get_by_role("navigation", name="Inbox navigation")
        await nav.get_by_role("link", name="Conversation topics").click()
        await expect(
            page.get_by_role("heading", name="Conversation topics", level=1)
        ).to_be_visible()
        topics = page.get_by_role("list", name="Topics in the order customers see them")
        for name in ("Technik", "Rechnung"):
            await page.get_by_label("Name", exact=True).fill(name)
            await page.get_by_role("button", name="Add topic").click()
            await expect(topics.get_by_role("textbox", name="Name of the topic")).to_have_count(
                2 if name == "Rechnung" else 1
            )
        await page.get_by_role("button", name="Move Rechnung up").click()
        await expect(topics.get_by_role("listitem").first.get_by_role("textbox")).to_have_value(
            "Rechnung"
        )
        await page.get_by_role("switch", name="Customers must choose a topic").check()
        await expect(
            page.get_by_role("switch", name="Customers must choose a topic")
        ).to_be_checked()
        await screenshot(page, "admin-topics")
        await assert_accessible(page, "the topics page")

        # Administration → Routing: a rule for the topic, sending to Buchhaltung
        await nav.get_by_role("link", name="Routing", exact=True).click()
        await page.get_by_role("button", name="Add rule").click()
        dialog = page.get_by_role("dialog", name="New routing rule")
        await dialog.get_by_label("Name", exact=True).fill("Rechnungsfragen")
        await dialog.get_by_role("button", name="Add rule").click()
        await expect(dialog.get_by_role("alert")).to_have_text(
            "Choose the team the rule sends conversations to."
        )
        await dialog.get_by_label("Send to team").select_option(label="Buchhaltung")
        await dialog.get_by_label("Languages").fill("d3")
        await dialog.get_by_role("checkbox", name="Rechnung").check()
        await dialog.get_by_role("button", name="Add rule").click()
        await expect(dialog.get_by_role("alert")).to_have_text(
            "Languages are short language codes such as de or en, separated by commas."
        )
        await dialog.get_by_label("Languages").fill("")
        await dialog.get_by_role("checkbox", name="Messenger").check()
        await screenshot(page, "admin-routing-rule-dialog")
        await dialog.get_by_role("button", name="Add rule").click()
        await expect(dialog).to_be_hidden()
        rules = page.get_by_role("list", name="Rules in order")
        rule = rules.get_by_role("listitem").filter(has_text="Rechnungsfragen")
        await expect(rule).to_contain_text("Topic:Rechnung")
        await expect(rule).to_contain_text("→ Buchhaltung")
        await expect(
            page.get_by_role("switch", name="Rule Rechnungsfragen enabled")
        ).to_be_checked()
        await screenshot(page, "admin-routing")
        await assert_accessible(page, "the routing page")

        # Teams: Buchhaltung assigns automatically, three per agent, Ben only two
        await nav.get_by_role("link", name="Teams", exact=True).click()
        panel = page.get_by_role("region", name="Buchhaltung")
        await panel.get_by_role(
            "switch", name="Give queued conversations to online agents with free capacity"
        ).check()
        await panel.get_by_label("Open conversations per agent").fill("3")
        await panel.get_by_label("Own capacity of Ben Berater").fill("2")
        await panel.get_by_role("button", name="Save auto-assignment").click()
        await expect(panel.get_by_role("button", name="Save auto-assignment")).to_be_enabled()
        r = await team.admin.get(f"/api/v1/companies/beispiel/teams/{billing}/assignment")
        assert r.json() == {
            "team_id": billing,
            "auto_assign": True,
            "max_open": 3,
            "overrides": [{"agent_id": team.ben.id, "max_open": 2}],
        }, r.text
        await panel.get_by_label("Open conversations per agent").scroll_into_view_if_needed()
        await screenshot(page, "admin-teams-assignment")

        # a topic a rule uses cannot be deleted: the refusal says why
        await nav.get_by_role("link", name="Conversation topics").click()
        await page.get_by_role("button", name="Delete the topic Rechnung").click()
        await page.get_by_role("dialog").get_by_role("button", name="Delete").click()
        await expect(page.get_by_role("alert").filter(has_text="Switch it off")).to_contain_text(
            "routing rules use this topic"
        )

        # the customer must choose; picking Rechnung routes to Buchhaltung
        await customer_signs_in(kim.page, server, kim_email)
        await kim.page.goto(f"{server.url}/#/new/beispiel")
        choice = kim.page.get_by_role("group", name=re.compile(r"^What is it about\?"))
        await expect(choice).to_contain_text("(required)")
        await expect(choice.get_by_role("radio")).to_have_count(2)
        box = kim.page.get_by_role("textbox", name="Message")
        await box.fill("Meine Rechnung ist doppelt abgebucht.")
        await box.press("Enter")
        await expect(choice.get_by_role("alert")).to_have_text(
            "Please choose what your message is about."
        )
        await expect(box).to_have_value("Meine Rechnung ist doppelt abgebucht.")
        await screenshot(kim.page, "messenger-topic-required")
        await choice.get_by_role("radio", name="Rechnung").check()
        await box.press("Enter")
        await expect(kim.page).to_have_url(re.compile(r"#/chat/\d+$"))
        cid = int(kim.page.url.rsplit("/", 1)[1])

        record = await conversation_of(team.admin, cid)
        assert record["owner"] == {"type": "team", "id": billing}, record
        assert record["channel"] == "messenger"
        assert record["language"] == "en"
        assert record["routing_rule_id"] is not None
        topic_id = record["topic_id"]
        assert topic_id is not None

        # Ben, in Buchhaltung, sees it in his team's view with topic and rule
        await agent_logs_in(ben.page, server, team.ben_email)
        await view(ben.page, "Buchhaltung").click()
        entry = ben.page.get_by_role("list", name="Buchhaltung", exact=True).get_by_role("listitem")
        await expect(entry.filter(has_text="Meine Rechnung").locator(".topic-chip")).to_have_text(
            "Rechnung"
        )
        await entry.filter(has_text="Meine Rechnung").click()
        panel = ben.page.locator("#customer-panel")
        topic = panel.get_by_role("combobox", name="Topic of this conversation")
        await expect(topic).to_have_value(str(topic_id))
        await expect(panel).to_contain_text("Rule “Rechnungsfragen”")
        # the list filters by topic
        await ben.page.get_by_label("Topic", exact=True).select_option(label="Technik")
        await expect(ben.page).to_have_url(re.compile(r"topic=\d+"))
        await expect(ben.page.get_by_text("Nothing here. Well done!")).to_be_visible()
        await ben.page.get_by_label("Topic", exact=True).select_option(label="All topics")
        await expect(entry.filter(has_text="Meine Rechnung")).to_be_visible()
        # an agent changes the topic
        await topic.select_option(label="Technik")
        # no rule for Technik and no default team: routed again, to nobody
        await expect(panel).not_to_contain_text("Rule “Rechnungsfragen”")
        await expect(topic).to_be_enabled()
        changed = await conversation_of(team.admin, cid)
        assert changed["topic_id"] != topic_id
        await screenshot(ben.page, "inbox-topic-and-rule")
        for who in (ada, ben, kim):
            assert_same_origin(who, server)


async def test_a_lead_puts_a_legal_hold_and_lifts_it_and_erasure_makes_it_read_only(
    server: Server, browser: Browser
) -> None:
    team = await beispiel_team(server)
    company = await server.company("beispiel")
    lead_email, admin_email = email_for("lea"), email_for("ada")
    lead = await server.agent(company, lead_email, role=Role.LEAD, name="Lea Leitung")
    await server.agent(company, admin_email, role=Role.ADMIN, name="Ada Admin")
    kim = await server.customer(email_for("kim"), name="Kim K.")
    started = await kim.start_conversation("beispiel", "Ich widerspreche der Kündigung.")
    cid = int(started["conversation"]["id"])
    hold_url = f"/api/v1/conversations/{cid}/legal-hold"

    async with person(browser) as lea, person(browser) as ada, person(browser) as anna:
        await agent_logs_in(anna.page, server, team.anna_email)
        await open_conversation(anna.page, server, cid)
        await expect(actions(anna.page).get_by_role("button", name="Legal hold…")).to_have_count(0)

        await agent_logs_in(lea.page, server, lead_email)
        await lea.page.goto(f"{server.url}/app#/inbox/all/{cid}")
        await expect(thread(lea.page).get_by_role("listitem").first).to_be_visible()
        await actions(lea.page).get_by_role("button", name="Legal hold…").click()
        dialog = lea.page.get_by_role("dialog", name="Put under legal hold")
        await dialog.get_by_role("button", name="Put on hold").click()
        await expect(dialog.get_by_role("alert")).to_have_text("Please give a reason.")
        await dialog.get_by_label("Reason").fill("Rechtsstreit 12 O 345/26")
        await screenshot(lea.page, "inbox-legal-hold-dialog")
        await dialog.get_by_role("button", name="Put on hold").click()
        await expect(dialog).to_be_hidden()
        header_badge = lea.page.locator(".conv-subtitle .badge-hold")
        await expect(header_badge).to_have_text("Legal hold")
        await expect(header_badge).to_have_attribute(
            "title", "Legal hold: Rechtsstreit 12 O 345/26"
        )
        listed = lea.page.get_by_role("list", name="All", exact=True).get_by_role("listitem")
        await expect(listed.filter(has_text="Kündigung").locator(".badge-hold")).to_be_visible()
        r = await lead.get(hold_url)
        assert r.status_code == 200 and r.json()["reason"] == "Rechtsstreit 12 O 345/26", r.text
        await screenshot(lea.page, "inbox-legal-hold")

        # lifted again, after a confirmation
        await actions(lea.page).get_by_role("button", name="Lift legal hold").click()
        confirm = lea.page.get_by_role("dialog", name="Lift the legal hold?")
        await confirm.get_by_role("button", name="Lift legal hold").click()
        await expect(header_badge).to_have_count(0)
        await expect(actions(lea.page).get_by_role("button", name="Legal hold…")).to_be_visible()
        assert (await lead.get(hold_url)).status_code == 404

        # held again; the customer deletes their account while an admin has it open
        r = await lead.http.put(hold_url, json={"reason": "Aufbewahrungspflicht"})
        assert r.status_code == 200, r.text
        await agent_logs_in(ada.page, server, admin_email)
        await ada.page.goto(f"{server.url}/app#/inbox/all/{cid}")
        await expect(thread(ada.page).get_by_role("listitem").first).to_be_visible()
        await expect(reply_box(ada.page)).to_be_visible()
        r = await kim.post("/api/v1/me/erasure", {"password": PASSWORD})
        assert r.status_code == 200, r.text

        panel = ada.page.locator("#customer-panel")
        await expect(panel.get_by_role("heading", name="Deleted customer")).to_be_visible()
        note = ada.page.get_by_role("note")
        await expect(note).to_contain_text("Read-only: the customer has deleted their account.")
        await expect(reply_box(ada.page)).to_be_hidden()
        await expect(actions(ada.page).get_by_role("button", name="Resolve")).to_be_hidden()
        await expect(
            thread(ada.page).get_by_text("Ich widerspreche der Kündigung.")
        ).to_be_visible()
        admins = ada.page.get_by_role("list", name="All", exact=True).get_by_role("listitem")
        await expect(admins.filter(has_text="Kündigung")).to_have_count(0)
        await screenshot(ada.page, "inbox-restricted")
        # the others' lists drop it (restricted: out of every list)
        await expect(listed.filter(has_text="Kündigung")).to_have_count(0)
        await expect(anna.page.get_by_text("This conversation was deleted.")).to_be_visible()
        for who in (lea, ada, anna):
            assert_same_origin(who, server)
