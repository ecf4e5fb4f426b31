"""Callbacks (docs/callbacks.md) through a real server whose time is a FakeClock.

The company "acme" is open Monday to Friday 09:00-12:00 in Berlin; the clock starts on the next
Monday at 08:00 Berlin time (near the real date: session cookies expire by the real clock). With
two business days ahead and a one-hour lead the offer is Monday and Tuesday 09:00-11:30, six
half-hour slots a day.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import select

from eyelevel.clock import FakeClock
from eyelevel.core.actions import callbacks as cb_actions
from eyelevel.core.actions import operator
from eyelevel.core.entities import Role
from eyelevel.storage import schema
from tests.harness import Client, Server, Socket, all_messages, start_server

API = "/api/v1"
HOURS = {d: [["09:00", "12:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
BERLIN = ZoneInfo("Europe/Berlin")
_today = datetime.now(BERLIN).date()
MONDAY = _today + timedelta(days=7 - _today.weekday())


def local(day: int, hhmm: str) -> datetime:
    """``hhmm`` Berlin time on the ``day``-th day after that Monday, in UTC."""
    hour, minute = (int(x) for x in hhmm.split(":"))
    at = datetime.combine(MONDAY + timedelta(days=day), time(hour, minute), BERLIN)
    return at.astimezone(UTC)


def at(day: int, hhmm: str) -> str:
    return local(day, hhmm).isoformat().replace("+00:00", "Z")


START = local(0, "08:00")
NINE = at(0, "09:00")  # the first slot
PHONE = "+49 30 5550199"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(START)


@pytest.fixture
async def srv(db_url: str, tmp_path: Path, clock: FakeClock) -> AsyncIterator[Server]:
    async with start_server(db_url, tmp_path, clock=clock) as server:
        yield server


def ok(r: httpx.Response, status: int = 200) -> Any:
    assert r.status_code == status, r.text
    return r.json() if r.content else None


def refused(r: httpx.Response, status: int, code: str) -> None:
    assert r.status_code == status, r.text
    assert r.json()["code"] == code, r.text


@dataclass
class World:
    admin: Client
    agent: Client
    kim: Client
    cid: int


async def world(srv: Server) -> World:
    company, _ = await operator.ensure_company(
        srv.runtime.ctx, slug="acme", name="Acme AG", business_hours=HOURS
    )
    admin = await srv.agent(company, role=Role.ADMIN, name="Ada Admin")
    settings = {"slot_minutes": 30, "days_ahead": 2, "lead_minutes": 60}
    ok(
        await admin.http.put(
            f"{API}/companies/acme/callback-settings",
            json={**settings, "all_agents": False, "agent_ids": []},
        )
    )
    agent = await srv.agent(company, name="Carl Caller")
    ok(
        await admin.http.put(
            f"{API}/companies/acme/callback-settings",
            json={**settings, "all_agents": False, "agent_ids": [agent.id]},
        )
    )
    kim = await srv.customer(name="Kim Kunde")
    started = await kim.start_conversation("acme", "Bitte ruft mich an")
    return World(admin, agent, kim, int(started["conversation"]["id"]))


async def slots(c: Client, cid: int) -> list[dict[str, Any]]:
    return list(ok(await c.get(f"{API}/conversations/{cid}/callbacks/slots"))["items"])


async def book(c: Client, cid: int, start: str = NINE, **kw: Any) -> httpx.Response:
    body = {"start": start, "phone": PHONE, "note": "Rechnung 4711", **kw}
    return await c.post(f"{API}/conversations/{cid}/callbacks", body)


async def jobs(srv: Server, kind: str) -> list[datetime]:
    async with srv.runtime.db.read_engine.connect() as conn:
        q = select(schema.jobs.c.run_at).where(schema.jobs.c.kind == kind)
        return sorted(r[0] for r in await conn.execute(q))


async def frame(sock: Socket, type_: str, **match: Any) -> dict[str, Any]:
    def wanted(f: dict[str, Any]) -> bool:
        return f["type"] == type_ and all(f["data"].get(k) == v for k, v in match.items())

    return await sock.wait_for(wanted)


async def test_slots_follow_the_hours_and_the_capacity(srv: Server) -> None:
    w = await world(srv)
    offered = await slots(w.kim, w.cid)
    starts = [s["start"] for s in offered]
    hours = [f"{h:02d}:{m:02d}" for h in (9, 10, 11) for m in (0, 30)]
    assert starts == [at(0, h) for h in hours] + [at(1, h) for h in hours]
    assert {s["free"] for s in offered} == {1}
    assert offered[0]["end"] == at(0, "09:30")

    kims = ok(await book(w.kim, w.cid), 201)
    # the only capable agent holds 09:00 now: the slot is full and no longer offered
    assert NINE not in [s["start"] for s in await slots(w.kim, w.cid)]
    ben = await srv.customer(name="Ben Kunde")
    ben_cid = (await ben.start_conversation("acme", "Rückruf bitte"))["conversation"]["id"]
    refused(await book(ben, ben_cid), 409, "callback_slot_full")
    refused(await book(ben, ben_cid, start=at(0, "09:10")), 422, "callback_slot_invalid")
    refused(await book(ben, ben_cid, start=at(2, "09:00")), 422, "callback_slot_invalid")

    # a second capable agent: the slot has room again, for one
    company, _ = await operator.ensure_company(srv.runtime.ctx, slug="acme", name="Acme AG")
    dora = await srv.agent(company, name="Dora Dial")
    body = {"slot_minutes": 30, "days_ahead": 2, "lead_minutes": 60, "all_agents": True}
    ok(await w.admin.http.put(f"{API}/companies/acme/callback-settings", json=body))
    nine = [s for s in await slots(ben, ben_cid) if s["start"] == NINE]
    assert [s["free"] for s in nine] == [3 - 1]  # admin, Carl and Dora take callbacks; Kim's
    booked = ok(await book(ben, ben_cid), 201)
    assert booked["owner"] is None  # the customer never sees who owns it
    seen = ok(await dora.get(f"{API}/callbacks/{booked['id']}"))
    assert (
        seen["owner"]["id"] != ok(await w.agent.get(f"{API}/callbacks/{kims['id']}"))["owner"]["id"]
    )


async def test_concurrent_bookings_never_overbook_a_slot(srv: Server) -> None:
    w = await world(srv)
    others = [await srv.customer(name=f"Kunde {i}") for i in range(3)]
    cids = [(await c.start_conversation("acme", "Ruf an"))["conversation"]["id"] for c in others]
    results = await asyncio.gather(
        book(w.kim, w.cid), *(book(c, cid) for c, cid in zip(others, cids, strict=True))
    )
    codes = sorted(r.status_code for r in results)
    assert codes == [201, 409, 409, 409], [r.text for r in results]
    assert {r.json()["code"] for r in results if r.status_code == 409} == {"callback_slot_full"}


async def test_booking_grants_the_phone_through_the_sharing_rule(srv: Server) -> None:
    w = await world(srv)
    before = ok(await w.agent.get(f"{API}/conversations/{w.cid}"))["customer"]
    assert before.get("phone") is None
    refused(await book(w.kim, w.cid, phone=None), 422, "phone_required")
    booked = ok(await book(w.kim, w.cid), 201)
    assert booked["state"] == "booked" and booked["note"] == "Rechnung 4711"

    ledger = ok(await w.kim.get(f"{API}/me/consents"))
    assert [(e["action"], e["field"], e["screen"]) for e in ledger] == [
        ("grant", "phone", "callback")
    ]
    assert ok(await w.kim.get(f"{API}/me/profile"))["phone"] == PHONE
    card = ok(await w.kim.get(f"{API}/me/privacy/acme"))
    assert [f["field"] for f in card["fields"] if f["shared"]] == ["phone"]
    seen = ok(await w.agent.get(f"{API}/callbacks/{booked['id']}"))
    assert seen["customer"]["phone"] == PHONE and seen["summary"] is None
    # one active callback per conversation
    refused(await book(w.kim, w.cid, start=at(0, "10:00")), 409, "callback_active")

    # revoking the phone on the privacy card hides it from the callback at once
    body = {"fields": {"phone": False}, "screen": "privacy_card", "text_version": "privacy-card-1"}
    ok(await w.kim.http.put(f"{API}/me/privacy/acme", json=body))
    seen = ok(await w.agent.get(f"{API}/callbacks/{booked['id']}"))
    assert seen["customer"]["phone"] is None


async def test_the_owner_is_reminded_before_the_slot(srv: Server, clock: FakeClock) -> None:
    w = await world(srv)
    sock = await w.agent.ws()
    booked = ok(await book(w.kim, w.cid, start=at(0, "10:30")), 201)
    assert await jobs(srv, cb_actions.REMIND) == [local(0, "10:20")]
    await frame(sock, "callback.booked", id=booked["id"])
    clock.advance(timedelta(hours=2, minutes=20))  # 10:20 Berlin: ten minutes before
    reminder = await frame(sock, "callback.reminder", callback_id=booked["id"])
    assert reminder["data"]["owner_agent_id"] == w.agent.id
    assert reminder["data"]["slot_start"] == at(0, "10:30")
    mine = ok(await w.agent.get(f"{API}/companies/acme/callbacks", params={"owner": "me"}))
    assert mine["day"] == MONDAY.isoformat() and [c["id"] for c in mine["items"]] == [booked["id"]]
    assert (
        ok(await w.admin.get(f"{API}/companies/acme/callbacks", params={"owner": "me"}))["items"]
        == []
    )


async def test_an_outcome_lands_in_the_timeline(srv: Server) -> None:
    w = await world(srv)
    customer_sock = await w.kim.ws()
    booked = ok(await book(w.kim, w.cid), 201)
    refused(await w.kim.post(f"{API}/callbacks/{booked['id']}/start"), 403, "forbidden")
    calling = ok(await w.agent.post(f"{API}/callbacks/{booked['id']}/start"))
    assert calling["state"] == "calling"
    changed = await frame(customer_sock, "callback.changed", id=booked["id"], state="calling")
    assert "summary" not in changed["data"] and "phone" not in changed["data"]
    outcome = {"reached": True, "duration_seconds": 240, "summary": "Gutschrift zugesagt"}
    done = ok(await w.agent.post(f"{API}/callbacks/{booked['id']}/outcome", outcome))
    assert (done["state"], done["outcome"], done["duration_seconds"]) == ("done", "reached", 240)
    await frame(customer_sock, "callback.changed", id=booked["id"], state="done")

    theirs = await all_messages(w.kim.http, w.cid)
    assert [m["kind"] for m in theirs] == ["customer", "system"]
    assert theirs[-1]["body"] == cb_actions.DONE_TEXT
    assert all("Gutschrift" not in m["body"] for m in theirs)
    ours = await all_messages(w.agent.http, w.cid)
    assert [m["kind"] for m in ours] == ["customer", "note", "system"]
    assert "erreicht / reached · 4 min" in ours[1]["body"]
    assert "Gutschrift zugesagt" in ours[1]["body"]
    customer_view = ok(await w.kim.get(f"{API}/callbacks/{booked['id']}"))
    assert customer_view["summary"] is None and customer_view["state"] == "done"
    refused(
        await w.agent.post(f"{API}/callbacks/{booked['id']}/outcome", outcome),
        409,
        "callback_state",
    )


async def test_a_missed_slot_escalates_and_offers_a_new_one(srv: Server, clock: FakeClock) -> None:
    w = await world(srv)
    company, _ = await operator.ensure_company(srv.runtime.ctx, slug="acme", name="Acme AG")
    lead = await srv.agent(company, role=Role.LEAD, name="Lea Lead")
    lead_sock, customer_sock = await lead.ws(), await w.kim.ws()
    booked = ok(await book(w.kim, w.cid), 201)
    clock.advance(timedelta(hours=1, minutes=44))  # 09:44 Berlin: 14 minutes after the slot
    assert (await jobs(srv, cb_actions.CHECK_MISSED)) == [local(0, "09:45")]
    clock.advance(timedelta(minutes=1))
    escalated = await frame(lead_sock, "callback.escalated", callback_id=booked["id"])
    assert escalated["data"]["reason"] == "no_outcome"
    await frame(customer_sock, "callback.changed", id=booked["id"], state="missed")
    told = await frame(customer_sock, "message.created", kind="system")
    assert told["data"]["body"] == cb_actions.MISSED_TEXT["no_outcome"]
    customer_frames = await customer_sock.frames_until_quiet()
    assert "callback.escalated" not in {f["type"] for f in customer_frames + customer_sock.pending}

    # the offer: a new slot from the missed one
    offered = await slots(w.kim, w.cid)
    new = ok(
        await w.kim.post(
            f"{API}/callbacks/{booked['id']}/reschedule", {"start": offered[0]["start"]}
        ),
        201,
    )
    assert new["state"] == "booked" and new["rescheduled_from"] == booked["id"]
    old = ok(await w.kim.get(f"{API}/callbacks/{booked['id']}"))
    assert (old["state"], old["replaced_by"]) == ("rescheduled", new["id"])


async def test_not_reached_escalates_too(srv: Server) -> None:
    w = await world(srv)
    agent_sock = await w.agent.ws()
    booked = ok(await book(w.kim, w.cid), 201)
    outcome = {"reached": False, "summary": "Mailbox"}
    missed = ok(await w.agent.post(f"{API}/callbacks/{booked['id']}/outcome", outcome))
    assert (missed["state"], missed["outcome"]) == ("missed", "not_reached")
    escalated = await frame(agent_sock, "callback.escalated", callback_id=booked["id"])
    assert escalated["data"]["reason"] == "not_reached"
    theirs = await all_messages(w.kim.http, w.cid)
    assert theirs[-1]["body"] == cb_actions.MISSED_TEXT["not_reached"]


async def test_the_customer_reschedules_and_cancels(srv: Server) -> None:
    w = await world(srv)
    booked = ok(await book(w.kim, w.cid), 201)
    later = at(1, "11:00")
    new = ok(await w.kim.post(f"{API}/callbacks/{booked['id']}/reschedule", {"start": later}), 201)
    assert (new["slot_start"], new["state"], new["note"]) == (later, "booked", "Rechnung 4711")
    # the old slot is free again, the new one taken
    starts = [s["start"] for s in await slots(w.kim, w.cid)]
    assert NINE in starts and later not in starts
    refused(
        await w.kim.post(f"{API}/callbacks/{booked['id']}/reschedule", {"start": NINE}),
        409,
        "callback_state",
    )
    cancelled = ok(await w.kim.post(f"{API}/callbacks/{new['id']}/cancel"))
    assert cancelled["state"] == "cancelled"
    assert later in [s["start"] for s in await slots(w.kim, w.cid)]
    refused(await w.kim.post(f"{API}/callbacks/{new['id']}/cancel"), 409, "callback_state")
    listed = ok(await w.kim.get(f"{API}/conversations/{w.cid}/callbacks"))
    assert [(c["id"], c["state"]) for c in listed] == [
        (new["id"], "cancelled"),
        (booked["id"], "rescheduled"),
    ]
    # and a new booking is possible again
    ok(await book(w.kim, w.cid, phone=None), 201)
