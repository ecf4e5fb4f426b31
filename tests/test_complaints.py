"""Complaint cases and the goodwill policy (docs/complaints.md), through a real server.

An admin writes the policy; an agent opens a case with evidence and grants what the policy lets
agents grant; beyond it the agent asks for approval and a lead decides in one step, live; every
step is in the trail with who and which rule; the customer sees the case and its promise but
never the policy, the trail or a proposal still waiting for a lead; an integration closes the
kept promise through the API.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from eyelevel.clock import FakeClock
from eyelevel.core.entities import Role
from tests.harness import Client, Server, start_server
from tests.test_export import upload
from tests.test_inbox_api import acme, ok, refused, start

API = "/api/v1"
SMALL = {
    "name": "Small amounts in the first year",
    "max_days_since_purchase": 365,
    "max_amount_cents": 10000,
    "max_prior_goodwill": 0,
    "prior_months": 12,
    "agent_remedies": ["replacement", "voucher"],
    "agent_max_amount_cents": 8000,
}
FALLBACK = {
    "name": "Everything else",
    "agent_remedies": ["voucher"],
    "agent_max_amount_cents": 1000,
}


@pytest.fixture
async def srv(db_url: str, tmp_path: Path) -> AsyncIterator[Server]:
    async with start_server(db_url, tmp_path) as server:
        yield server


def facts(**over: Any) -> dict[str, Any]:
    return {
        "product": "Toaster T2",
        "reference": "Bestellung 4711",
        "purchase_date": (date.today() - timedelta(days=40)).isoformat(),
        "category": "Küche",
        "requested_remedy": "replacement",
        "amount_cents": 4999,
        **over,
    }


def grant(remedy: str, cents: int, promise: str = "Ersatz kommt bis Freitag") -> dict[str, Any]:
    return {
        "kind": "granted",
        "remedy": remedy,
        "amount_cents": cents,
        "promise": promise,
        "promise_due": (date.today() + timedelta(days=3)).isoformat(),
    }


async def set_policy(admin: Client, *rules: dict[str, Any]) -> list[dict[str, Any]]:
    out = ok(await admin.http.put(f"{API}/companies/acme/goodwill-policy", json={"rules": rules}))
    return list(out["rules"])


async def open_case(agent: Client, cid: int, **over: Any) -> dict[str, Any]:
    return dict(ok(await agent.post(f"{API}/conversations/{cid}/complaint", facts(**over)), 201))


async def step(c: Client, cid: int, body: dict[str, Any]) -> Any:
    return await c.post(f"{API}/conversations/{cid}/complaint/steps", body)


async def test_an_agent_grants_within_the_policy_and_the_customer_sees_the_promise(
    srv: Server,
) -> None:
    w = await acme(srv)
    rules = await set_policy(w.otto, SMALL, FALLBACK)
    assert [r["name"] for r in rules] == [SMALL["name"], FALLBACK["name"]]
    assert ok(await w.anna.get(f"{API}/companies/acme/goodwill-policy"))["rules"] == rules
    refused(
        await w.anna.http.put(f"{API}/companies/acme/goodwill-policy", json={"rules": []}),
        403,
        "forbidden",
    )

    cid = await start(w.kim, "Mein Toaster ist kaputt")
    photo = await upload(w.kim, cid, "toaster.jpg")
    kim_socket = await w.kim.ws()
    case = await open_case(w.anna, cid, evidence=[photo["attachments"][0]["id"]])
    assert case["state"] == "open"
    assert [e["name"] for e in case["evidence"]] == ["toaster.jpg"]
    assert case["verdict"] == {
        "rule_id": rules[0]["id"],
        "rule_name": SMALL["name"],
        "agent_remedies": ["replacement", "voucher"],
        "agent_max_amount_cents": 8000,
    }
    # the customer is told live that there is a case, by state only
    frame = await kim_socket.wait_for(lambda f: f["type"] == "complaint.changed")
    assert frame["data"] == {"conversation_id": cid, "case_id": case["id"], "state": "open"}

    granted = ok(await step(w.anna, cid, grant("replacement", 4999)))
    assert granted["state"] == "granted"
    assert (granted["granted_remedy"], granted["granted_amount_cents"]) == ("replacement", 4999)
    last = granted["steps"][-1]
    assert (last["kind"], last["actor_name"], last["rule_name"]) == (
        "granted",
        "Anna Albers",
        SMALL["name"],
    )
    await kim_socket.wait_for(
        lambda f: f["type"] == "complaint.changed" and f["data"]["state"] == "granted"
    )
    await kim_socket.close()

    mine = ok(await w.kim.get(f"{API}/conversations/{cid}/complaint"))
    assert (mine["state"], mine["promise"], mine["granted_remedy"]) == (
        "granted",
        "Ersatz kommt bis Freitag",
        "replacement",
    )
    assert mine["verdict"] is None and mine["steps"] == [] and mine["evidence"] == []
    # Lena cannot see Kim's case, and customers never open one
    refused(await w.lena.get(f"{API}/conversations/{cid}/complaint"), 404, "not_found")
    refused(await w.kim.post(f"{API}/conversations/{cid}/complaint", facts()), 403, "forbidden")
    # the facts are fixed once decided; a second case is refused
    refused(
        await w.anna.http.put(f"{API}/conversations/{cid}/complaint", json=facts()),
        409,
        "complaint_state",
    )
    refused(
        await w.anna.post(f"{API}/conversations/{cid}/complaint", facts()), 409, "complaint_exists"
    )

    # an integration closes the kept promise
    crm = await srv.token_client(await srv.company("acme", "Acme AG"))
    done = ok(await step(crm, cid, {"kind": "fulfilled"}))
    assert done["state"] == "fulfilled" and done["fulfilled_at"]
    assert done["steps"][-1]["actor"].startswith("token:")
    refused(await step(crm, cid, {"kind": "fulfilled"}), 409, "complaint_state")


async def test_beyond_the_policy_an_agent_asks_and_a_lead_approves_in_one_step(
    srv: Server,
) -> None:
    w = await acme(srv)
    company = await srv.company("acme", "Acme AG")
    lead = await srv.agent(company, role=Role.LEAD, name="Lea Leitung")
    await set_policy(w.otto, SMALL, FALLBACK)
    cid = await start(w.kim, "Die Waschmaschine leckt")
    await open_case(w.anna, cid, product="Waschmaschine W9", amount_cents=59900)

    # 599 € are beyond the small-amounts rule: the fallback lets agents grant vouchers ≤ 10 €
    view = ok(await w.anna.get(f"{API}/conversations/{cid}/complaint"))
    assert view["verdict"]["rule_name"] == FALLBACK["name"] and view["may_decide"] is False
    refused(await step(w.anna, cid, grant("refund", 59900)), 403, "approval_required")
    refused(await step(w.anna, cid, grant("voucher", 1001)), 403, "approval_required")

    lead_socket = await lead.ws()
    asked = ok(
        await step(
            w.anna,
            cid,
            {**grant("refund", 59900, "Erstattung in 5 Tagen"), "kind": "approval_requested"},
        )
    )
    assert asked["state"] == "approval_pending" and asked["pending_remedy"] == "refund"
    frame = await lead_socket.wait_for(lambda f: f["type"] == "complaint.approval_requested")
    assert frame["data"]["remedy"] == "refund" and frame["data"]["amount_cents"] == 59900
    assert frame["data"]["requested_by"] == "Anna Albers"
    await lead_socket.close()

    # the customer does not see a proposal that a lead has not approved
    mine = ok(await w.kim.get(f"{API}/conversations/{cid}/complaint"))
    assert (mine["state"], mine["promise"], mine["pending_remedy"]) == (
        "approval_pending",
        "",
        None,
    )
    pending = ok(
        await w.anna.get(f"{API}/companies/acme/complaints", params={"state": "approval_pending"})
    )
    assert [c["conversation_id"] for c in pending] == [cid]

    # an agent cannot approve, the lead can, in one step
    refused(await step(w.anna, cid, {"kind": "approved"}), 403, "forbidden")
    refused(await step(w.ben, cid, {"kind": "rejected"}), 403, "forbidden")
    approved = ok(await step(lead, cid, {"kind": "approved", "note": "Stammkundin"}))
    assert approved["state"] == "granted" and approved["may_decide"] is True
    assert (approved["granted_remedy"], approved["granted_amount_cents"]) == ("refund", 59900)
    assert approved["promise"] == "Erstattung in 5 Tagen"
    trail = [(s["kind"], s["actor_name"], s["remedy"], s["note"]) for s in approved["steps"]]
    assert trail == [
        ("opened", "Anna Albers", None, ""),
        ("approval_requested", "Anna Albers", "refund", ""),
        ("approved", "Lea Leitung", "refund", "Stammkundin"),
    ]
    assert (
        ok(
            await w.anna.get(
                f"{API}/companies/acme/complaints", params={"state": "approval_pending"}
            )
        )
        == []
    )
    # the audit log names the policy change
    entries = ok(await w.otto.get(f"{API}/companies/acme/audit"))
    assert any(e["action"] == "goodwill_policy.updated" for e in entries["items"])


async def test_earlier_goodwill_and_declined_requests(srv: Server) -> None:
    w = await acme(srv)
    company = await srv.company("acme", "Acme AG")
    lead = await srv.agent(company, role=Role.LEAD, name="Lea Leitung")
    await set_policy(w.otto, SMALL)
    first = await start(w.kim, "Toaster kaputt")
    await open_case(w.anna, first)
    ok(await step(w.anna, first, grant("voucher", 2000)))

    # Kim got goodwill this year: the small-amounts rule (at most 0 earlier) no longer matches,
    # and with no rule left every remedy needs a lead
    second = await start(w.kim, "Wasserkocher kaputt")
    view = await open_case(w.anna, second, product="Wasserkocher")
    assert view["verdict"] == {
        "rule_id": None,
        "rule_name": "",
        "agent_remedies": [],
        "agent_max_amount_cents": None,
    }
    refused(await step(w.anna, second, grant("voucher", 500)), 403, "approval_required")
    # Lena has no earlier goodwill: the rule still covers her
    lena_case = await start(w.lena, "Toaster kaputt")
    assert (await open_case(w.anna, lena_case))["verdict"]["rule_name"] == SMALL["name"]

    # a declined request reopens the case; a lead may decide beyond the policy directly
    ask = {**grant("voucher", 500), "kind": "approval_requested"}
    ok(await step(w.anna, second, ask))
    declined = ok(await step(lead, second, {"kind": "declined", "note": "erst Reparatur"}))
    assert declined["state"] == "open" and declined["promise"] == ""
    ok(
        await w.anna.http.put(
            f"{API}/conversations/{second}/complaint", json=facts(requested_remedy="repair")
        )
    )
    decided = ok(await step(lead, second, grant("repair", 0, "Reparatur bis Montag")))
    assert decided["state"] == "granted" and decided["steps"][-1]["rule_name"] == ""
    assert [s["kind"] for s in decided["steps"]] == [
        "opened",
        "approval_requested",
        "declined",
        "updated",
        "granted",
    ]


async def test_bad_input_is_refused_precisely_and_changes_nothing(srv: Server) -> None:
    w = await acme(srv)
    cid = await start(w.kim, "Kaputt")
    other = await start(w.lena, "Auch kaputt")
    foreign = await upload(w.lena, other, "lena.jpg")
    path = f"{API}/conversations/{cid}/complaint"
    refused(await w.anna.post(path, facts(product=" ")), 422, "validation_error", "product")
    refused(await w.anna.post(path, facts(requested_remedy="gold")), 422, "validation_error")
    refused(await w.anna.post(path, facts(amount_cents=-1)), 422, "validation_error")
    future = (date.today() + timedelta(days=2)).isoformat()
    refused(
        await w.anna.post(path, facts(purchase_date=future)),
        422,
        "validation_error",
        "purchase_date",
    )
    refused(
        await w.anna.post(path, facts(evidence=[foreign["attachments"][0]["id"]])),
        422,
        "validation_error",
        "evidence",
    )
    refused(await w.anna.post(path, {**facts(), "state": "granted"}), 422, "validation_error")
    refused(await w.anna.get(path), 404, "not_found")  # nothing was created

    await open_case(w.anna, cid)
    refused(await step(w.anna, cid, {"kind": "granted"}), 422, "validation_error", "remedy")
    refused(
        await step(w.anna, cid, {**grant("voucher", 100), "promise": ""}),
        422,
        "validation_error",
        "promise",
    )
    past = (date.today() - timedelta(days=1)).isoformat()
    refused(
        await step(w.anna, cid, {**grant("voucher", 100), "promise_due": past}),
        422,
        "validation_error",
        "promise_due",
    )
    refused(await step(w.anna, cid, {"kind": "fulfilled"}), 409, "complaint_state")
    refused(await step(w.anna, cid, {"kind": "opened"}), 422, "validation_error")
    refused(
        await step(w.anna, cid, {"kind": "rejected", "remedy": "refund"}),
        422,
        "validation_error",
        "remedy",
    )
    bad_rule = {**SMALL, "agent_remedies": ["gold"]}
    refused(
        await w.otto.http.put(f"{API}/companies/acme/goodwill-policy", json={"rules": [bad_rule]}),
        422,
        "validation_error",
    )
    refused(
        await w.otto.http.put(
            f"{API}/companies/acme/goodwill-policy", json={"rules": [{**SMALL, "name": ""}]}
        ),
        422,
        "validation_error",
        "name",
    )
    view = ok(await w.anna.get(path))
    assert view["state"] == "open" and [s["kind"] for s in view["steps"]] == ["opened"]
    rejected = ok(await step(w.anna, cid, {"kind": "rejected", "note": "Garantie abgelaufen"}))
    assert rejected["state"] == "rejected" and rejected["decided_at"]


async def test_a_customer_opens_a_case_by_choosing_a_complaint_topic(srv: Server) -> None:
    """A company's topic *Reklamation* opens a complaint case: the customer who starts with it
    has a case from the first message, opened by them; an agent records the facts."""
    w = await acme(srv)
    path = f"{API}/companies/acme/conversation-topics"
    topic = ok(await w.otto.post(path, {"name": "Reklamation", "opens_complaint": True}), 201)
    assert topic["opens_complaint"] is True
    other = ok(await w.otto.post(path, {"name": "Rechnung"}), 201)
    assert other["opens_complaint"] is False

    started = await w.kim.post(
        f"{API}/conversations",
        {"company": "acme", "body": "Der Toaster ist kaputt", "topic_id": topic["id"]},
    )
    cid = ok(started, 201)["conversation"]["id"]
    case = ok(await w.anna.get(f"{API}/conversations/{cid}/complaint"))
    assert (case["state"], case["product"], case["requested_remedy"]) == ("open", "", None)
    [opened] = case["steps"]
    assert (opened["kind"], opened["actor"], opened["actor_name"]) == (
        "opened",
        f"customer:{w.kim.id}",
        "Kim Kunde",
    )
    assert ok(await w.kim.get(f"{API}/conversations/{cid}/complaint"))["state"] == "open"
    # the agent records the facts, then decides as usual
    filled = ok(await w.anna.http.put(f"{API}/conversations/{cid}/complaint", json=facts()))
    assert (filled["product"], filled["requested_remedy"]) == ("Toaster T2", "replacement")
    assert [s["kind"] for s in filled["steps"]] == ["opened", "updated"]

    # another topic opens nothing
    plain = await w.kim.post(
        f"{API}/conversations",
        {"company": "acme", "body": "Frage zur Rechnung", "topic_id": other["id"]},
    )
    plain_id = ok(plain, 201)["conversation"]["id"]
    refused(await w.anna.get(f"{API}/conversations/{plain_id}/complaint"), 404, "not_found")


async def test_a_promise_not_kept_by_its_date_is_overdue_for_leads_and_customer(
    db_url: str, tmp_path: Path
) -> None:
    """A granted promise due today that is still open after the day ends (the company's time
    zone) becomes overdue: a step in the trail, the customer's case shows it, the leads get
    ``complaint.promise_overdue``; a promise kept in time never does."""
    clock = FakeClock(datetime.now(UTC).replace(microsecond=0))
    async with start_server(db_url, tmp_path, clock=clock) as srv:
        w = await acme(srv)
        company = await srv.company("acme", "Acme AG")
        lead = await srv.agent(company, role=Role.LEAD, name="Lea Leitung")
        await set_policy(w.otto, SMALL)
        late, kept = await start(w.kim, "Toaster kaputt"), await start(w.lena, "Toaster auch")
        today = clock.now().date()  # the company's zone (Europe/Berlin) may be a day ahead
        for cid in (late, kept):
            await open_case(w.anna, cid, purchase_date=(today - timedelta(days=40)).isoformat())
            promise = {
                **grant("voucher", 2000),
                "promise_due": (today + timedelta(days=1)).isoformat(),
            }
            ok(await step(w.anna, cid, promise))
        ok(await step(w.anna, kept, {"kind": "fulfilled"}))
        lead_socket = await lead.ws()
        clock.advance(timedelta(days=3))
        frame = await lead_socket.wait_for(
            lambda f: f["type"] == "complaint.promise_overdue", timeout=10
        )
        assert frame["data"]["conversation_id"] == late
        await lead_socket.close()
        case = ok(await w.anna.get(f"{API}/conversations/{late}/complaint"))
        assert case["state"] == "granted" and case["overdue_at"]
        assert case["steps"][-1]["kind"] == "overdue"
        mine = ok(await w.kim.get(f"{API}/conversations/{late}/complaint"))
        assert mine["overdue_at"] == case["overdue_at"]
        assert ok(await w.anna.get(f"{API}/conversations/{kept}/complaint"))["overdue_at"] is None
        # no one can take the system's step
        refused(await step(lead, late, {"kind": "overdue"}), 422, "validation_error")
