"""Company reports (docs/reports.md): a history built through the API under a FakeClock, then
every number of the report recomputed here from the raw rows (messages, events, clocks) and
compared; the CSV equals the JSON; access and bad ranges."""

from __future__ import annotations

import csv
import io
import math
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from eyelevel.clock import FakeClock
from eyelevel.core.actions import operator
from eyelevel.core.entities import Role
from eyelevel.storage import schema
from tests.harness import Client, Server, start_server
from tests.test_inbox_api import API, ok, refused, set_status, worker_caught_up
from tests.test_sla_api import ALWAYS

BERLIN = ZoneInfo("Europe/Berlin")
# Monday 2 November 2026, 08:00 UTC (09:00 in Berlin): ISO week 45
T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
PERIOD = {"from": "2026-11-02", "to": "2026-11-15"}
EVIL_TEAM = '=HYPERLINK("http://evil.example")'
CHANNELS = ("messenger", "widget", "email", "api")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(T0)


@pytest.fixture
async def srv(db_url: str, tmp_path: Path, clock: FakeClock) -> AsyncIterator[Server]:
    async with start_server(db_url, tmp_path, clock=clock) as server:
        yield server


@dataclass
class History:
    support: int
    technik: int
    evil: int
    anna: Client  # agent in Support
    ben: Client  # agent in Technik
    lea: Client  # lead
    lea_email: str
    olaf: Client  # admin
    bot: Client  # the admin's API token
    rechnung: int  # topic ids
    technik_topic: int


async def build(srv: Server, clock: FakeClock) -> History:
    company = await srv.company("acme", "Acme AG")
    olaf = await srv.agent(company, role=Role.ADMIN, name="Olaf Admin")
    path = f"{API}/companies/acme"
    ok(
        await olaf.http.patch(
            path,
            json={
                "timezone": "Europe/Berlin",
                "business_hours": ALWAYS,
                "reply_within_minutes": 60,
            },
        )
    )
    support = await operator.ensure_team(srv.runtime.ctx, company, "Support")
    technik = await operator.ensure_team(srv.runtime.ctx, company, "Technik")
    evil = await operator.ensure_team(srv.runtime.ctx, company, EVIL_TEAM)
    anna = await srv.agent(company, name="Anna Albers")
    ben = await srv.agent(company, name="Ben Berg")
    lea_email = f"lea-{uuid.uuid4().hex[:8]}@example.com"
    lea = await srv.agent(company, lea_email, role=Role.LEAD, name="Lea Lead")
    for team, members in ((support, [anna.id, lea.id]), (technik, [ben.id])):
        ok(await olaf.http.put(f"{path}/teams/{team.id}/members", json={"agent_ids": members}))
    sla = {"first_response_minutes": 60, "resolution_minutes": 600, "next_response_minutes": 30}
    ok(await olaf.http.put(f"{path}/teams/{support.id}/sla", json=sla))
    sla = {"first_response_minutes": 30, "resolution_minutes": 240}
    ok(await olaf.http.put(f"{path}/teams/{technik.id}/sla", json=sla))
    rechnung = ok(await olaf.post(f"{path}/conversation-topics", {"name": "Rechnung"}), 201)
    tech = ok(await olaf.post(f"{path}/conversation-topics", {"name": "Technik"}), 201)
    scopes = ["reports:read", "messages:write", "conversations:write"]
    crm = {"name": "CRM", "scopes": scopes}
    secret = ok(await olaf.post(f"{path}/tokens", crm), 201)["token"]
    bot = srv.client("token")
    bot.token = secret
    return History(
        support.id,
        technik.id,
        evil.id,
        anna,
        ben,
        lea,
        lea_email,
        olaf,
        bot,
        rechnung["id"],
        tech["id"],
    )


