"""Capacity-safe auto-assignment under concurrency: parallel starts through several real
``eyelevel serve`` processes on one PostgreSQL database never give an agent more than their
capacity, and the rest waits in the team's queue, taken in order as slots free up.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest

from eyelevel.app import build_runtime
from eyelevel.core.actions import operator
from eyelevel.core.entities import Role
from eyelevel.jobs.mailers import MemoryMailer
from eyelevel.security import Argon2Hasher
from tests import backends
from tests.processes import PASSWORD, Account, Cluster, login

pytestmark = pytest.mark.slow

REQUIRE_POSTGRES = "REQUIRE: PostgreSQL + Redis backend (EYELEVEL_TEST_BACKEND=postgres)"
STARTS = 40
CAPACITY = 3
API = "/api/v1"


def ok(r: httpx.Response, status: int = 200) -> Any:
    assert r.status_code == status, r.text
    return r.json() if r.content else None


async def _seed(cluster: Cluster) -> dict[str, str]:
    rt = build_runtime(cluster.settings(), mailer=MemoryMailer(), passwords=Argon2Hasher(fast=True))
    await rt.start()
    try:
        company, _ = await operator.ensure_company(
            rt.ctx, slug="parallel", name="Parallel", phone="+49 30 123456"
        )
        emails = {
            "admin": "admin@parallel.example",
            "a": "a@parallel.example",
            "b": "b@parallel.example",
            "c": "c@parallel.example",
        }
        for key, email in emails.items():
            await operator.ensure_agent(
                rt.ctx,
                company,
                email=email,
                name=key.upper(),
                password=PASSWORD,
                role=Role.ADMIN if key == "admin" else Role.AGENT,
            )
        for i in range(4):
            email = f"kunde{i}@parallel.example"
            await operator.ensure_customer(
                rt.ctx, email=email, display_name=f"Kunde {i}", password=PASSWORD
            )
            emails[f"customer{i}"] = email
        return emails
    finally:
        await rt.close()


@pytest.mark.skipif(backends.BACKEND != "postgres", reason=REQUIRE_POSTGRES)
async def test_parallel_starts_never_exceed_capacity(db_url: str, tmp_path: Path) -> None:
    async with Cluster(db_url, tmp_path) as cluster:
        emails = await _seed(cluster)
        procs = await cluster.start("p1", "p2", "p3")
        first = procs[0]
        admin = await login(first, "agent", emails["admin"])
        agents = {k: await login(first, "agent", emails[k]) for k in ("a", "b", "c")}
        customers = [
            await login(procs[i % 3], "customer", emails[f"customer{i}"]) for i in range(4)
        ]

        async with admin.http(first) as http:
            team = ok(
                await http.post(f"{API}/companies/parallel/teams", json={"name": "Support"}), 201
            )
            tid = team["id"]
            members = [agents[k].id for k in ("a", "b", "c")]
            ok(
                await http.put(
                    f"{API}/companies/parallel/teams/{tid}/members", json={"agent_ids": members}
                )
            )
            ok(
                await http.post(
                    f"{API}/companies/parallel/routing-rules",
                    json={"name": "Alle", "team_id": tid},
                ),
                201,
            )
            ok(
                await http.put(
                    f"{API}/companies/parallel/teams/{tid}/assignment",
                    json={"auto_assign": True, "max_open": CAPACITY},
                )
            )
        for k in ("a", "b"):
            async with agents[k].http(first) as http:
                ok(await http.put(f"{API}/me/presence", json={"presence": "online"}), 204)

        async def start(i: int, who: Account) -> int:
            proc = procs[i % len(procs)]
            async with who.http(proc, timeout=60) as http:
                r = await http.post(
                    f"{API}/conversations",
                    json={"company": "parallel", "body": f"Anliegen {i}", "client_id": f"s-{i}"},
                )
                assert r.status_code == 201, r.text
                return int(r.json()["conversation"]["id"])

        async with asyncio.timeout(120):
            ids = await asyncio.gather(
                *(start(i, customers[i % len(customers)]) for i in range(STARTS))
            )
        assert len(set(ids)) == STARTS

        async def owners() -> dict[int, tuple[str, int] | None]:
            out: dict[int, tuple[str, int] | None] = {}
            async with admin.http(procs[1]) as http:
                for cid in ids:
                    o = ok(await http.get(f"{API}/conversations/{cid}"))["owner"]
                    out[cid] = None if o is None else (o["type"], o["id"])
            return out

        seen = await owners()
        per_agent = {agents[k].id: 0 for k in ("a", "b", "c")}
        queued = []
        for cid in sorted(ids):
            kind, oid = seen[cid] or ("none", 0)
            if kind == "agent":
                per_agent[oid] += 1
            else:
                assert (kind, oid) == ("team", tid), seen[cid]
                queued.append(cid)
        assert per_agent == {agents["a"].id: CAPACITY, agents["b"].id: CAPACITY, agents["c"].id: 0}
        assert len(queued) == STARTS - 2 * CAPACITY

        # freeing slots takes from the queue in order: a resolves two, b hands one back
        a_convs = sorted(c for c in ids if seen[c] == ("agent", agents["a"].id))
        b_convs = sorted(c for c in ids if seen[c] == ("agent", agents["b"].id))
        async with agents["a"].http(procs[1]) as http:
            for cid in a_convs[:2]:
                ok(
                    await http.post(
                        f"{API}/conversations/{cid}/status", json={"status": "resolved"}
                    )
                )
        seen = await owners()
        assert [seen[c] for c in queued[:2]] == [("agent", agents["a"].id)] * 2
        assert all(seen[c] == ("team", tid) for c in queued[2:])
        # c comes online through another process and takes the next three, in order
        async with agents["c"].http(procs[2]) as http:
            ok(await http.put(f"{API}/me/presence", json={"presence": "online"}), 204)
        seen = await owners()
        assert [seen[c] for c in queued[2:5]] == [("agent", agents["c"].id)] * 3
        assert all(seen[c] == ("team", tid) for c in queued[5:])
        assert b_convs  # b stays full: nothing more for b
        assert sum(1 for c in ids if seen[c] == ("agent", agents["b"].id)) == CAPACITY
