"""The agent inbox's views over the API (docs/inbox.md, "Inbox views"), through a real server.

Sorting (newest activity, oldest waiting) with keyset pagination across pages, the owner,
status, label, customer and mention filters, the sidebar counts, @mentions in private notes
(stored, validated, in events, never at the customer), ``waiting_since``, the snooze timer
(a durable job, also across a restart) and the customer panel. Time is a ``FakeClock``: many
rows share a timestamp on purpose, so the cursors' tie-breaks are exercised too.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event, func, select

from eyelevel.clock import FakeClock
from eyelevel.core.actions import operator
from eyelevel.core.entities import Role
from eyelevel.storage import schema
from tests.harness import PASSWORD, Client, Server, Socket, start_server
from tests.test_api import assert_problem

API = "/api/v1"
GHOST = 987_654_321


# -- fixtures and helpers ----------------------------------------------------------------------


@pytest.fixture
def clock() -> FakeClock:
    # near the real time: the session cookies' expiry is judged by the HTTP client's clock
    return FakeClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
async def srv(db_url: str, tmp_path: Path, clock: FakeClock) -> AsyncIterator[Server]:
    async with start_server(db_url, tmp_path, clock=clock) as server:
        yield server


def ok(r: httpx.Response, status: int = 200) -> Any:
    assert r.status_code == status, r.text
    return r.json() if r.content else None


def refused(r: httpx.Response, status: int, code: str, field: str | None = None) -> dict[str, Any]:
    body = assert_problem(r, status, code)
    if field is not None:
        assert body.get("field") == field, body
    return body


def at(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value.replace("Z", "+00:00"))


async def conv(c: Client, cid: int) -> dict[str, Any]:
    return dict(ok(await c.get(f"{API}/conversations/{cid}")))


async def messages(c: Client, cid: int) -> list[dict[str, Any]]:
    return list(
        ok(await c.get(f"{API}/conversations/{cid}/messages", params={"limit": 200}))["items"]
    )


async def listing(c: Client, **params: Any) -> list[dict[str, Any]]:
    """One page of up to 200: everything, for the small worlds here."""
    page = ok(await c.get(f"{API}/conversations", params={"limit": 200, **params}))
    assert page["next_cursor"] is None
    return list(page["items"])


async def paged(c: Client, limit: int, **params: Any) -> list[dict[str, Any]]:
    """Every item, page by page along ``next_cursor``; no page longer than ``limit``."""
    items: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(200):
        query = {"limit": limit, **params, **({"cursor": cursor} if cursor else {})}
        page = ok(await c.get(f"{API}/conversations", params=query))
        assert len(page["items"]) <= limit
        items += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            ids = [i["id"] for i in items]
            assert len(ids) == len(set(ids)), f"a row on two pages: {ids}"
            return items
        assert len(page["items"]) == limit, "a cursor after a short page"
    raise AssertionError("the pages never end")


def newest_first(items: list[dict[str, Any]]) -> list[int]:
    """Newest activity first: a conversation's last message (notes do not count), then id."""
    return [
        i["id"]
        for i in sorted(items, key=lambda i: (at(i["last_message_at"]), i["id"]), reverse=True)
    ]


def waiting_first(items: list[dict[str, Any]]) -> list[int]:
    """The customer waiting longest first (ties: older activity, lower id); then the others,
    newest activity first."""
    waiting = [i for i in items if i["waiting_since"] is not None]
    idle = [i for i in items if i["waiting_since"] is None]
    waiting.sort(key=lambda i: (at(i["waiting_since"]), at(i["last_message_at"]), i["id"]))
    return [i["id"] for i in waiting] + newest_first(idle)


async def counts(c: Client, slug: str = "acme", status: str = "open") -> dict[str, Any]:
    return dict(ok(await c.get(f"{API}/companies/{slug}/inbox", params={"status": status})))


async def login(server: Server, kind: str, email: str) -> Client:
    c = server.client(kind)
    ok(await c.post(f"{API}/auth/login", {"kind": kind, "email": email, "password": PASSWORD}))
    return c


async def next_event(sock: Socket, kind: str, cid: int) -> dict[str, Any]:
    return await sock.wait_for(
        lambda f: f["type"] == kind and f["data"].get("conversation_id") == cid
    )


async def jobs_due(server: Server) -> int:
    """Jobs the worker should have run by now (on the server's clock)."""
    now = server.runtime.ctx.clock.now()
    async with server.runtime.db.read_engine.connect() as c:
        q = select(func.count()).select_from(schema.jobs).where(schema.jobs.c.run_at <= now)
        return int((await c.execute(q)).scalar_one())


async def worker_caught_up(server: Server) -> None:
    """Until the worker has run every due job: the point after which a no-op job is known to
    have changed nothing (waiting for the record, not for a duration)."""
    for _ in range(500):
        if await jobs_due(server) == 0:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("due jobs were never run")


@dataclass
class Acme:
    company_id: int
    anna: Client  # agent
    ben: Client  # agent
    otto: Client  # admin
    support: int  # team ids
    technik: int
    kim: Client  # customers
    lena: Client