async def begin(
    srv: Server, h: History, *, team: int, agent: Client | None, **kw: Any
) -> tuple[int, Client]:
    kim = await srv.customer()
    cid = int((await kim.start_conversation("acme", "Hallo", **kw))["conversation"]["id"])
    assign = f"{API}/conversations/{cid}/assignment"
    ok(await h.olaf.post(assign, {"team_id": team}))
    if agent is not None:
        ok(await h.olaf.post(assign, {"agent_id": agent.id}))
    return cid, kim


async def history(srv: Server, clock: FakeClock) -> History:
    """Five conversations in two ISO weeks (Berlin time), two teams, known offsets."""
    h = await build(srv, clock)
    minutes = lambda n: timedelta(minutes=n)  # noqa: E731

    # week 45. c1: Support/Anna, Rechnung, answered after 20 min, resolved after 60: all kept
    c1, _ = await begin(srv, h, team=h.support, agent=h.anna, topic_id=h.rechnung)
    clock.advance(minutes(20))
    ok(await h.anna.send(c1, "Wir sehen nach"), 201)
    clock.advance(minutes(40))
    await set_status(h.anna, c1, "resolved")

    # c2: Technik/Ben, widget, Technik topic: the 30-minute promise breaks (answered at 45)
    clock.advance(timedelta(hours=2))
    c2, _ = await begin(
        srv, h, team=h.technik, agent=h.ben, topic_id=h.technik_topic, channel="widget"
    )
    clock.advance(minutes(45))
    await worker_caught_up(srv)
    ok(await h.ben.send(c2, "Entschuldigung, hier die Lösung"), 201)
    clock.advance(minutes(75))
    await set_status(h.ben, c2, "resolved")

    # c3 at 23:30 UTC on Sunday 8 November: 00:30 Monday in Berlin, so ISO week 46 there.
    # Support, no owner agent; the integration answers after 5 min; pending; the customer's
    # reply is answered after 10 min; resolved, reopened by the customer, resolved again.
    clock.advance(datetime(2026, 11, 8, 23, 30, tzinfo=UTC) - clock.now())
    await worker_caught_up(srv)
    c3, kim3 = await begin(srv, h, team=h.support, agent=None)
    clock.advance(minutes(5))
    ok(await h.bot.send(c3, "Automatische Antwort: Ihr Ticket ist angelegt"), 201)
    await set_status(h.olaf, c3, "pending")
    clock.advance(minutes(60))
    ok(await kim3.send(c3, "Danke, noch eine Frage"), 201)
    clock.advance(minutes(10))
    ok(await h.lea.send(c3, "Gern"), 201)
    await set_status(h.lea, c3, "resolved")
    clock.advance(minutes(30))
    ok(await kim3.send(c3, "Doch noch etwas"), 201)
    clock.advance(minutes(15))
    await set_status(h.lea, c3, "resolved")

    # c4: Support/Anna, Rechnung, answered after 90 min (the 60-minute promise broke), open
    clock.advance(datetime(2026, 11, 10, 12, 0, tzinfo=UTC) - clock.now())
    await worker_caught_up(srv)
    c4, _ = await begin(srv, h, team=h.support, agent=h.anna, topic_id=h.rechnung)
    clock.advance(minutes(90))
    await worker_caught_up(srv)
    ok(await h.anna.send(c4, "Spät, aber hier"), 201)

    # c5: Technik, no agent, widget, started just now: its clocks run and are not due yet
    clock.advance(datetime(2026, 11, 15, 22, 0, tzinfo=UTC) - clock.now())  # Sunday 23:00 in Berlin
    await worker_caught_up(srv)
    await begin(srv, h, team=h.technik, agent=None, channel="widget")
    clock.advance(minutes(10))
    return h


# -- the independent recomputation -------------------------------------------------------------


def nearest_rank(values: list[float], p: int) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    rank = math.ceil(p / 100 * len(ordered))
    return ordered[rank - 1]


async def raw(srv: Server) -> dict[str, list[Any]]:
    async with srv.runtime.db.read_engine.connect() as c:
        return {
            name: list((await c.execute(select(table))).all())
            for name, table in (
                ("conversations", schema.conversations),
                ("messages", schema.messages),
                ("events", schema.events),
                ("clocks", schema.sla_clocks),
            )
        }


