"""Company administration through a real server: labels, canned responses, the company profile
and teams (docs/inbox.md). Each change is checked for who may make it, what bad input is
refused (with the field named), that a refusal changes nothing, and that the audit log holds
exactly the admin changes, with field names but no content.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import select

from eyelevel.core.actions import operator
from eyelevel.core.actions.audit import list_audit
from eyelevel.core.entities import AuditEntry, Company, Event, Role
from eyelevel.core.events import EventType, labels_changed
from eyelevel.core.ids import AgentId, CompanyId, ConversationId, CustomerId, EventPos
from eyelevel.core.principals import AgentPrincipal, CustomerPrincipal
from eyelevel.core.rules.audience import may_receive
from eyelevel.core.rules.hours import is_open
from eyelevel.storage import schema
from tests.harness import Client, Server
from tests.test_api import assert_problem, conversation, replay

API = "/api/v1"
GHOST = 987_654_321
ALWAYS = {d: [["00:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


# -- helpers -----------------------------------------------------------------------------------


async def patch(c: Client, path: str, body: Any) -> httpx.Response:
    return await c.http.patch(path, json=body)


async def put(c: Client, path: str, body: Any) -> httpx.Response:
    return await c.http.put(path, json=body)


def ok(r: httpx.Response, status: int = 200) -> Any:
    assert r.status_code == status, r.text
    return r.json() if r.content else None


def refused(r: httpx.Response, status: int, code: str, field: str | None = None) -> None:
    body = assert_problem(r, status, code)
    assert body.get("field") == field, body


async def audit(
    server: Server,
    company: Company,
    admin: Client,
    slug: str | None = None,
    *,
    operator_too: bool = False,
) -> list[AuditEntry]:
    """The company's audit log, oldest first, read the way admins read it. The harness makes
    API tokens through the operator's command line (audited as ``operator``): that set-up is
    left out unless ``operator_too``."""
    principal = AgentPrincipal(AgentId(admin.id), admin.name, {CompanyId(company.id): Role.ADMIN})
    entries = await list_audit(
        server.runtime.ctx, principal, slug or company.slug, before_id=None, limit=200
    )
    return [e for e in reversed(entries) if operator_too or e.actor != "operator"]


def actions(entries: list[AuditEntry]) -> list[str]:
    return [e.action for e in entries]


async def stored_labels(server: Server, conversation_id: int) -> list[int]:
    """The conversation's labels as stored (the REST shape is the inbox views' area)."""
    cl = schema.conversation_labels.c
    async with server.runtime.db.read_engine.connect() as conn:
        rows = await conn.execute(
            select(cl.label_id).where(cl.conversation_id == conversation_id).order_by(cl.label_id)
        )
        return [r.label_id for r in rows]


async def acme(server: Server) -> tuple[Company, Client, Client]:
    company = await server.company("acme", "Acme AG")
    admin = await server.agent(company, role=Role.ADMIN, name="Otto Admin")
    agent = await server.agent(company, name="Anna Agent")
    return company, admin, agent


# -- labels ------------------------------------------------------------------------------------


async def test_labels_are_kept_by_admins_and_audited(server: Server) -> None:
    company, admin, agent = await acme(server)
    labels = f"{API}/companies/acme/labels"
    assert ok(await agent.get(labels)) == []

    refused(await agent.post(labels, {"name": "Rechnung", "color": "#d93f0b"}), 403, "forbidden")
    red = ok(await admin.post(labels, {"name": "  Rechnung ", "color": "#D93F0B"}), 201)
    assert red == {"id": red["id"], "name": "Rechnung", "color": "#d93f0b"}
    blue = ok(await admin.post(labels, {"name": "Beschwerde", "color": "#0052cc"}), 201)

    # names are unique per company, ignoring case; the field is named on every refusal
    refused(
        await admin.post(labels, {"name": "rechnung", "color": "#000000"}),
        409,
        "label_taken",
        "name",
    )
    for bad, field in (
        ({"name": "", "color": "#000000"}, "name"),
        ({"name": "   ", "color": "#000000"}, "name"),
        ({"name": "x" * 51, "color": "#000000"}, "name"),
        ({"name": "Neu", "color": "red"}, "color"),
        ({"name": "Neu", "color": "#12345"}, "color"),
        ({"name": "Neu", "color": "#1234567"}, "color"),
        ({"name": "Neu", "color": "#gggggg"}, "color"),
    ):
        refused(await admin.post(labels, bad), 422, "validation_error", field)
    r = await admin.post(labels, {"name": "Neu", "color": "#000000", "company_id": 1})
    assert_problem(r, 422, "validation_error")

    # members read them, by name
    assert ok(await agent.get(labels)) == [blue, red]

    # rename and recolour; a name in use is refused; unknown ids read as missing
    one = f"{labels}/{red['id']}"
    refused(await patch(agent, one, {"name": "Rechnungen"}), 403, "forbidden")
    renamed = ok(await patch(admin, one, {"name": "Rechnungen"}))
    assert renamed == {"id": red["id"], "name": "Rechnungen", "color": "#d93f0b"}
    assert ok(await patch(admin, one, {"color": "#00FF00"}))["color"] == "#00ff00"
    assert ok(await patch(admin, one, {"name": "rechnungen"}))["name"] == "rechnungen"  # own name
    refused(await patch(admin, one, {"name": "BESCHWERDE"}), 409, "label_taken", "name")
    refused(await patch(admin, one, {"color": "green"}), 422, "validation_error", "color")
    refused(await patch(admin, f"{labels}/{GHOST}", {"name": "X"}), 404, "not_found")
    assert ok(await patch(admin, one, {})) == ok(await agent.get(labels))[1]  # nothing to change

    refused(await agent.delete(one), 403, "forbidden")
    assert ok(await admin.delete(one), 204) is None
    refused(await admin.delete(one), 404, "not_found")
    assert ok(await agent.get(labels)) == [blue]

    entries = await audit(server, company, admin)
    assert actions(entries) == [
        "label.created",
        "label.created",
        "label.updated",
        "label.updated",
        "label.updated",
        "label.deleted",
    ]
    assert {e.actor for e in entries} == {f"agent:{admin.id}"}
    assert entries[0].target == f"label:{red['id']}"
    assert entries[0].data == {"name": "Rechnung", "color": "#d93f0b"}
    assert [e.data["fields"] for e in entries[2:5]] == [["name"], ["color"], ["name"]]
    assert entries[5].data == {"name": "rechnungen", "conversations": 0}


async def test_conversation_labels_reach_the_company_never_the_customer(server: Server) -> None:
    company, admin, agent = await acme(server)
    colleague = await server.agent(company, name="Bert Kollege")
    bolt = await server.company("bolt")
    bolt_admin = await server.agent(bolt, role=Role.ADMIN)
    customer = await server.customer(name="Kim Kunde")
    conv = (await customer.start_conversation("acme", "Wo ist meine Rechnung?"))["conversation"]
    cid = conv["id"]
    labels = f"{API}/companies/acme/labels"
    billing = ok(await admin.post(labels, {"name": "Rechnung", "color": "#d93f0b"}), 201)["id"]
    urgent = ok(await admin.post(labels, {"name": "Dringend", "color": "#b60205"}), 201)["id"]
    foreign = ok(
        await bolt_admin.post(f"{API}/companies/bolt/labels", {"name": "Bolt", "color": "#000000"}),
        201,
    )["id"]
    agent_sock, colleague_sock = await agent.ws(), await colleague.ws()
    customer_sock = await customer.ws()
    start = customer_sock.hello_pos
    path = f"{API}/conversations/{cid}/labels"
    try:
        got = ok(await put(agent, path, {"label_ids": [urgent, billing, urgent]}))
        assert got["id"] == cid and got["labels"] == sorted([billing, urgent])
        assert await stored_labels(server, cid) == sorted([billing, urgent])
        assert (await conversation(colleague, cid))["labels"] == sorted([billing, urgent])
        for sock in (agent_sock, colleague_sock):
            frame = await sock.wait_for(
                lambda f: f["type"] == EventType.CONVERSATION_LABELS_CHANGED
            )
            assert frame["data"] == {"conversation_id": cid, "label_ids": sorted([billing, urgent])}
            assert isinstance(frame["pos"], int)

        # the same set again changes nothing and tells nobody
        ok(await put(agent, path, {"label_ids": [billing, urgent]}))

        # another company's label, or one that does not exist: refused, nothing changed
        for bad in ([billing, foreign], [foreign], [GHOST], [urgent, GHOST]):
            refused(await put(agent, path, {"label_ids": bad}), 422, "invalid_label", "label_ids")
        refused(
            await put(bolt_admin, path, {"label_ids": [foreign]}), 404, "not_found"
        )  # not their conversation
        refused(await put(customer, path, {"label_ids": []}), 403, "forbidden")
        assert await stored_labels(server, cid) == sorted([billing, urgent])
        assert (await conversation(agent, cid))["labels"] == sorted([billing, urgent])

        # deleting a label takes it off its conversations, with an event for each
        ok(await admin.delete(f"{labels}/{billing}"), 204)
        assert await stored_labels(server, cid) == [urgent]
        frame = await agent_sock.wait_for(
            lambda f: f["type"] == EventType.CONVERSATION_LABELS_CHANGED
        )
        assert frame["data"] == {"conversation_id": cid, "label_ids": [urgent]}
        ok(await put(colleague, path, {"label_ids": []}))
        assert await stored_labels(server, cid) == []

        # a reply after all of it is the fence: the customer's socket got it and nothing before
        ok(await agent.send(cid, "Die Rechnung ist unterwegs."), 201)
        await customer_sock.wait_for(lambda f: f["type"] == EventType.MESSAGE_CREATED)
        assert not [f for f in customer_sock.pending if "labels" in f["type"]]
    finally:
        for sock in (agent_sock, colleague_sock, customer_sock):
            await sock.close()

    # the stream holds exactly the three changes, for the company; the customer replays none
    changes = [
        f["data"]["label_ids"]
        for f in await replay(agent, start)
        if f["type"] == EventType.CONVERSATION_LABELS_CHANGED
    ]
    assert changes == [sorted([billing, urgent]), [urgent], []]
    assert not [f for f in await replay(customer) if "label" in f["type"]]
    assert not [f for f in await replay(bolt_admin) if f["type"].startswith("conversation.")]
    assert (await conversation(customer, cid))["labels"] is None  # company-internal
    # labelling is the members' daily work, not an admin change: no audit entries for it
    assert actions(await audit(server, company, admin)) == [
        "label.created",
        "label.created",
        "label.deleted",
    ]


def test_labels_changed_is_for_the_company_only() -> None:
    """The audience rule itself keeps the event from customers, even one naming a customer."""
    new = labels_changed(CompanyId(1), ConversationId(7), [3, 2])
    assert new.customer_id is None and new.data == {"conversation_id": 7, "label_ids": [2, 3]}
    event = Event(
        EventPos(1),
        new.type,
        new.company_id,
        new.conversation_id,
        CustomerId(5),
        new.data,
        datetime.now(UTC),
    )
    assert not may_receive(CustomerPrincipal(CustomerId(5), True, "Kim"), event)
    assert may_receive(AgentPrincipal(AgentId(1), "Anna", {CompanyId(1): Role.AGENT}), event)
    assert not may_receive(AgentPrincipal(AgentId(1), "Anna", {CompanyId(2): Role.AGENT}), event)


# -- canned responses --------------------------------------------------------------------------


async def test_canned_responses_company_wide_and_personal(server: Server) -> None:
    company, admin, agent = await acme(server)
    colleague = await server.agent(company, name="Bert Kollege")
    token = await server.token_client(company)
    canned = f"{API}/companies/acme/canned-responses"
    body = "Hallo {customer.first_name}, Ihr Paket ist unterwegs. Viele Grüße, {agent.first_name}"

    refused(await agent.post(canned, {"shortcut": "versand", "body": body}), 403, "forbidden")
    shared = ok(await admin.post(canned, {"shortcut": "versand", "body": body}), 201)
    assert shared == {"id": shared["id"], "shortcut": "versand", "body": body, "personal": False}
    mine = ok(
        await agent.post(canned, {"shortcut": "gruss", "body": "Bis bald!", "personal": True}), 201
    )
    assert mine["personal"] is True
    theirs = ok(
        await colleague.post(canned, {"shortcut": "gruss", "body": "Tschüss", "personal": True}),
        201,
    )
    admins_own = ok(
        await admin.post(canned, {"shortcut": "a-1", "body": "Otto", "personal": True}), 201
    )
    # a token is no agent: it keeps company-wide ones only
    r = await token.post(canned, {"shortcut": "bot", "body": "x", "personal": True})
    refused(r, 403, "forbidden")

    # each member sees the company-wide ones and their own, never a colleague's personal ones
    assert ok(await agent.get(canned)) == [mine, shared]
    assert ok(await colleague.get(canned)) == [theirs, shared]
    assert ok(await admin.get(canned)) == [admins_own, shared]
    assert ok(await token.get(canned)) == [shared]

    for bad, code, field in (
        ({"shortcut": "Versand", "body": "x"}, "validation_error", "shortcut"),
        ({"shortcut": "ver sand", "body": "x"}, "validation_error", "shortcut"),
        ({"shortcut": "", "body": "x"}, "validation_error", "shortcut"),
        ({"shortcut": "x" * 51, "body": "x"}, "validation_error", "shortcut"),
        ({"shortcut": "ok", "body": ""}, "body_empty", "body"),
        ({"shortcut": "ok", "body": "  \n "}, "body_empty", "body"),
        ({"shortcut": "ok", "body": "x" * 10_001}, "body_too_long", "body"),
    ):
        refused(await admin.post(canned, {**bad, "personal": False}), 422, code, field)
        refused(await agent.post(canned, {**bad, "personal": True}), 422, code, field)
    ok(
        await agent.post(canned, {"shortcut": "lang_1-x", "body": "x" * 10_000, "personal": True}),
        201,
    )

    # personal ones: only their owner changes them; a colleague (admin too) finds nothing
    for other in (colleague, admin):
        refused(
            await patch(other, f"{canned}/{mine['id']}", {"body": "gekapert"}), 404, "not_found"
        )
        refused(await other.delete(f"{canned}/{mine['id']}"), 404, "not_found")
    refused(await patch(agent, f"{canned}/{GHOST}", {"body": "x"}), 404, "not_found")
    changed = ok(await patch(agent, f"{canned}/{mine['id']}", {"body": "Bis morgen!"}))
    assert changed == {**mine, "body": "Bis morgen!"}
    refused(
        await patch(agent, f"{canned}/{mine['id']}", {"shortcut": "Gruß"}),
        422,
        "validation_error",
        "shortcut",
    )
    r = await patch(agent, f"{canned}/{mine['id']}", {"personal": False})
    assert_problem(r, 422, "validation_error")  # a personal one never becomes company-wide

    # company-wide ones: admins only
    refused(await patch(agent, f"{canned}/{shared['id']}", {"body": "x"}), 403, "forbidden")
    refused(await agent.delete(f"{canned}/{shared['id']}"), 403, "forbidden")
    updated = ok(await patch(admin, f"{canned}/{shared['id']}", {"shortcut": "paket"}))
    assert updated == {**shared, "shortcut": "paket"}
    # managing canned responses needs no scope a token can have
    r = await patch(token, f"{canned}/{shared['id']}", {"body": "Ihr Paket ist da."})
    refused(r, 403, "forbidden")
    ok(await patch(admin, f"{canned}/{shared['id']}", {"body": "Ihr Paket ist da."}))

    ok(await agent.delete(f"{canned}/{mine['id']}"), 204)
    ok(await admin.delete(f"{canned}/{shared['id']}"), 204)
    refused(await admin.delete(f"{canned}/{shared['id']}"), 404, "not_found")
    assert ok(await colleague.get(canned)) == [theirs]

    # only the company-wide changes are admin changes; never with a body in the log
    entries = await audit(server, company, admin)
    assert actions(entries) == [
        "canned_response.created",
        "canned_response.updated",
        "canned_response.updated",
        "canned_response.deleted",
    ]
    assert entries[0].data == {"shortcut": "versand"}
    assert entries[1].data == {"fields": ["shortcut"], "shortcut": "paket"}
    assert entries[2].data == {"fields": ["body"], "shortcut": "paket"}
    assert entries[2].actor == f"agent:{admin.id}"
    assert entries[3].data == {"shortcut": "paket"}
    assert "Paket" not in str([e.data for e in entries])


# -- the company profile -----------------------------------------------------------------------


def card_of(card: dict[str, Any]) -> dict[str, Any]:
    """The card without ``open_now``, which moves with the clock."""
    return {k: v for k, v in card.items() if k != "open_now"}


async def test_company_profile_is_changed_by_admins(server: Server) -> None:
    company, admin, agent = await acme(server)
    await server.company("bolt")
    anon = server.client()
    holidays = [
        {"date": "2026-12-26", "name": "2. Weihnachtstag"},
        {"date": "2026-12-25", "name": " 1. Weihnachtstag "},
    ]
    change = {
        "name": "Acme Werkzeuge AG",
        "description": "Werkzeug seit 1920.",
        "phone": "+49 30 987654",
        "timezone": "Europe/Vienna",
        "business_hours": {"mon": [["08:00", "12:00"], ["13:00", "17:00"]]},
        "holidays": holidays,
        "reply_within_minutes": 90,
    }
    refused(await patch(agent, f"{API}/companies/acme", change), 403, "forbidden")
    card = ok(await patch(admin, f"{API}/companies/acme", change))
    assert card == {
        **change,
        "slug": "acme",
        "holidays": [
            {"date": "2026-12-25", "name": "1. Weihnachtstag"},
            {"date": "2026-12-26", "name": "2. Weihnachtstag"},
        ],
        "open_now": card["open_now"],
        "retention_days": None,
        "reply_by": card["reply_by"],  # when a message written now would be answered (SLA)
    }
    assert card["reply_by"] is not None  # 90 business minutes within Monday's hours
    assert card_of(ok(await anon.get(f"{API}/companies/acme"))) == card_of(card)  # public

    # bad input: refused with the field named, and nothing changes
    too_many = [
        {"date": (date(2027, 1, 1) + timedelta(days=i)).isoformat(), "name": "x"}
        for i in range(101)
    ]
    for bad, field in (
        ({"name": ""}, "name"),
        ({"name": None}, "name"),
        ({"slug": "Acme Neu"}, "slug"),
        ({"slug": "-acme"}, "slug"),
        ({"description": "x" * 1001}, "description"),
        ({"phone": "1" * 41}, "phone"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"business_hours": {"monday": [["09:00", "17:00"]]}}, "business_hours"),
        ({"business_hours": {"mon": [["17:00", "09:00"]]}}, "business_hours"),
        ({"holidays": [{"date": "2026-02-30", "name": "x"}]}, "holidays"),
        ({"holidays": [{"date": "24.12.2026", "name": "x"}]}, "holidays"),
        ({"holidays": [{"date": "2026-12-24", "name": ""}]}, "holidays"),
        (
            {
                "holidays": [
                    {"date": "2026-12-24", "name": "a"},
                    {"date": "2026-12-24", "name": "b"},
                ]
            },
            "holidays",
        ),
        ({"holidays": too_many}, "holidays"),
        ({"reply_within_minutes": 0}, "reply_within_minutes"),
        ({"reply_within_minutes": 43_201}, "reply_within_minutes"),
    ):
        r = await patch(admin, f"{API}/companies/acme", {"description": "neu", **bad})
        refused(r, 422, "validation_error", field)
    assert_problem(await patch(admin, f"{API}/companies/acme", {"id": 2}), 422, "validation_error")
    refused(
        await patch(admin, f"{API}/companies/acme", {"slug": "bolt"}), 409, "slug_taken", "slug"
    )
    assert card_of(ok(await anon.get(f"{API}/companies/acme"))) == card_of(card)

    # the limits themselves are accepted; null withdraws the response-time promise
    edge = {
        "description": "x" * 1000,
        "phone": "1" * 40,
        "holidays": too_many[:100],
        "reply_within_minutes": 43_200,
    }
    assert ok(await patch(admin, f"{API}/companies/acme", edge))["reply_within_minutes"] == 43_200
    after = ok(await patch(admin, f"{API}/companies/acme", {"reply_within_minutes": None}))
    assert after["reply_within_minutes"] is None and len(after["holidays"]) == 100
    ok(await patch(admin, f"{API}/companies/acme", {"name": "Acme Werkzeuge AG"}))  # no change

    # a new slug: the company answers there, the old one is free
    moved = ok(await patch(admin, f"{API}/companies/acme", {"slug": "acme-werkzeuge"}))
    assert moved["slug"] == "acme-werkzeuge"
    refused(await anon.get(f"{API}/companies/acme"), 404, "not_found")
    assert ok(await agent.get(f"{API}/companies/acme-werkzeuge/labels")) == []

    entries = await audit(server, company, admin, "acme-werkzeuge")
    assert actions(entries) == ["company.updated"] * 4
    assert [e.data for e in entries] == [
        {"fields": sorted(change)},
        {"fields": ["description", "holidays", "phone", "reply_within_minutes"]},
        {"fields": ["reply_within_minutes"]},
        {"fields": ["slug"]},
    ]
    assert {e.target for e in entries} == {f"company:{company.id}"}


async def test_a_holiday_closes_the_company_in_its_own_time_zone(server: Server) -> None:
    _, admin, _ = await acme(server)
    anon = server.client()
    # UTC+14 and UTC-11: the company's calendar day is always a later one than Pago Pago's
    zone, behind = "Pacific/Kiritimati", "Pacific/Pago_Pago"
    card = ok(
        await patch(admin, f"{API}/companies/acme", {"timezone": zone, "business_hours": ALWAYS})
    )
    assert card["open_now"] is True

    today = datetime.now(ZoneInfo(zone)).date()
    closed = [  # today and tomorrow: the day may turn while the request travels
        {"date": today.isoformat(), "name": "Feiertag"},
        {"date": (today + timedelta(days=1)).isoformat(), "name": "Brückentag"},
    ]
    card = ok(await patch(admin, f"{API}/companies/acme", {"holidays": closed}))
    assert card["open_now"] is False
    assert ok(await anon.get(f"{API}/companies/acme"))["open_now"] is False
    found = ok(await anon.get(f"{API}/companies", params={"q": "acme"}))
    assert [c["open_now"] for c in found] == [False]

    elsewhere = datetime.now(ZoneInfo(behind)).date()
    not_here = [
        {"date": (elsewhere - timedelta(days=1)).isoformat(), "name": "anderswo"},
        {"date": elsewhere.isoformat(), "name": "anderswo"},
    ]
    card = ok(await patch(admin, f"{API}/companies/acme", {"holidays": not_here}))
    assert card["open_now"] is True
    assert ok(await patch(admin, f"{API}/companies/acme", {"holidays": []}))["open_now"] is True


def _utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def test_is_open_closes_on_holidays_by_local_date() -> None:
    hours = {"mon": [["09:00", "17:00"]], "tue": [["09:00", "17:00"]]}
    monday_noon_berlin = _utc(2026, 1, 5, 11, 0)
    assert is_open(hours, "Europe/Berlin", monday_noon_berlin) is True
    assert is_open(hours, "Europe/Berlin", monday_noon_berlin, []) is True
    assert is_open(hours, "Europe/Berlin", monday_noon_berlin, [{"date": "2026-01-05"}]) is False
    assert is_open(hours, "Europe/Berlin", monday_noon_berlin, [{"date": "2026-01-06"}]) is True
    # 23:30 UTC on Monday is already Tuesday 08:30 in Tokyo: Tuesday's holiday applies there
    late = _utc(2026, 1, 5, 23, 30)
    tue_all_day = {"tue": [["00:00", "24:00"]], "mon": [["00:00", "24:00"]]}
    assert is_open(tue_all_day, "Asia/Tokyo", late, [{"date": "2026-01-06", "name": "x"}]) is False
    assert is_open(tue_all_day, "Asia/Tokyo", late, [{"date": "2026-01-05", "name": "x"}]) is True
    assert is_open(tue_all_day, "UTC", late, [{"date": "2026-01-06", "name": "x"}]) is True
    assert is_open(tue_all_day, "UTC", late, [{"date": "2026-01-05", "name": "x"}]) is False


# -- teams -------------------------------------------------------------------------------------


async def staff(c: Client, slug: str = "acme") -> dict[str, Any]:
    return dict(ok(await c.get(f"{API}/companies/{slug}/staff")))


async def test_teams_and_their_members(server: Server) -> None:
    company, admin, agent = await acme(server)
    bolt = await server.company("bolt")
    outsider = await server.agent(bolt, name="Fremd")
    teams = f"{API}/companies/acme/teams"

    refused(await agent.post(teams, {"name": "Support"}), 403, "forbidden")
    support = ok(await admin.post(teams, {"name": " Support "}), 201)
    assert support == {"id": support["id"], "name": "Support", "agent_ids": []}
    refused(await admin.post(teams, {"name": "SUPPORT"}), 409, "team_taken", "name")
    refused(await admin.post(teams, {"name": ""}), 422, "validation_error", "name")
    refused(await admin.post(teams, {"name": "x" * 101}), 422, "validation_error", "name")
    sales = ok(await admin.post(teams, {"name": "Vertrieb"}), 201)

    one = f"{teams}/{support['id']}"
    refused(await patch(agent, one, {"name": "Kundendienst"}), 403, "forbidden")
    refused(await patch(admin, one, {"name": "vertrieb"}), 409, "team_taken", "name")
    refused(await patch(admin, f"{teams}/{GHOST}", {"name": "X"}), 404, "not_found")
    renamed = ok(await patch(admin, one, {"name": "Kundendienst"}))
    assert renamed == {**support, "name": "Kundendienst"}

    members = f"{one}/members"
    refused(await put(agent, members, {"agent_ids": [agent.id]}), 403, "forbidden")
    got = ok(await put(admin, members, {"agent_ids": [agent.id, admin.id, agent.id]}))
    assert got == {**renamed, "agent_ids": sorted([agent.id, admin.id])}
    for bad in ([outsider.id], [agent.id, outsider.id], [GHOST]):
        refused(await put(admin, members, {"agent_ids": bad}), 422, "invalid_owner", "agent_ids")
    refused(await put(admin, f"{teams}/{GHOST}/members", {"agent_ids": []}), 404, "not_found")
    listed = {t["id"]: t for t in (await staff(agent))["teams"]}
    assert sorted(listed[support["id"]]["agent_ids"]) == sorted([agent.id, admin.id])
    assert listed[sales["id"]]["agent_ids"] == []
    assert ok(await put(admin, members, {"agent_ids": [agent.id]}))["agent_ids"] == [agent.id]

    # a team that owns an unresolved conversation cannot go; a resolved one lets go of it
    customer = await server.customer()
    cid = (await customer.start_conversation("acme", "Hallo"))["conversation"]["id"]
    ok(await agent.post(f"{API}/conversations/{cid}/assignment", {"team_id": support["id"]}))
    refused(await admin.delete(one), 409, "team_in_use")
    for status in ("pending", "snoozed"):
        body: dict[str, Any] = {"status": status}
        if status == "snoozed":
            body["snoozed_until"] = (datetime.now(UTC) + timedelta(days=1)).isoformat()
        ok(await agent.post(f"{API}/conversations/{cid}/status", body))
        refused(await admin.delete(one), 409, "team_in_use")
    ok(await agent.post(f"{API}/conversations/{cid}/status", {"status": "resolved"}))
    sock = await agent.ws()
    try:
        refused(await agent.delete(one), 403, "forbidden")
        ok(await admin.delete(one), 204)
        frame = await sock.wait_for(lambda f: f["type"] == EventType.CONVERSATION_ASSIGNED)
        assert frame["data"] == {
            "conversation_id": cid,
            "owner": None,
            "previous": {"type": "team", "id": support["id"]},
        }
    finally:
        await sock.close()
    assert (await conversation(agent, cid))["owner"] is None
    refused(await admin.delete(one), 404, "not_found")
    assert [t["id"] for t in (await staff(agent))["teams"]] == [sales["id"]]

    entries = await audit(server, company, admin)
    assert actions(entries) == [
        "team.created",
        "team.created",
        "team.updated",
        "team.members_changed",
        "team.members_changed",
        "team.deleted",
    ]
    assert entries[2].data == {
        "fields": ["name"],
        "name": "Kundendienst",
        "previous_name": "Support",
    }
    assert entries[3].data == {"added": sorted([agent.id, admin.id]), "removed": []}
    assert entries[4].data == {"added": [], "removed": [admin.id]}
    assert entries[5].data == {"name": "Kundendienst"}
    assert entries[5].target == f"team:{support['id']}"


async def test_other_companies_admins_change_nothing(server: Server) -> None:
    """The admin of another company addresses this company's objects: 404 for each, and no
    audit entry anywhere (the full sweep is tests/test_tenancy.py)."""
    company, admin, _ = await acme(server)
    bolt = await server.company("bolt")
    stranger = await server.agent(bolt, role=Role.ADMIN)
    label = ok(
        await admin.post(f"{API}/companies/acme/labels", {"name": "A", "color": "#000000"}), 201
    )
    team = ok(await admin.post(f"{API}/companies/acme/teams", {"name": "A"}), 201)
    shared = ok(
        await admin.post(f"{API}/companies/acme/canned-responses", {"shortcut": "a", "body": "A"}),
        201,
    )
    before = await audit(server, company, admin)
    for slug in ("acme", "bolt"):  # theirs, and their ids through the stranger's own company
        base = f"{API}/companies/{slug}"
        for r in (
            await patch(stranger, f"{base}/labels/{label['id']}", {"name": "B"}),
            await stranger.delete(f"{base}/labels/{label['id']}"),
            await patch(stranger, f"{base}/teams/{team['id']}", {"name": "B"}),
            await put(stranger, f"{base}/teams/{team['id']}/members", {"agent_ids": []}),
            await stranger.delete(f"{base}/teams/{team['id']}"),
            await patch(stranger, f"{base}/canned-responses/{shared['id']}", {"body": "B"}),
            await stranger.delete(f"{base}/canned-responses/{shared['id']}"),
        ):
            refused(r, 404, "not_found")
    refused(
        await patch(stranger, f"{API}/companies/acme", {"name": "Übernommen"}), 404, "not_found"
    )
    assert await audit(server, company, admin) == before
    assert ok(await admin.get(f"{API}/companies/acme/labels")) == [label]
    assert ok(await admin.get(f"{API}/companies/acme/canned-responses")) == [shared]
    assert [t["name"] for t in (await staff(admin))["teams"]] == ["A"]


async def test_tokens_and_invitations_are_audited_through_the_api_and_the_cli(
    server: Server,
) -> None:
    company, admin, _ = await acme(server)
    before = len(await audit(server, company, admin, operator_too=True))
    created = ok(
        await admin.post(
            f"{API}/companies/acme/tokens", {"name": "CRM", "scopes": ["reports:read"]}
        ),
        201,
    )
    ok(await admin.delete(f"{API}/companies/acme/tokens/{created['id']}"), 204)
    invite = {"email": "neu@acme.example", "role": "lead"}
    ok(await admin.post(f"{API}/companies/acme/invitations", invite), 201)
    # the operator's command line is audited too, as "operator"
    await operator.operator_create_token(server.runtime.ctx, company_slug="acme", name="Shop")
    entries = (await audit(server, company, admin, operator_too=True))[before:]
    assert [(e.actor, e.action, e.target) for e in entries] == [
        (f"agent:{admin.id}", "token.created", f"token:{created['id']}"),
        (f"agent:{admin.id}", "token.revoked", f"token:{created['id']}"),
        (f"agent:{admin.id}", "agent.invited", "neu@acme.example"),
        ("operator", "token.created", entries[-1].target),
    ]
    assert entries[0].data == {"name": "CRM", "scopes": ["reports:read"]} and entries[2].data == {
        "role": "lead"
    }
    # a refused revocation leaves no entry
    r = await admin.delete(f"{API}/companies/acme/tokens/{GHOST}")
    assert_problem(r, 404, "not_found")
    assert len(await audit(server, company, admin, operator_too=True)) == before + 4