async def acme(server: Server) -> Acme:
    company = await server.company("acme", "Acme AG")
    support = await operator.ensure_team(server.runtime.ctx, company, "Support")
    technik = await operator.ensure_team(server.runtime.ctx, company, "Technik")
    return Acme(
        company.id,
        await server.agent(company, name="Anna Albers"),
        await server.agent(company, name="Ben Becker"),
        await server.agent(company, role=Role.ADMIN, name="Otto Ott"),
        support.id,
        technik.id,
        await server.customer(name="Kim Kunde"),
        await server.customer(name="Lena Lang"),
    )


async def start(c: Client, body: str, slug: str = "acme") -> int:
    return int((await c.start_conversation(slug, body))["conversation"]["id"])


async def assign(c: Client, cid: int, **owner: int) -> None:
    ok(await c.post(f"{API}/conversations/{cid}/assignment", owner))


async def set_status(c: Client, cid: int, status: str, until: datetime | None = None) -> None:
    body: dict[str, Any] = {"status": status}
    if until is not None:
        body["snoozed_until"] = until.isoformat()
    ok(await c.post(f"{API}/conversations/{cid}/status", body))


async def label(admin: Client, name: str) -> int:
    created = ok(
        await admin.post(f"{API}/companies/acme/labels", {"name": name, "color": "#1d4ed8"}), 201
    )
    return int(created["id"])


async def put_labels(c: Client, cid: int, *ids: int) -> None:
    ok(await c.http.put(f"{API}/conversations/{cid}/labels", json={"label_ids": list(ids)}))


# -- waiting_since -----------------------------------------------------------------------------


async def test_waiting_since_starts_with_the_customer_and_ends_with_an_answer(
    srv: Server, clock: FakeClock
) -> None:
    w = await acme(srv)
    token = await srv.token_client(await srv.company("acme"), name="CRM")
    started = await w.kim.start_conversation("acme", "Wo bleibt mein Paket?")
    cid = started["conversation"]["id"]
    first = at(started["message"]["created_at"])
    assert at((await conv(w.anna, cid))["waiting_since"]) == first

    # the customer writing again, a note and a system-free read leave the wait where it began
    clock.advance(timedelta(minutes=5))
    ok(await w.kim.send(cid, "Hallo?"), 201)
    ok(await w.anna.send(cid, "intern: Spedition fragen", note=True), 201)
    ok(await w.anna.post(f"{API}/conversations/{cid}/read", {"seq": 2}))
    assert at((await conv(w.anna, cid))["waiting_since"]) == first

    # an agent's answer ends it; the next customer message starts a new one
    clock.advance(timedelta(minutes=5))
    ok(await w.anna.send(cid, "Es ist unterwegs."), 201)
    assert (await conv(w.anna, cid))["waiting_since"] is None
    clock.advance(timedelta(minutes=5))
    again = ok(await w.kim.send(cid, "Danke, und die Rechnung?"), 201)
    assert at((await conv(w.anna, cid))["waiting_since"]) == at(again["created_at"])

    # an integration's answer (a bot message) ends it too
    ok(await token.send(cid, "Rechnung 4711 ist unterwegs."), 201)
    assert (await conv(w.anna, cid))["waiting_since"] is None

    # resolving ends a wait; reopened by the customer, the wait starts at that message
    clock.advance(timedelta(minutes=5))
    ok(await w.kim.send(cid, "Noch etwas"), 201)
    assert (await conv(w.anna, cid))["waiting_since"] is not None
    await set_status(w.anna, cid, "resolved")
    assert (await conv(w.anna, cid))["waiting_since"] is None
    clock.advance(timedelta(minutes=5))
    reopened = ok(await w.kim.send(cid, "Doch noch eine Frage"), 201)
    after = await conv(w.anna, cid)
    assert (after["status"], at(after["waiting_since"])) == ("open", at(reopened["created_at"]))

    # the customer's own view carries none of the company's fields
    mine = await conv(w.kim, cid)
    assert (mine["waiting_since"], mine["customer"], mine["labels"]) == (None, None, None)
    assert all(
        (i["waiting_since"], i["customer"], i["labels"]) == (None, None, None)
        for i in await listing(w.kim)
    )


# -- the views: sorts, filters, pages ----------------------------------------------------------