def expected(
    data: dict[str, list[Any]], group: str, now: datetime, labels: dict[str, str]
) -> dict[str, dict[str, Any]]:
    lo = datetime(2026, 11, 2, tzinfo=BERLIN)
    hi = datetime(2026, 11, 16, tzinfo=BERLIN)
    convs = {c.id: c for c in data["conversations"] if lo <= c.created_at < hi}

    def week(at: datetime) -> str:
        y, w, _ = at.astimezone(BERLIN).isocalendar()
        return f"{y}-W{w:02d}"

    def key_of(c: Any) -> str:
        if group == "week":
            return week(c.created_at)
        value = c.owner_team_id if group == "team" else c.owner_agent_id
        return "none" if value is None else str(value)

    def blank() -> dict[str, Any]:
        return {
            "conversations": 0,
            "kept": 0,
            "counted": 0,
            "fr": [],
            "frb": [],
            "res": [],
            "channels": dict.fromkeys(CHANNELS, 0),
        }

    rows: dict[str, dict[str, Any]] = {k: blank() for k in labels}
    for c in convs.values():
        row = rows.setdefault(key_of(c), blank())
        row["conversations"] += 1
        row["channels"][c.channel] += 1
        msgs = sorted(
            (m for m in data["messages"] if m.conversation_id == c.id), key=lambda m: m.seq
        )
        answers = [m for m in msgs if m.kind in ("agent", "bot")]
        if msgs and msgs[0].kind == "customer" and answers:
            row["fr"].append((answers[0].created_at - c.created_at).total_seconds())
        resolutions = [
            e.created_at
            for e in data["events"]
            if e.conversation_id == c.id
            and e.type == "conversation.status_changed"
            and e.payload["status"] == "resolved"
        ]
        if c.status == "resolved":
            row["res"].append((max(resolutions) - c.created_at).total_seconds())
        for k in data["clocks"]:
            if k.conversation_id == c.id and k.target == "first_response" and k.met_at:
                row["frb"].append(k.elapsed_us / 1e6)
    for k in data["clocks"]:
        if not lo <= k.started_at < hi:
            continue
        if group == "week":
            key = week(k.started_at)
        elif group == "team":
            key = "none" if k.team_id is None else str(k.team_id)
        else:
            owner = next(c for c in data["conversations"] if c.id == k.conversation_id)
            key = "none" if owner.owner_agent_id is None else str(owner.owner_agent_id)
        if k.breached_at is not None:
            verdict: bool | None = False
        elif k.met_at is not None:
            verdict = k.due_at is None or k.met_at <= k.due_at
        elif k.state in ("running", "paused") and k.due_at is not None and k.due_at <= now:
            verdict = False
        else:
            verdict = None
        if verdict is not None:
            rows.setdefault(key, blank())
            rows[key]["counted"] += 1
            rows[key]["kept"] += int(verdict)
    return {
        key: {
            "conversations": r["conversations"],
            "promises_counted": r["counted"],
            "promises_kept": r["kept"],
            "kept_share": r["kept"] / r["counted"] if r["counted"] else None,
            "first_response": _stats(r["fr"]),
            "first_response_business": _stats(r["frb"]),
            "resolution": _stats(r["res"]),
            "by_channel": r["channels"],
        }
        for key, r in rows.items()
    }


def _stats(values: list[float]) -> dict[str, Any]:
    return {
        "count": len(values),
        "median_s": nearest_rank(values, 50),
        "p90_s": nearest_rank(values, 90),
    }


def comparable(row: dict[str, Any]) -> dict[str, Any]:
    keys = (
        "conversations",
        "promises_counted",
        "promises_kept",
        "kept_share",
        "first_response",
        "first_response_business",
        "resolution",
        "by_channel",
    )
    return {k: row[k] for k in keys}


