"""``eyelevel seed`` and ``eyelevel bench inbox`` with small numbers, as real processes.

The seeded company must be usable through the API (its admin signs in; lists, a conversation
and search answer with the seeded data), and the bench must run every operation against it
without an error. No timing is asserted: the figures belong to docs/benchmark.md.
"""

from __future__ import annotations

import re
from pathlib import Path

from eyelevel.seed import SEED_PASSWORD
from tests.harness import start_server
from tests.test_cli import run

API = "/api/v1"


async def test_seed_then_bench_inbox(db_url: str, tmp_path: Path) -> None:
    seeded = run(
        ["seed", "--conversations", "200", "--messages", "1500", "--agents", "3"],
        db_url,
        tmp_path,
    )
    assert seeded.returncode == 0, seeded.stdout + seeded.stderr
    out = " ".join(seeded.stdout.split())
    assert "messages: 1,500 in" in out and "rows/s" in out, out
    assert "conversations 200, messages 1,500" in out, out
    assert "admin@seed.example.com" in out, out

    async with start_server(db_url, tmp_path) as server:
        admin = server.client("agent")
        r = await admin.post(
            f"{API}/auth/login",
            {"kind": "agent", "email": "admin@seed.example.com", "password": SEED_PASSWORD},
        )
        assert r.status_code == 200, r.text
        r = await admin.get(f"{API}/conversations", params={"limit": 200})
        assert r.status_code == 200, r.text
        listed = r.json()["items"]
        assert len(listed) == 200
        statuses = {c["status"] for c in listed}
        assert statuses == {"open", "pending", "snoozed", "resolved"}, statuses
        assert any(c["owner"] is None for c in listed) and any(c["owner"] for c in listed)
        conv = listed[0]
        r = await admin.get(f"{API}/conversations/{conv['id']}/messages", params={"limit": 200})
        assert r.status_code == 200, r.text
        assert [m["seq"] for m in r.json()["items"]] == list(range(1, conv["last_seq"] + 1))
        r = await admin.get(f"{API}/companies/seed/search", params={"q": "Rechnung"})
        assert r.status_code == 200, r.text
        hits = r.json()["items"]
        assert hits and all(any(p["match"] for p in h["parts"]) for h in hits), hits

    bench = run(["bench", "inbox", "--rounds", "2", "--deep", "3"], db_url, tmp_path)
    assert bench.returncode == 0, bench.stdout + bench.stderr
    for op in ("list all newest p1", "list unassigned", "open: both at once", "search 'Rechnung'"):
        assert op in bench.stdout, bench.stdout
    assert "errors" not in bench.stdout, bench.stdout
    assert re.search(r"targets \(p95\).*(all met|\d+ missed)", bench.stdout), bench.stdout