async def build_inbox(srv: Server, clock: FakeClock, w: Acme) -> dict[str, int]:
    """Fourteen conversations in every state the views tell apart. The clock stands still for
    some steps, so several rows share ``waiting_since`` and ``last_message_at``."""
    vip, rueckruf = await label(w.otto, "VIP"), await label(w.otto, "Rückruf")
    c: dict[str, int] = {}
    # same instant: three waiting customers with equal waiting_since and activity
    for key in ("tie1", "tie2", "tie3"):
        c[key] = await start(w.kim if key != "tie2" else w.lena, f"Frage {key}")
    clock.advance(timedelta(minutes=1))
    c["answered"] = await start(w.kim, "Beantwortet")
    ok(await w.anna.send(c["answered"], "Erledigt."), 201)
    clock.advance(timedelta(minutes=1))
    c["mine_waiting"] = await start(w.lena, "Für Anna")
    await assign(w.anna, c["mine_waiting"], agent_id=w.anna.id)
    c["mine_answered"] = await start(w.kim, "Anna hat geantwortet")
    await assign(w.anna, c["mine_answered"], agent_id=w.anna.id)
    ok(await w.anna.send(c["mine_answered"], "Antwort"), 201)
    clock.advance(timedelta(minutes=1))
    c["ben"] = await start(w.kim, "Für Ben")
    await assign(w.ben, c["ben"], agent_id=w.ben.id)
    c["support_waiting"] = await start(w.lena, "Support-Queue")
    await assign(w.ben, c["support_waiting"], team_id=w.support)
    clock.advance(timedelta(minutes=1))
    c["support_answered"] = await start(w.kim, "Support hat geantwortet")
    await assign(w.ben, c["support_answered"], team_id=w.support)
    ok(await w.ben.send(c["support_answered"], "Antwort vom Support"), 201)
    c["technik"] = await start(w.kim, "Technik")
    await assign(w.ben, c["technik"], team_id=w.technik)
    clock.advance(timedelta(minutes=1))
    c["pending"] = await start(w.lena, "Wartet auf Kundin")
    ok(await w.anna.send(c["pending"], "Bitte Foto schicken"), 201)
    await set_status(w.anna, c["pending"], "pending")
    c["resolved"] = await start(w.kim, "Gelöst")
    await set_status(w.anna, c["resolved"], "resolved")
    c["snoozed"] = await start(w.lena, "Später")
    await set_status(w.anna, c["snoozed"], "snoozed", clock.now() + timedelta(days=3))
    # an older waiting conversation gets newer activity: it stays first in waiting order
    clock.advance(timedelta(minutes=1))
    ok(await w.kim.send(c["tie1"], "Hallo? Noch da?"), 201)
    c["late"] = await start(w.lena, "Ganz neu")
    # a note is no activity, and does not end the wait
    ok(await w.anna.send(c["tie3"], "intern: prüfen", note=True), 201)
    for key in ("tie2", "mine_waiting", "support_answered", "resolved"):
        await put_labels(w.anna, c[key], vip)
    await put_labels(w.anna, c["tie2"], vip, rueckruf)
    c["label:vip"], c["label:rueckruf"] = vip, rueckruf
    return c


async def test_every_view_pages_through_its_rows_in_both_sorts(
    srv: Server, clock: FakeClock
) -> None:
    w = await acme(srv)
    c = await build_inbox(srv, clock, w)
    vip, rueckruf = c["label:vip"], c["label:rueckruf"]
    everything = await listing(w.otto)
    assert len(everything) == 14
    by_id = {i["id"]: i for i in everything}
    kim = by_id[c["tie1"]]["customer"]
    # the display name only: Kim shares nothing else with Acme (docs/privacy.md)
    assert (kim["id"], kim["name"], kim["email"], kim["shared"]) == (
        w.kim.id,
        "Kim Kunde",
        None,
        [],
    )
    assert sorted(by_id[c["tie2"]]["labels"]) == sorted([vip, rueckruf])
    assert by_id[c["tie3"]]["labels"] == []

    def owned(kind: str, oid: int) -> Callable[[dict[str, Any]], bool]:
        return lambda i: i["owner"] == {"type": kind, "id": oid}

    open_ = {"status": "open"}
    views: list[tuple[dict[str, Any], Callable[[dict[str, Any]], bool]]] = [
        ({}, lambda i: True),
        (open_, lambda i: i["status"] == "open"),
        (
            {**open_, "owner": "me"},
            lambda i: i["status"] == "open" and owned("agent", w.anna.id)(i),
        ),
        (
            {**open_, "owner": "unassigned"},
            lambda i: (
                i["status"] == "open" and (i["owner"] is None or i["owner"]["type"] == "team")
            ),
        ),
        (
            {**open_, "owner": f"team:{w.support}"},
            lambda i: i["status"] == "open" and owned("team", w.support)(i),
        ),
        ({"owner": f"agent:{w.ben.id}"}, owned("agent", w.ben.id)),
        ({"status": "resolved"}, lambda i: i["status"] == "resolved"),
        ({"status": "pending"}, lambda i: i["status"] == "pending"),
        ({"status": "snoozed"}, lambda i: i["status"] == "snoozed"),
        ({"label": vip}, lambda i: vip in i["labels"]),
        ({**open_, "label": vip}, lambda i: i["status"] == "open" and vip in i["labels"]),
        ({"label": rueckruf}, lambda i: rueckruf in i["labels"]),
        ({"customer_id": w.lena.id}, lambda i: i["customer_id"] == w.lena.id),
        (
            {**open_, "customer_id": w.kim.id},
            lambda i: i["status"] == "open" and i["customer_id"] == w.kim.id,
        ),
        ({"label": GHOST}, lambda i: False),
    ]
    # the views the sidebar shows have rows of both kinds, so sort=waiting changes stretches
    open_rows = [i for i in everything if i["status"] == "open"]
    assert sum(i["waiting_since"] is not None for i in open_rows) >= 5
    assert sum(i["waiting_since"] is None for i in open_rows) >= 3

    for params, wanted in views:
        rows = [i for i in everything if wanted(i)]
        for sort, order in (("newest", newest_first), ("waiting", waiting_first)):
            expected = order(rows)
            for limit in (1, 2, 3, 200):
                got = await paged(w.anna, limit, sort=sort, **params)
                assert [i["id"] for i in got] == expected, (params, sort, limit)
    # without a sort: newest activity first
    assert [i["id"] for i in await paged(w.anna, 4)] == newest_first(everything)

    # the specific expectations behind the generic check
    waiting_open = [i["id"] for i in await listing(w.anna, status="open", sort="waiting")]
    ties = sorted([c["tie1"], c["tie2"], c["tie3"]])
    # equal waiting_since: the older activity first (tie1 has a newer message), then the id
    assert waiting_open[:3] == [*[t for t in ties if t != c["tie1"]], c["tie1"]]
    assert waiting_open[-1] == c["answered"]  # not waiting, oldest activity: last
    assert [i["id"] for i in await listing(w.anna, owner="me", status="open")] == [
        c["mine_answered"],
        c["mine_waiting"],
    ]
    assert [i["id"] for i in await listing(w.anna, owner="me", status="open", sort="waiting")] == [
        c["mine_waiting"],
        c["mine_answered"],
    ]