async def report(c: Client, group: str, **params: str) -> dict[str, Any]:
    return dict(
        ok(
            await c.get(
                f"{API}/companies/acme/reports", params={**PERIOD, "group": group, **params}
            )
        )
    )


# -- the tests ------------------------------------------------------------------------------------


async def test_the_report_equals_the_numbers_recomputed_from_raw_rows(
    srv: Server, clock: FakeClock
) -> None:
    h = await history(srv, clock)
    data = await raw(srv)
    now = clock.now()
    weeks = {"2026-W45": "2026-11-02", "2026-W46": "2026-11-09"}
    teams = {str(h.support): "Support", str(h.technik): "Technik", str(h.evil): EVIL_TEAM}
    for group, labels in (("week", weeks), ("team", teams), ("agent", {})):
        got = await report(h.lea, group)
        assert (got["from"], got["to"], got["group"]) == ("2026-11-02", "2026-11-15", group)
        assert got["timezone"] == "Europe/Berlin"
        want = expected(data, group, now, labels)
        rows = {r["key"]: comparable(r) for r in got["rows"]}
        nonempty = {k: v for k, v in rows.items() if v["conversations"] or v["promises_counted"]}
        assert nonempty == {
            k: v for k, v in want.items() if v["conversations"] or v["promises_counted"]
        }
        for key, label in labels.items():
            assert next(r for r in got["rows"] if r["key"] == key)["label"] == label
        # the total is the whole period, whatever the grouping
        assert comparable(got["total"])["conversations"] == 5
        assert sum(r["promises_counted"] for r in got["rows"]) == got["total"]["promises_counted"]

    # the history as built, stated by hand (so the recomputation above cannot drift with it)
    weekly = {r["key"]: r for r in (await report(h.olaf, "week"))["rows"]}
    assert list(weekly) == ["2026-W45", "2026-W46"]  # c3 is in week 46 in Berlin, 45 in UTC
    w45, w46 = weekly["2026-W45"], weekly["2026-W46"]
    assert (w45["conversations"], w46["conversations"]) == (2, 3)
    # week 45: c1 first response + resolution kept; c2 first response broken, resolution kept
    assert (w45["promises_kept"], w45["promises_counted"]) == (3, 4)
    # week 46: c3's four met clocks (its second wait was cancelled by the resolve, uncounted);
    # c4's first response (met late) and resolution (overdue) broken; c5's not yet due
    assert (w46["promises_kept"], w46["promises_counted"]) == (4, 6)
    assert w45["first_response"] == {"count": 2, "median_s": 20 * 60.0, "p90_s": 45 * 60.0}
    assert w45["resolution"] == {"count": 2, "median_s": 3600.0, "p90_s": 120 * 60.0}
    # c3 resolved, reopened and resolved again: its resolution time runs to the last one
    assert w46["resolution"] == {"count": 1, "median_s": 120 * 60.0, "p90_s": 120 * 60.0}
    # c3 (5 min, by the integration), c4 (90 min); c5 is unanswered
    assert w46["first_response"] == {"count": 2, "median_s": 5 * 60.0, "p90_s": 90 * 60.0}
    assert w46["by_channel"] == {"messenger": 2, "widget": 1, "email": 0, "api": 0}
    total = (await report(h.olaf, "week"))["total"]
    assert {t["name"]: t["conversations"] for t in total["by_topic"]} == {
        "Rechnung": 2,
        "Technik": 1,
        None: 2,
    }
    assert total["csat_average"] is None  # CSAT: no ratings are recorded yet

    by_agent = {r["key"]: r for r in (await report(h.lea, "agent"))["rows"]}
    assert by_agent[str(h.anna.id)]["label"] == "Anna Albers"
    assert by_agent[str(h.anna.id)]["conversations"] == 2
    assert by_agent["none"]["conversations"] == 2  # c3 and c5 have no owner agent


