"""Conversation topics, routing rules and auto-assignment (docs/routing.md).

The evaluator is tested as a pure function; everything else through the real app on both
backends: rules set up by an admin over the API route a customer's new conversation, and a
team's online agents under capacity take it round robin, or it waits in the queue until one
frees up or comes online. The parallel-start test on PostgreSQL is in
``tests/test_routing_processes.py``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from eyelevel.clock import FakeClock
from eyelevel.core.actions import operator
from eyelevel.core.entities import Role
from eyelevel.core.ids import AgentId, CompanyId, ConversationTopicId, RoutingRuleId, TeamId
from eyelevel.core.rules.hours import WEEKDAYS
from eyelevel.core.rules.routing import (
    Candidate,
    Conditions,
    Facts,
    RoundRobin,
    RoutingRule,
    first_match,
    keyword_in,
)
from tests.harness import PASSWORD, Client, Server, start_server

API = "/api/v1"


def ok(r: httpx.Response, status: int = 200) -> Any:
    assert r.status_code == status, r.text
    return r.json() if r.content else None


def refused(r: httpx.Response, status: int, code: str, field: str | None = None) -> None:
    assert r.status_code == status, r.text
    body = r.json()
    assert body["code"] == code, body
    if field is not None:
        assert body.get("field") == field, body


# -- the pure evaluator --------------------------------------------------------------------------


def _rule(rid: int, position: int, team: int, enabled: bool = True, **cond: Any) -> RoutingRule:
    return RoutingRule(
        RoutingRuleId(rid),
        CompanyId(1),
        f"r{rid}",
        position,
        enabled,
        Conditions(**cond),
        TeamId(team),
    )


def _facts(**kw: Any) -> Facts:
    values: dict[str, Any] = {
        "channel": "messenger",
        "topic_id": None,
        "text": "Hallo",
        "language": None,
        "open_now": True,
    }
    values.update(kw)
    return Facts(**values)


def test_keywords_match_whole_words_ignoring_case() -> None:
    assert keyword_in("Rechnung", "Meine RECHNUNG ist falsch!")
    assert keyword_in("rechnung", "Frage zur Rechnung.")
    assert not keyword_in("Rechnung", "Meine Rechnungsadresse")
    assert not keyword_in("bill", "billing address")
    assert keyword_in("zu spät", "Das Paket kam zu  spät".replace("  ", " "))
    assert keyword_in("Größe", "die größe passt nicht")
    assert not keyword_in("", "anything")


def test_first_enabled_match_in_order_wins() -> None:
    rules = [
        _rule(1, 2, team=30),  # catch-all, last
        _rule(2, 0, team=10, keywords=("Rechnung",)),
        _rule(3, 1, team=20, channels=("widget",)),
        _rule(4, -1, team=99, enabled=False),  # first, but switched off
    ]
    assert first_match(rules, _facts(text="Rechnung bitte", channel="widget")).team_id == 10
    assert first_match(rules, _facts(text="Hallo", channel="widget")).team_id == 20
    assert first_match(rules, _facts(text="Hallo")).team_id == 30
    assert first_match(rules[1:3], _facts(text="Hallo")) is None


def test_every_condition_must_hold() -> None:
    rule = _rule(
        1,
        0,
        team=1,
        channels=("messenger", "widget"),
        topic_ids=(ConversationTopicId(7),),
        languages=("de",),
        business_hours="closed",
    )
    good = _facts(topic_id=7, language="de-AT", open_now=False)
    assert first_match([rule], good) is not None
    assert first_match([rule], _facts(topic_id=8, language="de", open_now=False)) is None
    assert first_match([rule], _facts(topic_id=7, language="en", open_now=False)) is None
    assert first_match([rule], _facts(topic_id=7, language=None, open_now=False)) is None
    assert first_match([rule], _facts(topic_id=7, language="de", open_now=True)) is None
    email = _facts(topic_id=7, language="de", open_now=False, channel="email")
    assert first_match([rule], email) is None


def test_round_robin_skips_offline_and_full_agents() -> None:
    a, b, c = AgentId(1), AgentId(2), AgentId(3)
    robin = RoundRobin(
        [Candidate(a, True, 0, 2), Candidate(b, False, 0, 2), Candidate(c, True, 1, 2)],
        last=None,
    )
    assert [robin.next() for _ in range(4)] == [a, c, a, None]
    # it goes on after the one who took the last conversation
    robin = RoundRobin([Candidate(a, True, 0, 5), Candidate(c, True, 0, 5)], last=a)
    assert [robin.next() for _ in range(3)] == [c, a, c]


# -- through the app -----------------------------------------------------------------------------


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
async def srv(db_url: str, tmp_path: Path, clock: FakeClock) -> AsyncIterator[Server]:
    async with start_server(db_url, tmp_path, clock=clock) as server:
        yield server


class World:
    def __init__(self, srv: Server, slug: str, admin: Client, customer: Client) -> None:
        self.srv, self.slug, self.admin, self.customer = srv, slug, admin, customer

    def path(self, rest: str) -> str:
        return f"{API}/companies/{self.slug}{rest}"

    async def team(self, name: str, agents: list[Client]) -> int:
        team = ok(await self.admin.post(self.path("/teams"), {"name": name}), 201)
        ok(
            await self.admin.http.put(
                self.path(f"/teams/{team['id']}/members"),
                json={"agent_ids": [a.id for a in agents]},
            )
        )
        return int(team["id"])

    async def auto(self, team_id: int, max_open: int, **kw: Any) -> dict[str, Any]:
        return dict(
            ok(
                await self.admin.http.put(
                    self.path(f"/teams/{team_id}/assignment"),
                    json={"auto_assign": True, "max_open": max_open, **kw},
                )
            )
        )

    async def rule(self, name: str, team_id: int, **conditions: Any) -> dict[str, Any]:
        body = {"name": name, "team_id": team_id, "conditions": conditions}
        return dict(ok(await self.admin.post(self.path("/routing-rules"), body), 201))

    async def start(self, body: str = "Hallo", **kw: Any) -> dict[str, Any]:
        started = await self.customer.start_conversation(self.slug, body, **kw)
        return await self.get(started["conversation"]["id"])

    async def get(self, cid: int) -> dict[str, Any]:
        return dict(ok(await self.admin.get(f"{API}/conversations/{cid}")))


def hours_around(now: datetime) -> dict[str, list[list[str]]]:
    """Open for the current hour (Berlin time) only: closed two hours later."""
    local = now.astimezone(ZoneInfo("Europe/Berlin"))
    end = "24:00" if local.hour == 23 else f"{local.hour + 1:02d}:00"
    return {WEEKDAYS[local.weekday()]: [[f"{local.hour:02d}:00", end]]}


async def world(srv: Server, slug: str = "routing", hours: bool = False) -> World:
    if hours:
        await operator.ensure_company(
            srv.runtime.ctx,
            slug=slug,
            name="Routing",
            business_hours=hours_around(srv.runtime.ctx.clock.now()),
        )
    company = await srv.company(slug)
    admin = await srv.agent(company, role=Role.ADMIN, name="Ada Admin")
    return World(srv, slug, admin, await srv.customer())


async def online(agent: Client, presence: str = "online") -> None:
    ok(await agent.http.put(f"{API}/me/presence", json={"presence": presence}), 204)


def owner(conv: dict[str, Any]) -> tuple[str, int] | None:
    o = conv["owner"]
    return None if o is None else (o["type"], o["id"])


async def test_conversation_topics_admin_and_customer_choice(srv: Server) -> None:
    w = await world(srv)
    agent = await srv.agent(await srv.company(w.slug))
    rechnung = ok(await w.admin.post(w.path("/conversation-topics"), {"name": "Rechnung"}), 201)
    technik = ok(await w.admin.post(w.path("/conversation-topics"), {"name": "Technik"}), 201)
    alt = ok(
        await w.admin.post(w.path("/conversation-topics"), {"name": "Alt", "active": False}), 201
    )
    assert [rechnung["position"], technik["position"]] == [0, 1]
    refused(
        await w.admin.post(w.path("/conversation-topics"), {"name": "rechnung"}),
        409,
        "conversation_topic_taken",
        "name",
    )
    refused(await agent.post(w.path("/conversation-topics"), {"name": "Neu"}), 403, "forbidden")
    order = [technik["id"], alt["id"], rechnung["id"]]
    ordered = ok(await w.admin.http.put(w.path("/conversation-topics/order"), json={"ids": order}))
    assert [t["id"] for t in ordered] == order
    refused(
        await w.admin.http.put(w.path("/conversation-topics/order"), json={"ids": order[:2]}),
        422,
        "validation_error",
        "ids",
    )
    # the public list: active topics only, in order; members see the inactive one too
    public = ok(await srv.client().get(w.path("/conversation-topics")))
    assert public == {
        "required": False,
        "items": [
            {
                "id": technik["id"],
                "name": "Technik",
                "position": 0,
                "active": True,
                "opens_complaint": False,
            },
            {
                "id": rechnung["id"],
                "name": "Rechnung",
                "position": 2,
                "active": True,
                "opens_complaint": False,
            },
        ],
    }
    assert len(ok(await agent.get(w.path("/conversation-topics")))["items"]) == 3

    # required by the company: a start without one is refused
    ok(await w.admin.http.put(w.path("/routing-settings"), json={"topic_required": True}))
    r = await w.customer.post(f"{API}/conversations", {"company": w.slug, "body": "Hallo"})
    refused(r, 422, "conversation_topic_required", "topic_id")
    for bad in (alt["id"], 987654):
        r = await w.customer.post(
            f"{API}/conversations", {"company": w.slug, "body": "Hallo", "topic_id": bad}
        )
        refused(r, 422, "invalid_conversation_topic", "topic_id")
    conv = await w.start("Hallo", topic_id=rechnung["id"], channel="widget", language="de-AT")
    assert (conv["topic_id"], conv["channel"], conv["language"]) == (
        rechnung["id"],
        "widget",
        "de-at",
    )
    mine = ok(await w.customer.get(f"{API}/conversations/{conv['id']}"))
    assert mine["topic_id"] == rechnung["id"]
    assert "routing_rule_id" not in mine or mine["routing_rule_id"] is None

    # the inbox filters by topic
    other = await w.start("Noch was", topic_id=technik["id"])
    listed = ok(await w.admin.get(f"{API}/conversations", params={"topic": rechnung["id"]}))
    assert [c["id"] for c in listed["items"]] == [conv["id"]]
    assert other["id"] != conv["id"]

    # a used topic cannot be deleted, an unused one can
    refused(
        await w.admin.delete(w.path(f"/conversation-topics/{rechnung['id']}")),
        409,
        "conversation_topic_in_use",
    )
    ok(await w.admin.delete(w.path(f"/conversation-topics/{alt['id']}")), 204)
    patched = ok(
        await w.admin.http.patch(
            w.path(f"/conversation-topics/{technik['id']}"), json={"active": False}
        )
    )
    assert patched["active"] is False


async def test_keyword_rule_routes_into_its_team_and_is_recorded(srv: Server) -> None:
    w = await world(srv)
    billing = await w.team("Buchhaltung", [])
    support = await w.team("Support", [])
    topic = ok(await w.admin.post(w.path("/conversation-topics"), {"name": "Technik"}), 201)
    first = await w.rule("Rechnungen", billing, keywords=["Rechnung", "Mahnung"])
    second = await w.rule("Technik", support, topic_ids=[topic["id"]])
    catch_all = await w.rule("Rest", support)

    conv = await w.start("Ich habe eine Frage zu meiner RECHNUNG.")
    assert owner(conv) == ("team", billing)
    assert conv["routing_rule_id"] == first["id"]
    # whole words only: "Rechnungsadresse" is not "Rechnung"; the topic rule comes next
    conv = await w.start("Neue Rechnungsadresse", topic_id=topic["id"])
    assert (owner(conv), conv["routing_rule_id"]) == (("team", support), second["id"])
    conv = await w.start("Hallo")
    assert conv["routing_rule_id"] == catch_all["id"]

    # order: moving the catch-all first makes it win
    ids = [catch_all["id"], first["id"], second["id"]]
    ok(await w.admin.http.put(w.path("/routing-rules/order"), json={"ids": ids}))
    conv = await w.start("Rechnung")
    assert (owner(conv), conv["routing_rule_id"]) == (("team", support), catch_all["id"])
    listed = ok(await w.admin.get(w.path("/routing-rules")))
    assert [r["id"] for r in listed["items"]] == ids

    # a switched-off rule is skipped; no match and no default team: Unassigned
    for rule in (catch_all, second):
        ok(
            await w.admin.http.patch(
                w.path(f"/routing-rules/{rule['id']}"), json={"enabled": False}
            )
        )
    conv = await w.start("Hallo")
    assert (owner(conv), conv["routing_rule_id"]) == (None, None)
    ok(
        await w.admin.http.put(
            w.path("/routing-settings"), json={"topic_required": False, "default_team_id": support}
        )
    )
    conv = await w.start("Hallo")
    assert (owner(conv), conv["routing_rule_id"]) == (("team", support), None)
    # the assignment is an event like any other
    events = ok(await w.admin.get(f"{API}/conversations/{conv['id']}"))
    assert events["owner"] == {"type": "team", "id": support}

    # changing the topic of a conversation without an agent routes it again
    ok(await w.admin.http.patch(w.path(f"/routing-rules/{second['id']}"), json={"enabled": True}))
    conv = await w.start("Hallo")
    assert owner(conv) == ("team", support)
    ok(await w.admin.http.put(w.path("/routing-settings"), json={"topic_required": False}))
    ids = [first["id"], second["id"], catch_all["id"]]
    ok(await w.admin.http.put(w.path("/routing-rules/order"), json={"ids": ids}))
    moved = ok(
        await w.admin.http.put(
            f"{API}/conversations/{conv['id']}/topic", json={"topic_id": topic["id"]}
        )
    )
    assert (moved["topic_id"], moved["routing_rule_id"]) == (topic["id"], second["id"])

    # a team that a rule names cannot be deleted
    refused(await w.admin.delete(w.path(f"/teams/{billing}")), 409, "team_in_use")


async def test_rule_validation_is_precise(srv: Server) -> None:
    w = await world(srv)
    team = await w.team("Support", [])
    other = await world(srv, "andere")
    foreign_team = await other.team("Fremd", [])
    foreign_topic = ok(
        await other.admin.post(other.path("/conversation-topics"), {"name": "X"}), 201
    )
    cases: list[tuple[dict[str, Any], int, str, str | None]] = [
        ({"name": "R", "team_id": foreign_team}, 422, "invalid_team", "team_id"),
        ({"name": " ", "team_id": team}, 422, "validation_error", "name"),
        (
            {"name": "R", "team_id": team, "conditions": {"topic_ids": [foreign_topic["id"]]}},
            422,
            "invalid_conversation_topic",
            "conditions.topic_ids",
        ),
        (
            {"name": "R", "team_id": team, "conditions": {"languages": ["d3"]}},
            422,
            "validation_error",
            "conditions.languages",
        ),
        (
            {"name": "R", "team_id": team, "conditions": {"keywords": ["  "]}},
            422,
            "validation_error",
            "conditions.keywords",
        ),
        (
            {"name": "R", "team_id": team, "conditions": {"channels": ["fax"]}},
            422,
            "validation_error",
            None,
        ),
        ({"name": "R", "team_id": team, "extra": 1}, 422, "validation_error", None),
    ]
    for body, status, code, field in cases:
        refused(await w.admin.post(w.path("/routing-rules"), body), status, code, field)
    refused(
        await w.admin.http.put(
            w.path("/routing-settings"),
            json={"topic_required": False, "default_team_id": foreign_team},
        ),
        422,
        "invalid_team",
        "default_team_id",
    )
    refused(
        await w.admin.http.patch(w.path("/routing-rules/987654"), json={"name": "x"}),
        404,
        "not_found",
    )
    rule = await w.rule("Gut", team, keywords=["Rechnung", "rechnung"], languages=["DE"])
    assert rule["conditions"]["keywords"] == ["Rechnung"]
    assert rule["conditions"]["languages"] == ["de"]


async def test_business_hours_condition_follows_the_clock(srv: Server, clock: FakeClock) -> None:
    w = await world(srv, hours=True)
    day = await w.team("Tagdienst", [])
    night = await w.team("Nachtdienst", [])
    await w.rule("Geschlossen", night, business_hours="closed")
    await w.rule("Offen", day, business_hours="open")
    assert owner(await w.start("Hallo")) == ("team", day)
    clock.advance(timedelta(hours=2))  # outside the hour: closed
    assert owner(await w.start("Hallo")) == ("team", night)


async def test_round_robin_capacity_and_queue(srv: Server) -> None:
    w = await world(srv)
    company = await srv.company(w.slug)
    a = await srv.agent(company, name="Anna")
    b = await srv.agent(company, name="Ben")
    c = await srv.agent(company, name="Cem")
    team = await w.team("Support", [a, b, c])
    await w.rule("Alle", team)
    settings = await w.auto(team, 2, overrides=[{"agent_id": b.id, "max_open": 1}])
    assert settings["overrides"] == [{"agent_id": b.id, "max_open": 1}]
    for agent in (a, b):
        await online(agent)
    # c is away: never given anything
    await online(c, "away")
    ids = [(await w.start(f"Frage {i}"))["id"] for i in range(5)]
    owners = [owner(await w.get(i)) for i in ids]
    # round robin in agent-id order (a < b < c); b is full after one, a after two
    assert owners[:3] == [("agent", a.id), ("agent", b.id), ("agent", a.id)]
    assert owners[3:] == [("team", team), ("team", team)]
    # b resolves: the oldest queued conversation goes to b
    b_conv = next(i for i, o in zip(ids, owners, strict=True) if o == ("agent", b.id))
    ok(await b.post(f"{API}/conversations/{b_conv}/status", {"status": "resolved"}))
    assert owner(await w.get(ids[3])) == ("agent", b.id)
    assert owner(await w.get(ids[4])) == ("team", team)

    # c comes online and takes the last one
    await online(c)
    assert owner(await w.get(ids[4])) == ("agent", c.id)

    # a hands one back to the team: it waits (everyone else is full) … until a takes it again
    a_conv = next(i for i, o in zip(ids, owners, strict=True) if o == ("agent", a.id))
    r = await a.post(f"{API}/conversations/{a_conv}/assignment", {"team_id": team})
    assert r.status_code == 200, r.text
    # a had two and has room for one again: the queue gives it straight back to someone
    # available (only a has room), so the conversation still has exactly one agent
    assert owner(await w.get(a_conv)) == ("agent", a.id)

    # switching auto-assignment off: new conversations wait in the queue
    ok(
        await w.admin.http.put(
            w.path(f"/teams/{team}/assignment"), json={"auto_assign": False, "max_open": 2}
        )
    )
    ok(await c.post(f"{API}/conversations/{ids[4]}/status", {"status": "resolved"}))
    waiting = await w.start("Später")
    assert owner(waiting) == ("team", team)
    await w.auto(team, 2)
    assert owner(await w.get(waiting["id"])) == ("agent", c.id)


async def test_team_assignment_validation(srv: Server) -> None:
    w = await world(srv)
    company = await srv.company(w.slug)
    a = await srv.agent(company)
    outsider = await srv.agent(company)
    team = await w.team("Support", [a])
    path = w.path(f"/teams/{team}/assignment")
    refused(
        await w.admin.http.put(path, json={"auto_assign": True, "max_open": 0}),
        422,
        "validation_error",
    )
    refused(
        await w.admin.http.put(
            path,
            json={
                "auto_assign": True,
                "max_open": 3,
                "overrides": [{"agent_id": outsider.id, "max_open": 1}],
            },
        ),
        422,
        "invalid_owner",
        "overrides",
    )
    refused(await a.http.put(path, json={"auto_assign": True, "max_open": 3}), 403, "forbidden")
    got = ok(await a.get(path))
    assert got == {"team_id": team, "auto_assign": False, "max_open": 5, "overrides": []}


async def test_a_restricted_conversation_takes_no_capacity_and_is_never_assigned(
    srv: Server,
) -> None:
    """A customer erased while their conversation was under legal hold leaves it restricted:
    read-only, admins only (docs/privacy.md). It neither fills its agent's capacity nor is
    taken from a team's queue."""
    w = await world(srv)
    company = await srv.company(w.slug)
    anna = await srv.agent(company, name="Anna")
    bert = await srv.agent(company, name="Bert")
    owned, queued = await w.team("Owned", [anna]), await w.team("Queued", [bert])
    await w.auto(owned, max_open=1)
    await w.auto(queued, max_open=1)
    await w.rule("Warteschlange", queued, keywords=["Warteschlange"])
    await w.rule("Rest", owned)
    await online(anna)

    async def held_and_erased(body: str) -> int:
        gone = await srv.customer()
        started = await gone.start_conversation(w.slug, body)
        cid = int(started["conversation"]["id"])
        path = f"{API}/conversations/{cid}/legal-hold"
        ok(await w.admin.http.put(path, json={"reason": "Prüfung"}))
        ok(await gone.post(f"{API}/me/erasure", {"password": PASSWORD}))
        return cid

    # Anna's one slot was taken by a conversation that is now restricted: it is free again
    first = await held_and_erased("Hallo")
    assert owner(await w.get(first)) == ("agent", anna.id)
    conv = await w.start("Hallo nochmal")
    assert owner(conv) == ("agent", anna.id)

    # a restricted conversation waits in Bert's queue: when he comes online, he gets the
    # next one, never the restricted one
    second = await held_and_erased("Warteschlange bitte")
    conv = await w.start("Warteschlange auch")
    assert owner(conv) == ("team", queued)
    await online(bert)
    assert owner(await w.get(conv["id"])) == ("agent", bert.id)
    assert owner(await w.get(second)) == ("team", queued)