async def test_cursors_belong_to_their_sort_and_filter(srv: Server, clock: FakeClock) -> None:
    w = await acme(srv)
    for i in range(3):
        await start(w.kim, f"Frage {i}")
    ok(await w.anna.send(await start(w.lena, "Beantwortet"), "Antwort"), 201)
    newest = ok(await w.anna.get(f"{API}/conversations", params={"limit": 1}))["next_cursor"]
    waiting = ok(await w.anna.get(f"{API}/conversations", params={"limit": 1, "sort": "waiting"}))[
        "next_cursor"
    ]
    # the tail of sort=waiting (nobody waiting) has cursors of its own
    tail = ok(await w.anna.get(f"{API}/conversations", params={"limit": 4, "sort": "waiting"}))[
        "next_cursor"
    ]
    end = ok(await w.anna.get(f"{API}/conversations", params={"cursor": tail, "sort": "waiting"}))
    assert end == {"items": [], "next_cursor": None}
    assert len({newest, waiting, tail}) == 3
    for cursor, sort in ((newest, "waiting"), (waiting, "newest"), (tail, "newest")):
        r = await w.anna.get(f"{API}/conversations", params={"cursor": cursor, "sort": sort})
        refused(r, 422, "validation_error", "cursor")
    r = await w.anna.get(f"{API}/conversations", params={"cursor": newest, "mentions": "true"})
    refused(r, 422, "validation_error", "cursor")
    for garbage in ("dw", "bXwy", "d3x4fDF8Mg", "aXx4fDE"):
        r = await w.anna.get(f"{API}/conversations", params={"cursor": garbage, "sort": "waiting"})
        refused(r, 422, "validation_error", "cursor")
    # the last page of a view has no cursor; a full last page ends with an empty one
    assert len(await paged(w.anna, 2, sort="waiting")) == 4


async def test_a_customer_may_only_sort_by_newest(srv: Server) -> None:
    w = await acme(srv)
    cid = await start(w.kim, "Hallo")
    await start(w.kim, "Noch eine Frage")
    for params, field in (
        ({"sort": "waiting"}, "sort"),
        ({"mentions": "true"}, "mentions"),
        ({"label": 1}, "label"),
        ({"customer_id": w.kim.id}, "customer_id"),
        ({"customer_id": w.lena.id}, "customer_id"),
        ({"owner": "unassigned"}, "owner"),
    ):
        r = await w.kim.get(f"{API}/conversations", params=params)
        refused(r, 422, "validation_error", field)
    pages = await paged(w.kim, 1, sort="newest")
    assert [i["id"] for i in pages] == newest_first(pages)
    assert cid in {i["id"] for i in pages}
    # mentions=false is no filter at all
    assert len(await listing(w.kim, mentions="false")) == 2


# -- counts --------------------------------------------------------------------------------------


async def test_counts_follow_the_views_and_move_when_an_agent_takes_a_conversation(
    srv: Server, clock: FakeClock
) -> None:
    w = await acme(srv)
    c = await build_inbox(srv, clock, w)
    everything = await listing(w.otto)

    def n(pred: Callable[[dict[str, Any]], bool], status: str = "open") -> int:
        return sum(1 for i in everything if i["status"] == status and pred(i))

    team = {"type": "team", "id": w.support}
    expected = {
        "mine": n(lambda i: i["owner"] == {"type": "agent", "id": w.anna.id}),
        "unassigned": n(lambda i: i["owner"] is None or i["owner"]["type"] == "team"),
        "all": None,  # Anna is an agent: the *All* view is for leads and admins
        "mentions": 0,
        "teams": {
            str(w.support): n(lambda i: i["owner"] == team),
            str(w.technik): n(lambda i: i["owner"] == {"type": "team", "id": w.technik}),
        },
        "status": {s: n(lambda i: True, s) for s in ("open", "pending", "snoozed", "resolved")},
    }
    assert await counts(w.anna) == expected
    assert expected["mine"] == 2 and expected["teams"][str(w.support)] == 2
    # every count is the length of its view
    assert expected["mine"] == len(await listing(w.anna, status="open", owner="me"))
    assert expected["unassigned"] == len(await listing(w.anna, status="open", owner="unassigned"))
    assert expected["status"]["open"] == len(await listing(w.anna, status="open"))
    admin = await counts(w.otto)
    assert admin["all"] == expected["status"]["open"]
    assert admin["mine"] == 0 and admin["unassigned"] == expected["unassigned"]
    # other statuses count their own rows
    pending = await counts(w.anna, status="pending")
    assert (pending["mine"], pending["unassigned"], pending["status"]) == (
        0,
        1,
        expected["status"],
    )

    # Anna takes an unassigned conversation: Unassigned shrinks, Mine grows, for everyone
    await assign(w.anna, c["late"], agent_id=w.anna.id)
    after = await counts(w.anna)
    assert (after["mine"], after["unassigned"]) == (
        expected["mine"] + 1,
        expected["unassigned"] - 1,
    )
    assert (await counts(w.ben))["unassigned"] == expected["unassigned"] - 1
    assert (await counts(w.otto))["all"] == expected["status"]["open"]
    # a team's conversation taken by an agent leaves the team's queue
    await assign(w.ben, c["support_waiting"], agent_id=w.ben.id)
    assert (await counts(w.ben))["teams"][str(w.support)] == 1
    # resolving moves it between the status counts
    await set_status(w.ben, c["support_waiting"], "resolved")
    moved = (await counts(w.ben))["status"]
    assert (moved["open"], moved["resolved"]) == (
        expected["status"]["open"] - 1,
        expected["status"]["resolved"] + 1,
    )