async def test_the_csv_equals_the_json_and_neutralises_formulas(
    srv: Server, clock: FakeClock
) -> None:
    h = await history(srv, clock)
    for group in ("week", "team", "agent"):
        js = await report(h.bot, group)  # an API token with reports:read reads reports too
        r = await h.lea.get(f"{API}/companies/acme/reports.csv", params={**PERIOD, "group": group})
        assert r.status_code == 200, r.text
        assert r.headers["content-type"] == "text/csv; charset=utf-8"
        assert "attachment" in r.headers["content-disposition"]
        assert r.text.endswith("\r\n")
        table = list(csv.reader(io.StringIO(r.text)))
        header, body = table[0], table[1:]
        assert header[:3] == ["group", "key", "label"] and "csat_average" in header
        assert len(body) == len(js["rows"]) + 1
        for line, row in zip(body, [*js["rows"], js["total"]], strict=True):
            cells = dict(zip(header, line, strict=True))
            assert cells["group"] == (group if row is not js["total"] else "total")
            assert cells["key"] == row["key"]
            label = row["label"]
            assert cells["label"] == ("'" + label if label[:1] in "=+-@" else label)
            for name in ("conversations", "promises_counted", "promises_kept"):
                assert int(cells[name]) == row[name]
            assert _num(cells["kept_share"]) == row["kept_share"]
            for metric in ("first_response", "first_response_business", "resolution"):
                assert int(cells[f"{metric}_count"]) == row[metric]["count"]
                assert _num(cells[f"{metric}_median_s"]) == row[metric]["median_s"]
                assert _num(cells[f"{metric}_p90_s"]) == row[metric]["p90_s"]
            for channel, n in row["by_channel"].items():
                assert int(cells[f"channel:{channel}"]) == n
            topics = {t["name"]: t["conversations"] for t in row["by_topic"]}
            for t in js["topics"]:
                column = "topic:(none)" if t["topic_id"] is None else f"topic:{t['name']}"
                assert int(cells[column]) == topics.get(t["name"], 0)
        if group == "team":
            evil = next(line for line in body if line[1] == str(h.evil))
            assert evil[2] == "'" + EVIL_TEAM  # a spreadsheet shows it as text, never runs it


def _num(cell: str) -> float | None:
    return None if cell == "" else float(cell)


async def test_only_leads_and_admins_read_reports_and_ranges_are_checked(
    srv: Server, clock: FakeClock
) -> None:
    h = await build(srv, clock)
    path = f"{API}/companies/acme/reports"
    for suffix in ("", ".csv"):
        refused(await h.anna.get(path + suffix, params=PERIOD), 403, "forbidden")
        refused(await srv.client().get(path + suffix, params=PERIOD), 401, "unauthenticated")
    kim = await srv.customer()
    refused(await kim.get(path, params=PERIOD), 404, "not_found")
    for who in (h.lea, h.olaf, h.bot):
        ok(await who.get(path, params=PERIOD))
    bad: list[tuple[dict[str, str], str, str | None]] = [
        ({"from": "2026-11-10", "to": "2026-11-09"}, "invalid_report_range", "to"),
        ({"from": "2025-01-01", "to": "2026-01-02"}, "invalid_report_range", "to"),  # 367 days
        ({"from": "2026-02-30", "to": "2026-03-01"}, "validation_error", None),
        ({"to": "2026-03-01"}, "validation_error", None),
        ({**PERIOD, "group": "month"}, "validation_error", None),
    ]
    for params, code, field in bad:
        for suffix in ("", ".csv"):
            refused(await h.lea.get(path + suffix, params=params), 422, code, field)
    # exactly 366 days is allowed (a leap year's whole)
    ok(await h.lea.get(path, params={"from": "2028-01-01", "to": "2028-12-31"}))
    empty = await report(h.lea, "week", **{"from": "2027-01-04", "to": "2027-01-10"})
    assert [r["key"] for r in empty["rows"]] == ["2027-W01"]
    assert empty["total"]["kept_share"] is None and empty["total"]["conversations"] == 0
    assert date.fromisoformat(empty["rows"][0]["label"]) == date(2027, 1, 4)
