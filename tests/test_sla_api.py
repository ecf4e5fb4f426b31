"""Response-time promises over the API (docs/sla.md), through a real server and its worker.

Time is a ``FakeClock``; the calendars here count around the clock in UTC unless a test gives
hours or holidays, so a due time is plain arithmetic the test can state (the arithmetic itself
is proven in tests/test_business_time.py).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from eyelevel.clock import FakeClock
from eyelevel.core.actions import operator
from eyelevel.core.entities import Role
from eyelevel.storage import schema
from tests.harness import Client, Server, start_server
from tests.test_inbox_api import (
    API,
    at,
    conv,
    login,
    next_event,
    ok,
    refused,
    set_status,
    start,
    worker_caught_up,
)

# the event contracts (tests/test_events.py has the others)
BREACH_KEYS = {"conversation_id", "target", "due_at", "team_id", "leads", "reassigned"}
CLOCK_KEYS = {
    "target",
    "minutes",
    "started_at",
    "due_at",
    "warn_at",
    "paused",
    "warned",
    "breached_at",
}
ALWAYS = {d: [["00:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
async def srv(db_url: str, tmp_path: Path, clock: FakeClock) -> AsyncIterator[Server]:
    async with start_server(db_url, tmp_path, clock=clock) as server:
        yield server


@dataclass
class World:
    team: int
    other_team: int
    anna: Client  # agent, in the team
    lea: Client  # lead, in the team
    olaf: Client  # admin
    kim: Client  # customer


async def world(srv: Server, *, promise: int | None = 30) -> World:
    company = await srv.company("acme", "Acme AG")
    olaf = await srv.agent(company, role=Role.ADMIN, name="Olaf Admin")
    ok(
        await olaf.http.patch(
            f"{API}/companies/acme",
            json={"timezone": "UTC", "business_hours": ALWAYS, "reply_within_minutes": promise},
        )
    )
    team = await operator.ensure_team(srv.runtime.ctx, company, "Support")
    other = await operator.ensure_team(srv.runtime.ctx, company, "Technik")
    anna = await srv.agent(company, name="Anna Albers")
    lea = await srv.agent(company, role=Role.LEAD, name="Lea Lead")
    ok(
        await olaf.http.put(
            f"{API}/companies/acme/teams/{team.id}/members", json={"agent_ids": [anna.id, lea.id]}
        )
    )
    return World(team.id, other.id, anna, lea, olaf, await srv.customer(name="Kim Kunde"))


async def set_sla(admin: Client, team: int, **values: Any) -> dict[str, Any]:
    return dict(ok(await admin.http.put(f"{API}/companies/acme/teams/{team}/sla", json=values)))


def clocks(c: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["target"]: s for s in c["sla"]}


async def records(srv: Server, cid: int) -> list[Any]:
    async with srv.runtime.db.read_engine.connect() as c:
        k = schema.sla_clocks.c
        q = select(schema.sla_clocks).where(k.conversation_id == cid).order_by(k.id)
        return list((await c.execute(q)).all())


# -- the admin API ------------------------------------------------------------------------------


async def test_a_team_policy_is_set_read_and_validated(srv: Server) -> None:
    w = await world(srv)
    empty = ok(await w.anna.get(f"{API}/companies/acme/teams/{w.team}/sla"))
    assert empty["first_response_minutes"] is None and empty["business_hours"] is None
    assert empty["effective_business_hours"] == ALWAYS and empty["timezone"] == "UTC"
    hours = {"mon": [["08:00", "12:00"], ["13:00", "17:00"]]}
    saved = await set_sla(
        w.olaf,
        w.team,
        business_hours=hours,
        holidays=[{"date": "2026-12-24", "name": "Heiligabend"}],
        first_response_minutes=120,
        resolution_minutes=2400,
        reassign_on_breach=True,
    )
    assert saved == ok(await w.lea.get(f"{API}/companies/acme/teams/{w.team}/sla"))
    assert (saved["effective_business_hours"], saved["next_response_minutes"]) == (hours, None)
    assert saved["holidays"] == [{"date": "2026-12-24", "name": "Heiligabend"}]
    path = f"{API}/companies/acme/teams/{w.team}/sla"
    refused(await w.anna.http.put(path, json={"first_response_minutes": 5}), 403, "forbidden")
    for body, field in (
        ({"first_response_minutes": 0}, "first_response_minutes"),
        ({"resolution_minutes": 10**6}, "resolution_minutes"),
        ({"business_hours": {"mon": [["18:00", "09:00"]]}}, "business_hours"),
        ({"business_hours": {"mon": []}}, "business_hours"),
        ({"holidays": [{"date": "2026-02-30", "name": "x"}]}, "holidays"),
    ):
        refused(await w.olaf.http.put(path, json=body), 422, "validation_error", field)
    refused(
        await w.olaf.http.put(f"{API}/companies/acme/teams/987654/sla", json={}),
        404,
        "not_found",
    )
    # nothing of the refused changes was stored
    assert ok(await w.lea.get(path)) == saved


# -- due times ----------------------------------------------------------------------------------


async def test_the_company_promise_then_the_team_targets_set_the_due_times(
    srv: Server, clock: FakeClock
) -> None:
    w = await world(srv, promise=30)
    card = ok(await w.kim.get(f"{API}/companies/acme"))
    assert at(card["reply_by"]) == clock.now() + timedelta(minutes=30)
    started = clock.now()
    cid = await start(w.kim, "Meine Rechnung stimmt nicht")
    first = clocks(await conv(w.anna, cid))
    assert set(first) == {"first_response"}  # the company promises answers, not resolutions
    assert at(first["first_response"]["due_at"]) == started + timedelta(minutes=30)
    assert at(first["first_response"]["warn_at"]) == started + timedelta(minutes=24)
    # the customer sees the same promise
    assert clocks(await conv(w.kim, cid)) == first

    await set_sla(
        w.olaf, w.team, first_response_minutes=120, next_response_minutes=60, resolution_minutes=600
    )
    clock.advance(timedelta(minutes=10))
    sock = await w.anna.ws()
    ok(await w.anna.post(f"{API}/conversations/{cid}/assignment", {"team_id": w.team}))
    changed = await next_event(sock, "conversation.sla_changed", cid)
    routed = clocks(await conv(w.anna, cid))
    assert changed["data"]["sla"] == (await conv(w.anna, cid))["sla"]
    # the 10 minutes used so far count against the team's 120
    assert at(routed["first_response"]["due_at"]) == started + timedelta(minutes=120)
    assert at(routed["resolution"]["due_at"]) == clock.now() + timedelta(minutes=600)
    assert at(changed["data"]["due_at"]) == started + timedelta(minutes=120)

    # an answer meets the first response; the customer's next message starts the next one
    clock.advance(timedelta(minutes=5))
    ok(await w.anna.send(cid, "Wir sehen nach"), 201)
    assert set(clocks(await conv(w.anna, cid))) == {"resolution"}
    clock.advance(timedelta(minutes=5))
    ok(await w.kim.send(cid, "Danke, und noch etwas"), 201)
    nxt = clocks(await conv(w.anna, cid))["next_response"]
    assert at(nxt["due_at"]) == clock.now() + timedelta(minutes=60)
    rows = await records(srv, cid)
    assert [(r.target, r.state, r.met_at is not None) for r in rows] == [
        ("first_response", "met", True),
        ("resolution", "running", False),
        ("next_response", "running", False),
    ]
    assert rows[0].elapsed_us == 15 * 60 * 10**6  # 15 minutes of business time to answer
    await sock.close()


async def test_holidays_and_closed_hours_move_the_due_time(srv: Server, clock: FakeClock) -> None:
    w = await world(srv)
    today = clock.now().date()
    holidays = [
        {"date": (today + timedelta(days=k)).isoformat(), "name": f"Frei {k}"} for k in (0, 1)
    ]
    await set_sla(
        w.olaf, w.team, first_response_minutes=90, holidays=holidays, business_hours=ALWAYS
    )
    cid = await start(w.kim, "Hallo")
    ok(await w.anna.post(f"{API}/conversations/{cid}/assignment", {"team_id": w.team}))
    due = at(clocks(await conv(w.anna, cid))["first_response"]["due_at"])
    opening = datetime(today.year, today.month, today.day, tzinfo=UTC) + timedelta(days=2)
    assert due == opening + timedelta(minutes=90)


# -- pauses -------------------------------------------------------------------------------------


async def test_pending_pauses_the_clocks_and_the_customer_reply_resumes_them(
    srv: Server, clock: FakeClock
) -> None:
    w = await world(srv)
    await set_sla(
        w.olaf, w.team, first_response_minutes=60, next_response_minutes=45, resolution_minutes=120
    )
    cid = await start(w.kim, "Mein Gerät ist kaputt")
    ok(await w.anna.post(f"{API}/conversations/{cid}/assignment", {"team_id": w.team}))
    clock.advance(timedelta(minutes=30))
    ok(await w.anna.send(cid, "Welche Seriennummer?"), 201)
    await set_status(w.anna, cid, "pending")
    paused = clocks(await conv(w.anna, cid))["resolution"]
    assert (paused["paused"], paused["due_at"]) == (True, None)
    async with srv.runtime.db.read_engine.connect() as c:
        row = (
            await c.execute(select(schema.conversations).where(schema.conversations.c.id == cid))
        ).one()
    assert row.sla_due_at is None  # a paused conversation sorts with those not due

    clock.advance(timedelta(hours=5))  # the customer takes their time: none of it counts
    ok(await w.kim.send(cid, "SN 12345"), 201)
    resumed = clocks(await conv(w.anna, cid))
    assert resumed["resolution"]["paused"] is False
    assert at(resumed["resolution"]["due_at"]) == clock.now() + timedelta(minutes=90)
    # the wait since the answer is new: the team's next-response target applies
    assert at(resumed["next_response"]["due_at"]) == clock.now() + timedelta(minutes=45)

    # snoozing pauses too; the wake-up resumes
    await set_status(w.anna, cid, "snoozed", clock.now() + timedelta(hours=2))
    clock.advance(timedelta(hours=2))
    await worker_caught_up(srv)
    woke = await conv(w.anna, cid)
    assert woke["status"] == "open"
    assert at(clocks(woke)["resolution"]["due_at"]) == clock.now() + timedelta(minutes=90)
    rows = {r.target: r for r in await records(srv, cid)}
    assert rows["resolution"].paused_us == 7 * 3600 * 10**6

    await set_status(w.anna, cid, "resolved")
    assert (await conv(w.anna, cid))["sla"] == []
    states = {r.target: r.state for r in await records(srv, cid)}
    assert states == {"first_response": "met", "resolution": "met", "next_response": "cancelled"}


# -- warnings and breaches ----------------------------------------------------------------------


async def test_a_warning_at_80_percent_then_a_breach_that_escalates(
    srv: Server, clock: FakeClock
) -> None:
    w = await world(srv)
    await set_sla(w.olaf, w.team, first_response_minutes=100, reassign_on_breach=True)
    cid = await start(w.kim, "Dringend!")
    ok(await w.anna.post(f"{API}/conversations/{cid}/assignment", {"team_id": w.team}))
    ok(await w.anna.post(f"{API}/conversations/{cid}/assignment", {"agent_id": w.anna.id}))
    lea, kim = await w.lea.ws(), await w.kim.ws()
    clock.advance(timedelta(minutes=79))
    await worker_caught_up(srv)
    assert clocks(await conv(w.anna, cid))["first_response"]["warned"] is False

    clock.advance(timedelta(minutes=1))
    warning = await next_event(lea, "conversation.sla_warning", cid)
    assert warning["data"]["target"] == "first_response"
    told = await next_event(kim, "conversation.sla_warning", cid)  # the honest update
    assert told["pos"] == warning["pos"]
    assert clocks(await conv(w.kim, cid))["first_response"]["warned"] is True

    clock.advance(timedelta(minutes=20))
    breach = await next_event(lea, "conversation.sla_breached", cid)
    assert set(breach["data"]) == BREACH_KEYS
    assert set(warning["data"]) == {"conversation_id", "target", "due_at"}
    assert breach["data"]["leads"] == [w.lea.id]  # the team's lead, not the admin
    assert breach["data"]["reassigned"] is True
    moved = await next_event(lea, "conversation.assigned", cid)
    assert moved["data"]["owner"] == {"type": "team", "id": w.team}
    after = await conv(w.anna, cid)
    assert after["owner"] == {"type": "team", "id": w.team}
    assert at(clocks(after)["first_response"]["breached_at"]) == at(breach["data"]["due_at"])
    # the customer hears of it through the promise itself, never the staff event
    changed = await kim.wait_for(
        lambda f: (
            f["type"] == "conversation.sla_changed"
            and f["data"]["sla"]
            and f["data"]["sla"][0]["breached_at"] is not None
        )
    )
    assert changed["data"]["conversation_id"] == cid
    assert set(changed["data"]) == {"conversation_id", "sla", "due_at"}
    assert set(changed["data"]["sla"][0]) == CLOCK_KEYS
    assert all(f["type"] != "conversation.sla_breached" for f in kim.pending)
    await worker_caught_up(srv)
    # an answer after the breach still meets it: the record has both
    ok(await w.anna.send(cid, "Entschuldigung, hier die Antwort"), 201)
    (row,) = [r for r in await records(srv, cid) if r.target == "first_response"]
    assert (row.state, row.breached_at is not None, row.met_at is not None) == ("met", True, True)
    await lea.close()
    await kim.close()


async def test_an_answer_in_time_makes_the_timers_no_ops(srv: Server, clock: FakeClock) -> None:
    w = await world(srv)
    cid = await start(w.kim, "Kurze Frage")
    sock = await w.lea.ws()
    clock.advance(timedelta(minutes=10))
    ok(await w.anna.send(cid, "Kurze Antwort"), 201)
    clock.advance(timedelta(hours=1))
    await worker_caught_up(srv)
    frames = [*sock.pending, *await sock.frames_until_quiet(0.2)]
    assert not [f for f in frames if f["type"].startswith("conversation.sla_w")]
    assert not [f for f in frames if f["type"] == "conversation.sla_breached"]
    (row,) = await records(srv, cid)
    assert (row.state, row.warned_at, row.breached_at) == ("met", None, None)
    await sock.close()


async def test_sort_by_due_time(srv: Server, clock: FakeClock) -> None:
    w = await world(srv, promise=60)
    late = await start(w.kim, "Zuerst gefragt")  # due in 60
    clock.advance(timedelta(minutes=5))
    await set_sla(w.olaf, w.team, first_response_minutes=10)
    soon = await start(w.kim, "Später, aber dringender")
    ok(await w.anna.post(f"{API}/conversations/{soon}/assignment", {"team_id": w.team}))
    answered = await start(w.kim, "Schon beantwortet")
    ok(await w.anna.send(answered, "Erledigt"), 201)
    page = ok(await w.anna.get(f"{API}/conversations", params={"sort": "due", "limit": 2}))
    assert [i["id"] for i in page["items"]] == [soon, late]
    rest = ok(
        await w.anna.get(
            f"{API}/conversations", params={"sort": "due", "cursor": page["next_cursor"]}
        )
    )
    assert [i["id"] for i in rest["items"]] == [answered]
    # a cursor of another sort is refused
    refused(
        await w.anna.get(
            f"{API}/conversations", params={"sort": "newest", "cursor": page["next_cursor"]}
        ),
        422,
        "validation_error",
        "cursor",
    )


# -- durable across a restart -------------------------------------------------------------------


async def test_the_breach_escalates_after_a_restart(db_url: str, tmp_path: Path) -> None:
    clock = FakeClock(datetime.now(UTC).replace(microsecond=0))
    lead_email = f"lea-{uuid.uuid4().hex[:6]}@example.com"
    async with start_server(db_url, tmp_path, clock=clock) as first:
        w = await world(first)
        await set_sla(w.olaf, w.team, first_response_minutes=45)
        cid = await start(w.kim, "Bitte schnell")
        ok(await w.anna.post(f"{API}/conversations/{cid}/assignment", {"team_id": w.team}))
        company = await first.company("acme")
        lead = await first.agent(company, email=lead_email, role=Role.LEAD, name="Lars Lead")
        ok(
            await w.olaf.http.put(
                f"{API}/companies/acme/teams/{w.team}/members",
                json={"agent_ids": [w.anna.id, w.lea.id, lead.id]},
            )
        )
        leads = sorted([w.lea.id, lead.id])
    # the first server and its worker are gone; the jobs wait in the database
    async with start_server(db_url, tmp_path, clock=clock) as second:
        lars = await login(second, "agent", lead_email)
        sock = await lars.ws()
        clock.advance(timedelta(minutes=45))
        breach = await next_event(sock, "conversation.sla_breached", cid)
        assert breach["data"]["leads"] == leads
        assert clocks(await conv(lars, cid))["first_response"]["breached_at"] is not None
        await worker_caught_up(second)
        (row,) = [r for r in await records(second, cid) if r.target == "first_response"]
        assert row.breached_at is not None and row.state == "running"
        await sock.close()