async def test_the_counters_stay_equal_to_counting_the_rows(srv: Server, clock: FakeClock) -> None:
    """The sidebar reads ``conversation_counts`` and the Mentions view ``conversation_mentions``
    (kept by triggers): after every kind of change they equal a fresh count of the rows."""
    w = await acme(srv)
    c = await build_inbox(srv, clock, w)

    async def derived_equals_counted() -> None:
        n, cv = schema.conversation_counts.c, schema.conversations.c
        m, cm = schema.mentions.c, schema.conversation_mentions.c
        agent, team = func.coalesce(cv.owner_agent_id, 0), func.coalesce(cv.owner_team_id, 0)
        async with srv.runtime.db.read_engine.connect() as conn:
            kept = {
                tuple(r[:4]): r[4]
                for r in await conn.execute(
                    select(n.company_id, n.status, n.owner_agent_id, n.owner_team_id, n.n)
                )
                if r[4] != 0
            }
            key = (cv.company_id, cv.status, agent, team)
            counted = {
                tuple(r[:4]): r[4]
                for r in await conn.execute(select(*key, func.count()).group_by(*key))
            }
            threads = set(
                await conn.execute(
                    select(cm.company_id, cm.agent_id, cm.conversation_id, cm.mentioned_at)
                )
            )
            newest = set(
                await conn.execute(
                    select(
                        m.company_id, m.agent_id, m.conversation_id, func.max(m.created_at)
                    ).group_by(m.company_id, m.agent_id, m.conversation_id)
                )
            )
        assert kept == counted
        assert threads == newest

    await derived_equals_counted()
    # owner changes (agent → team → nobody), status changes, a customer reopening, a snooze
    await assign(w.otto, c["ben"], team_id=w.technik)
    await assign(w.otto, c["technik"], agent_id=w.anna.id)
    await set_status(w.anna, c["technik"], "resolved")
    ok(await w.kim.send(c["resolved"], "Doch noch eine Frage"), 201)
    await set_status(w.anna, c["tie2"], "snoozed", clock.now() + timedelta(hours=1))
    # mentions: a second note in the same conversation moves the newest time on
    for minutes in (1, 2):
        clock.advance(timedelta(minutes=minutes))
        body = {"note": True, "mentions": [w.ben.id]}
        ok(await w.anna.send(c["tie3"], f"@Ben {minutes}", **body), 201)
    ok(await w.ben.send(c["late"], "@Anna bitte", note=True, mentions=[w.anna.id]), 201)
    await derived_equals_counted()
    # deleting a team releases its resolved conversations (an UPDATE over many rows)
    for key in ("support_answered", "support_waiting"):
        await set_status(w.ben, c[key], "resolved")
    ok(await w.otto.delete(f"{API}/companies/acme/teams/{w.support}"), 204)
    await derived_equals_counted()
    assert (await counts(w.ben))["mentions"] == 1
    assert (await counts(w.anna))["mentions"] == 1


async def test_counts_are_for_members_and_an_api_token_counts_all(srv: Server) -> None:
    w = await acme(srv)
    await start(w.kim, "Hallo")
    token = await srv.token_client(await srv.company("acme"), name="CRM")
    got = await counts(token)
    assert (got["mine"], got["unassigned"], got["all"], got["mentions"]) == (0, 1, 1, 0)
    refused(await w.kim.get(f"{API}/companies/acme/inbox"), 404, "not_found")
    bolt = await srv.company("bolt")
    stranger = await srv.agent(bolt)
    refused(await stranger.get(f"{API}/companies/acme/inbox"), 404, "not_found")
    refused(await srv.client().get(f"{API}/companies/acme/inbox"), 401, "unauthenticated")
    r = await w.anna.get(f"{API}/companies/acme/inbox", params={"status": "closed"})
    refused(r, 422, "validation_error")
    assert (await counts(w.anna))["teams"] == {str(w.support): 0, str(w.technik): 0}


# -- mentions ------------------------------------------------------------------------------------


async def test_a_note_mentions_colleagues_who_see_it_live_and_in_their_view(
    srv: Server, clock: FakeClock
) -> None:
    w = await acme(srv)
    bolt = await srv.company("bolt")
    carl = await srv.agent(bolt, name="Carl Bolt")
    first = await start(w.kim, "Meine Rechnung stimmt nicht")
    second = await start(w.lena, "Kaputt geliefert")
    anna_sock, kim_sock = await w.anna.ws(), await w.kim.ws()

    note = ok(
        await w.ben.send(first, "@Anna bitte prüfen", note=True, mentions=[w.anna.id, w.anna.id]),
        201,
    )
    assert (note["kind"], note["mentions"]) == ("note", [w.anna.id])
    event = await next_event(anna_sock, "message.created", first)
    assert (event["data"]["id"], event["data"]["mentions"]) == (note["id"], [w.anna.id])
    # every message carries the key
    reply = ok(await w.ben.send(first, "Wir prüfen das."), 201)
    assert reply["mentions"] == []
    # the customer's socket: the reply, never the note before it (events arrive in order)
    got = await next_event(kim_sock, "message.created", first)
    assert got["data"]["id"] == reply["id"] and got["data"]["mentions"] == []
    assert all(f["data"].get("kind") != "note" for f in kim_sock.pending)
    # nor the customer's API
    assert note["id"] not in {m["id"] for m in await messages(w.kim, first)}
    assert all(m["mentions"] == [] for m in await messages(w.kim, first))
    assert "@Anna" not in str(await listing(w.kim)) + str(await conv(w.kim, first))
    # the company's API shows who was mentioned
    stored = {m["id"]: m for m in await messages(w.anna, first)}
    assert stored[note["id"]]["mentions"] == [w.anna.id]

    # Anna's Mentions view and count; Ben was not mentioned
    clock.advance(timedelta(minutes=1))
    later = ok(
        await w.otto.send(second, "@Anna @Ben", note=True, mentions=[w.ben.id, w.anna.id]), 201
    )
    assert later["mentions"] == sorted([w.anna.id, w.ben.id])
    assert [i["id"] for i in await listing(w.anna, mentions="true")] == [second, first]
    assert [i["id"] for i in await paged(w.anna, 1, mentions="true")] == [second, first]
    assert [i["id"] for i in await paged(w.anna, 1, mentions="true", sort="waiting")] == [
        second,
        first,
    ]
    assert [i["id"] for i in await listing(w.ben, mentions="true")] == [second]
    assert await listing(w.otto, mentions="true") == []
    assert (await counts(w.anna))["mentions"] == 2
    assert (await counts(w.ben))["mentions"] == 1
    # the other filters narrow it; a newer mention in the first moves it to the front
    await set_status(w.anna, second, "resolved")
    assert [i["id"] for i in await listing(w.anna, mentions="true", status="open")] == [first]
    assert (await counts(w.anna))["mentions"] == 1
    assert (await counts(w.anna, status="resolved"))["mentions"] == 1
    clock.advance(timedelta(minutes=1))
    ok(await w.otto.send(first, "@Anna nochmal", note=True, mentions=[w.anna.id]), 201)
    assert [i["id"] for i in await listing(w.anna, mentions="true")] == [first, second]
    # an API token has no mentions view
    token = await srv.token_client(await srv.company("acme"))
    r = await token.get(f"{API}/conversations", params={"mentions": "true"})
    refused(r, 422, "validation_error", "mentions")
    # ... but may mention
    ok(await token.send(first, "Bot: @Ben", note=True, mentions=[w.ben.id]), 201)
    assert carl.id not in {m for msg in await messages(w.anna, first) for m in msg["mentions"]}
    await anna_sock.close()
    await kim_sock.close()


async def test_mentions_are_validated_and_nothing_is_stored_when_refused(srv: Server) -> None:
    w = await acme(srv)
    bolt = await srv.company("bolt")
    carl = await srv.agent(bolt, name="Carl Bolt")
    cid = await start(w.kim, "Hallo")
    before = (await conv(w.anna, cid))["last_seq"]

    refused(
        await w.anna.send(cid, "Hallo", mentions=[w.ben.id]), 422, "validation_error", "mentions"
    )
    refused(
        await w.kim.send(cid, "Hallo", mentions=[w.ben.id]), 422, "validation_error", "mentions"
    )
    foreign = refused(
        await w.anna.send(cid, "@Carl", note=True, mentions=[w.ben.id, carl.id]),
        422,
        "invalid_mention",
        "mentions",
    )
    ghost = refused(
        await w.anna.send(cid, "@Geist", note=True, mentions=[GHOST]), 422, "invalid_mention"
    )
    assert (foreign["detail"], foreign["field"]) == (ghost["detail"], ghost["field"])
    too_many = list(range(1, 22))
    refused(await w.anna.send(cid, "@alle", note=True, mentions=too_many), 422, "validation_error")
    for bad in (["1"], [0], [-3], "1", [True], [1.5]):
        r = await w.anna.send(cid, "@x", note=True, mentions=bad)
        refused(r, 422, "validation_error")
    assert (await conv(w.anna, cid))["last_seq"] == before
    async with srv.runtime.db.read_engine.connect() as c:
        assert (await c.execute(select(func.count()).select_from(schema.mentions))).scalar() == 0

    # a repeat by client_id must mention the same agents
    first = ok(await w.anna.send(cid, "@Ben", note=True, mentions=[w.ben.id], client_id="n-1"), 201)
    again = ok(await w.anna.send(cid, "@Ben", note=True, mentions=[w.ben.id], client_id="n-1"))
    assert again == first
    r = await w.anna.send(cid, "@Ben", note=True, mentions=[w.otto.id], client_id="n-1")
    refused(r, 409, "idempotency_conflict")
    r = await w.anna.send(cid, "@Ben", note=True, client_id="n-1")
    refused(r, 409, "idempotency_conflict")


async def test_mentions_over_the_websocket(srv: Server) -> None:
    w = await acme(srv)
    cid = await start(w.kim, "Hallo")
    sock = await w.anna.ws()
    ben_sock = await w.ben.ws()
    try:
        await sock.send_json(
            {
                "type": "send",
                "ref": "n1",
                "conversation_id": cid,
                "body": "@Ben schau mal",
                "note": True,
                "mentions": [w.ben.id],
            }
        )
        ack = await sock.wait_for(lambda f: f.get("ref") == "n1")
        assert ack["type"] == "ack" and ack["data"]["mentions"] == [w.ben.id], ack
        event = await next_event(ben_sock, "message.created", cid)
        assert event["data"]["mentions"] == [w.ben.id]
        for ref, frame in (
            ("n2", {"body": "öffentlich", "mentions": [w.ben.id]}),
            ("n3", {"body": "@x", "note": True, "mentions": [GHOST]}),
            ("n4", {"body": "@x", "note": True, "mentions": ["1"]}),
        ):
            await sock.send_json({"type": "send", "ref": ref, "conversation_id": cid, **frame})
            reply = await sock.wait_for(lambda f, ref=ref: f.get("ref") == ref)
            code = "invalid_mention" if ref == "n3" else "validation_error"
            assert (reply["type"], reply["code"]) == ("error", code), reply
    finally:
        await sock.close()
        await ben_sock.close()
    assert [i["id"] for i in await listing(w.ben, mentions="true")] == [cid]


# -- snooze --------------------------------------------------------------------------------------


async def test_a_snoozed_conversation_reopens_when_its_time_comes(
    srv: Server, clock: FakeClock
) -> None:
    w = await acme(srv)
    cid = await start(w.kim, "Melden Sie sich morgen?")
    kim_sock, anna_sock = await w.kim.ws(), await w.anna.ws()
    until = clock.now() + timedelta(days=1)
    await set_status(w.anna, cid, "snoozed", until)
    snoozed = await next_event(kim_sock, "conversation.status_changed", cid)
    assert snoozed["data"]["status"] == "snoozed"
    clock.advance(timedelta(hours=23))
    await worker_caught_up(srv)
    assert (await conv(w.anna, cid))["status"] == "snoozed"

    clock.advance(timedelta(hours=1))
    woke = await next_event(kim_sock, "conversation.status_changed", cid)
    assert woke["data"] == {
        "conversation_id": cid,
        "status": "open",
        "previous": "snoozed",
        "snoozed_until": None,
    }
    agents = await anna_sock.wait_for(
        lambda f: f["type"] == woke["type"] and f["pos"] == woke["pos"]
    )
    assert agents["data"] == woke["data"]
    after = await conv(w.anna, cid)
    assert (after["status"], after["snoozed_until"]) == ("open", None)
    await kim_sock.close()
    await anna_sock.close()


async def test_a_later_snooze_or_a_reopen_makes_the_earlier_timer_a_no_op(
    srv: Server, clock: FakeClock
) -> None:
    w = await acme(srv)
    resnoozed = await start(w.kim, "Erst übermorgen")
    reopened = await start(w.kim, "Doch sofort")
    by_customer = await start(w.lena, "Ich schreibe einfach")
    soon, later = clock.now() + timedelta(hours=1), clock.now() + timedelta(hours=5)
    for cid in (resnoozed, reopened, by_customer):
        await set_status(w.anna, cid, "snoozed", soon)
    await set_status(w.anna, resnoozed, "snoozed", later)
    await set_status(w.anna, reopened, "open")
    ok(await w.lena.send(by_customer, "Hallo?"), 201)  # a customer message reopens, too
    await set_status(w.anna, by_customer, "pending")
    sock = await w.anna.ws()
    clock.advance(timedelta(hours=2))
    await worker_caught_up(srv)
    states = {
        cid: (await conv(w.anna, cid))["status"] for cid in (resnoozed, reopened, by_customer)
    }
    assert states == {resnoozed: "snoozed", reopened: "open", by_customer: "pending"}
    clock.advance(timedelta(hours=3))
    woke = await next_event(sock, "conversation.status_changed", resnoozed)
    assert (woke["data"]["status"], woke["data"]["previous"]) == ("open", "snoozed")
    await worker_caught_up(srv)
    # the stale timers emitted nothing: the only status change since is the one wake-up
    frames = [*sock.pending, *await sock.frames_until_quiet(0.2)]
    assert [f for f in frames if f["type"] == "conversation.status_changed"] == []
    await sock.close()


async def test_snoozing_into_the_past_or_now_is_refused_and_changes_nothing(
    srv: Server, clock: FakeClock
) -> None:
    w = await acme(srv)
    cid = await start(w.kim, "Hallo")
    for until in (clock.now(), clock.now() - timedelta(minutes=1)):
        r = await w.anna.post(
            f"{API}/conversations/{cid}/status",
            {"status": "snoozed", "snoozed_until": until.isoformat()},
        )
        refused(r, 422, "validation_error", "snoozed_until")
    r = await w.anna.post(f"{API}/conversations/{cid}/status", {"status": "snoozed"})
    refused(r, 422, "validation_error", "snoozed_until")
    after = await conv(w.anna, cid)
    assert (after["status"], after["snoozed_until"]) == ("open", None)
    async with srv.runtime.db.read_engine.connect() as c:
        q = (
            select(func.count())
            .select_from(schema.jobs)
            .where(schema.jobs.c.kind == "wake_snoozed")
        )
        assert (await c.execute(q)).scalar() == 0


async def test_the_snooze_timer_survives_a_restart(db_url: str, tmp_path: Path) -> None:
    clock = FakeClock(datetime.now(UTC).replace(microsecond=0))
    kim_email = f"kim-{uuid.uuid4().hex[:6]}@example.org"
    async with start_server(db_url, tmp_path, clock=clock) as first:
        company = await first.company("acme")
        anna = await first.agent(company, email=f"anna-{uuid.uuid4().hex[:6]}@example.com")
        kim = await first.customer(kim_email)
        cid = await start(kim, "Bitte nächste Woche melden")
        until = clock.now() + timedelta(days=7)
        await set_status(anna, cid, "snoozed", until)
        first_url = first.url
    # the first server is gone; a new process on the same database
    async with start_server(db_url, tmp_path, clock=clock) as second:
        assert second.url != first_url
        kim = await login(second, "customer", kim_email)
        sock = await kim.ws()
        assert (await conv(kim, cid))["status"] == "snoozed"
        clock.advance(until - clock.now())
        woke = await next_event(sock, "conversation.status_changed", cid)
        assert (woke["data"]["status"], woke["data"]["previous"]) == ("open", "snoozed")
        assert (await conv(kim, cid))["status"] == "open"
        await sock.close()


# -- the customer panel --------------------------------------------------------------------------


async def test_the_customer_panel_and_earlier_conversations(srv: Server, clock: FakeClock) -> None:
    w = await acme(srv)
    await srv.company("bolt")
    older = await start(w.kim, "Erste Frage")
    clock.advance(timedelta(days=3))
    other = await start(w.lena, "Nicht Kim")
    elsewhere = await start(w.kim, "An Bolt", slug="bolt")
    clock.advance(timedelta(days=3))
    newer = await start(w.kim, "Zweite Frage")
    panel = (await conv(w.anna, newer))["customer"]
    assert (panel["id"], panel["name"], panel["email"]) == (w.kim.id, "Kim Kunde", None)
    # once Kim shares her email with Acme, the panel shows it
    shared = {"fields": {"email": True}, "screen": "privacy_card", "text_version": "v1"}
    ok(await w.kim.http.put(f"{API}/me/privacy/acme", json=shared))
    panel = (await conv(w.anna, newer))["customer"]
    assert (panel["email"].endswith("@example.org"), panel["shared"]) == (True, ["email"])

    earlier = await paged(w.anna, 1, customer_id=w.kim.id)
    assert [i["id"] for i in earlier] == [newer, older]  # this company's only
    assert {i["customer"]["id"] for i in earlier} == {w.kim.id}
    assert elsewhere not in {i["id"] for i in earlier} and other not in {i["id"] for i in earlier}
    # another company's customer is nobody here
    assert await listing(w.anna, customer_id=GHOST) == []

    # a website visitor has no email
    v = srv.client("customer")
    token = ok(await v.post(f"{API}/auth/visitor", {"display_name": "Gast"}), 201)
    v.token = token["token"]
    vid = await start(v, "Frage ohne Konto")
    visitor = (await conv(w.anna, vid))["customer"]
    assert (visitor["id"], visitor["name"], visitor["email"]) == (
        token["customer_id"],
        "Gast",
        None,
    )
    # the customer does not get a panel about themselves, nor labels or the wait
    own = await conv(w.kim, newer)
    assert (own["customer"], own["labels"], own["waiting_since"]) == (None, None, None)


# -- the send stays as fast as it was ------------------------------------------------------------


@contextlib.contextmanager
def statements_on(server: Server, tables: tuple[str, ...]) -> Iterator[list[str]]:
    """SQL the server sends through its write connection that names one of ``tables``."""
    db = server.runtime.db
    engine = db._sqlite_writer if db.is_sqlite else db.write_engine.sync_engine
    seen: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        words = set(statement.lower().replace(",", " ").replace("(", " ").split())
        if words & set(tables):
            seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


async def test_waiting_since_costs_a_send_no_statement_and_mentions_one_insert(
    srv: Server,
) -> None:
    w = await acme(srv)
    # no notification channel: no background job reads the conversation while a send is counted
    contact = {"channels": {"email": False}, "screen": "contact_card", "text_version": "c-1"}
    ok(await w.kim.http.put(f"{API}/me/privacy/acme/contact", json=contact))
    cid = await start(w.kim, "Hallo")
    ok(await w.anna.send(cid, "Antwort"), 201)  # nobody waits now
    tables = ("conversations", "messages", "mentions")
    counted: dict[str, int] = {}
    for name, client, kw in (
        ("customer starts a wait", w.kim, {}),
        ("customer while waiting", w.kim, {}),
        ("agent ends the wait", w.anna, {}),
        ("agent again", w.anna, {}),
        ("note", w.anna, {"note": True}),
        ("note with mentions", w.anna, {"note": True, "mentions": [w.ben.id, w.otto.id]}),
    ):
        with statements_on(srv, tables) as seen:
            ok(await client.send(cid, name, **kw), 201)
        counted[name] = len(seen)
    plain = counted["customer starts a wait"]
    assert plain > 0
    assert counted == {
        "customer starts a wait": plain,
        "customer while waiting": plain,
        "agent ends the wait": plain,
        "agent again": plain,
        "note": plain,
        "note with mentions": plain + 1,  # one multi-row INSERT into mentions
    }, counted
