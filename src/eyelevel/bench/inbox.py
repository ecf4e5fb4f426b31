"""``eyelevel bench inbox``: what an agent waits for in the inbox, against a seeded database.

Starts ``python -m eyelevel serve`` on a free loopback port over the given database (seeded
with ``eyelevel seed``; the bench writes nothing but its sign-in), signs in as the company's
admin over HTTP and times, one request at a time through the real API:

- the conversation list of every view (mine, unassigned, a team, all, mentions, and a label
  when the company has labels), status open, in each sort the server offers (newest,
  waiting), the first page and a deep one (``--deep`` pages down, following ``next_cursor``);
- the sidebar's counts (``GET /companies/{slug}/inbox``) when the server has them;
- opening a conversation: ``GET /conversations/{id}`` and its newest page of messages;
- full-text search with a fixed mix of queries.

Parameters the server does not know yet (422) are left out and named under the table, so the
bench runs against older servers too. It prints p50 / p95 / p99 per operation against the
targets (lists and opening ≤ 20 ms, search ≤ 100 ms at p95). Only ``127.0.0.1`` is contacted;
every wait has a deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import random
import secrets
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eyelevel.bench.options import LOOPBACK, BenchError
from eyelevel.bench.server import free_port, spawn_server, stop_server, wait_ready
from eyelevel.seed import SEED_PASSWORD

LIST_TARGET_MS = 20.0
SEARCH_TARGET_MS = 100.0
REQUEST_TIMEOUT = 30.0
SEARCHES = (
    "Rechnung",
    "Rechnungen",
    "Rech",
    "Lieferung Paket",
    "invoice",
    "Garantie Trockner",
    "Techniker",
    "refund",
    "Müller",
    "Kündigung",
)


@dataclass(frozen=True)
class InboxOptions:
    database_url: str
    company: str = "seed"
    email: str | None = None  # default: the seed's admin, admin@<company>.example.com
    password: str = SEED_PASSWORD
    rounds: int = 100  # timed requests per operation
    deep: int = 20  # the deep page's number
    page_size: int = 50
    server_url: str | None = None  # a running server instead of starting one


@dataclass
class Timings:
    ms: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    depth: dict[str, int] = field(default_factory=dict)  # deep-page op -> last page, if short
    cpu: dict[str, list[float]] = field(default_factory=dict)  # op -> server CPU ms per request

    def add(self, op: str, ms: float) -> None:
        self.ms.setdefault(op, []).append(ms)


def run_inbox(opts: InboxOptions) -> int:
    """Start a server over the database (unless ``server_url``), measure, print; exit code."""
    from rich.console import Console

    console = Console()
    if console.width < 120 and not console.is_terminal:
        console = Console(width=120)
    tmp = Path(tempfile.mkdtemp(prefix="eyelevel-bench-inbox-"))
    server = None
    try:
        if opts.server_url:
            base_url = opts.server_url.rstrip("/")
            if not base_url.startswith((f"http://{LOOPBACK}:", "http://localhost:")):
                raise BenchError("the bench talks to 127.0.0.1 only: use a loopback --server-url")
        else:
            base_url = f"http://{LOOPBACK}:{free_port()}"
            log_path = tmp / "server.log"
            server = spawn_server(
                tmp=tmp,
                port=int(base_url.rsplit(":", 1)[1]),
                base_url=base_url,
                db_url=_db_url(opts.database_url),
                secret=secrets.token_urlsafe(48),
                channel=f"eyelevel:bench:{secrets.token_hex(8)}",
                redis_url=None,
                log_path=log_path,
            )
            wait_ready(base_url, server, log_path)
        console.print(
            f"eyelevel bench inbox: {base_url}, company {opts.company}, {opts.rounds} timed "
            f"requests per operation, deep page {opts.deep}, {opts.page_size} per page"
        )
        started = time.monotonic()
        load_before = os.getloadavg()[0]
        cpu = None
        if server is not None:
            pg = opts.database_url if "postgres" in opts.database_url else None
            cpu = _Cpu(server.pid, _db_url(pg) if pg else None)
        timings = asyncio.run(_measure(base_url, opts, console, cpu))
        load = max(load_before, os.getloadavg()[0])
        console.print(f"measured in {time.monotonic() - started:.1f}s")
        cores = os.cpu_count() or 1
        if load > cores:
            timings.notes.append(
                f"the machine's load average was {load:.1f} on {cores} cores: other processes "
                "competed for the CPU, the figures are inflated"
            )
        return _report(console, timings)
    except BenchError as exc:
        console.print(f"[red]error[/red] {exc}")
        return 1
    finally:
        if server is not None:
            stop_server(server)
        shutil.rmtree(tmp, ignore_errors=True)


def _db_url(url: str) -> str:
    if url.startswith(("postgresql://", "postgres://")):
        url = "postgresql+asyncpg://" + url.split("://", 1)[1]
    if url.startswith("postgresql"):
        from urllib.parse import urlsplit

        if urlsplit(url).hostname not in (LOOPBACK, "localhost"):
            raise BenchError("the bench talks to 127.0.0.1 only: use a loopback PostgreSQL URL")
    elif not url.startswith("sqlite"):
        raise BenchError("--database-url must be a SQLite or PostgreSQL URL")
    return url


class _Cpu:
    """CPU time of the server process and of its PostgreSQL backends.

    Unlike wall time it does not grow while other processes hold the CPU, so it shows what a
    request costs on a machine that is busy with something else (as shared ones are).
    """

    def __init__(self, server_pid: int, db_url: str | None) -> None:
        import psutil

        self._psutil = psutil
        self._server = psutil.Process(server_pid)
        self._db_url = db_url
        self._procs: list[Any] = [self._server]

    async def refresh(self) -> None:
        """Find the server's database connections (PostgreSQL: one backend process each)."""
        if self._db_url is None:
            return
        from sqlalchemy import text
        from sqlalchemy.ext.asyncio import create_async_engine

        engine = create_async_engine(self._db_url)
        try:
            async with engine.connect() as conn:
                rows = await conn.execute(
                    text(
                        "SELECT pid FROM pg_stat_activity "
                        "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                    )
                )
                pids = [int(r[0]) for r in rows]
        finally:
            await engine.dispose()
        self._procs = [self._server]
        for pid in pids:
            with contextlib.suppress(self._psutil.Error):
                self._procs.append(self._psutil.Process(pid))

    def seconds(self) -> float:
        total = 0.0
        for proc in self._procs:
            with contextlib.suppress(self._psutil.Error):
                cpu = proc.cpu_times()
                total += cpu.user + cpu.system
        return total


class _Api:
    """One signed-in HTTP client; every request is timed into an operation (or not)."""

    def __init__(self, http: Any, timings: Timings, cpu: _Cpu | None) -> None:
        self.http = http
        self.t = timings
        self.cpu = cpu

    async def get(self, op: str | None, path: str, **params: Any) -> Any:
        """The JSON body on 200; None otherwise (counted as an error of ``op``)."""
        c0 = self.cpu.seconds() if self.cpu is not None and op is not None else 0.0
        t0 = time.perf_counter()
        r = await self.http.get(path, params=params)
        ms = (time.perf_counter() - t0) * 1000
        if r.status_code != 200:
            if op is not None:
                self.t.errors[op] = self.t.errors.get(op, 0) + 1
            return None
        if op is not None:
            self.t.add(op, ms)
            if self.cpu is not None:
                self.t.cpu.setdefault(op, []).append((self.cpu.seconds() - c0) * 1000)
        return r.json()

    async def supports(self, path: str, **params: Any) -> bool:
        r = await self.http.get(path, params=params)
        if r.status_code not in (200, 422):
            raise BenchError(f"GET {path} {params}: {r.status_code} {r.text[:200]}")
        return bool(r.status_code == 200)


async def _measure(base_url: str, opts: InboxOptions, console: Any, cpu: _Cpu | None) -> Timings:
    import httpx

    timings = Timings()
    email = opts.email or f"admin@{opts.company}.example.com"
    async with httpx.AsyncClient(
        base_url=base_url, timeout=REQUEST_TIMEOUT, trust_env=False
    ) as http:
        r = await http.post(
            "/api/v1/auth/login",
            json={"kind": "agent", "email": email, "password": opts.password},
        )
        if r.status_code != 200:
            raise BenchError(
                f"sign-in as {email}: {r.status_code} {r.text[:200]} (seed the database with "
                "`eyelevel seed` first, or pass --email/--password)"
            )
        api = _Api(http, timings, cpu)
        me = await api.get(None, "/api/v1/auth/me")
        staff = await api.get(None, f"/api/v1/companies/{opts.company}/staff")
        if me is None or staff is None:
            raise BenchError(f"{email} is not a member of {opts.company}")
        companies = list(me.get("companies", {}))
        # the inbox asks for one company's conversations; an agent of several names it
        company_id = int(companies[0]) if len(companies) == 1 else None
        if company_id is None:
            timings.notes.append(f"{email} is in {len(companies)} companies: lists span them")
        views = await _views(api, opts, staff, company_id)
        sorts = ["newest"]
        if await api.supports("/api/v1/conversations", sort="waiting", limit=1):
            sorts.append("waiting")
        else:
            timings.notes.append("sort=waiting: not offered by this server, newest only")
        if cpu is not None:
            await cpu.refresh()
        seen: list[int] = []
        for view, params in views.items():
            for sort in sorts:
                query = {**params, "limit": opts.page_size}
                if sort != "newest":
                    query["sort"] = sort
                seen += await _list(api, opts, f"list {view} {sort}", query)
        counts = f"/api/v1/companies/{opts.company}/inbox"
        if await api.supports(counts, status="open"):
            await _repeat(api, opts, "inbox counts", counts, status="open")
        else:
            timings.notes.append("GET /companies/{slug}/inbox: not offered by this server")
        if cpu is not None:
            await cpu.refresh()  # the pool may have opened more connections meanwhile
        await _open(api, opts, sorted(set(seen)))
        for q in SEARCHES:
            await _repeat(
                api, opts, f"search {q!r}", f"/api/v1/companies/{opts.company}/search", q=q
            )
        console.print(f"  {sum(len(v) for v in timings.ms.values()):,} timed requests")
    return timings


async def _views(
    api: _Api, opts: InboxOptions, staff: dict[str, Any], company_id: int | None
) -> dict[str, dict[str, Any]]:
    base: dict[str, Any] = {"status": "open"}
    if company_id is not None:
        base["company_id"] = company_id
    views: dict[str, dict[str, Any]] = {
        "mine": {**base, "owner": "me"},
        "unassigned": {**base, "owner": "unassigned"},
    }
    teams = staff.get("teams") or []
    if teams:
        views["team"] = {**base, "owner": f"team:{teams[0]['id']}"}
    views["all"] = dict(base)
    if await api.supports("/api/v1/conversations", mentions="true", limit=1):
        views["mentions"] = {**base, "mentions": "true"}
    else:
        api.t.notes.append("mentions=true: not offered by this server")
    labels = await api.get(None, f"/api/v1/companies/{opts.company}/labels")
    if (
        isinstance(labels, list)
        and labels
        and await api.supports("/api/v1/conversations", label=labels[0]["id"], limit=1)
    ):
        views["label"] = {**base, "label": labels[0]["id"]}
    return views


async def _list(api: _Api, opts: InboxOptions, op: str, query: dict[str, Any]) -> list[int]:
    """First page × rounds; then down to the deep page once; then the deep page × rounds."""
    path = "/api/v1/conversations"
    first = None
    for _ in range(2):  # warm-up
        first = await api.get(None, path, **query)
    if first is None:
        api.t.errors[op] = api.t.errors.get(op, 0) + 1
        return []
    for _ in range(opts.rounds):
        await api.get(f"{op} p1", path, **query)
    ids = [int(c["id"]) for c in first["items"]]
    page, cursor = 1, first.get("next_cursor")
    deep_cursor = None
    while cursor and page < opts.deep:
        body = await api.get(f"{op} p2–{opts.deep - 1}", path, **query, cursor=cursor)
        if body is None:
            break
        page += 1
        deep_cursor = cursor
        cursor = body.get("next_cursor")
    if deep_cursor is not None:
        deep_op = f"{op} p{opts.deep}"
        if page < opts.deep:
            api.t.depth[deep_op] = page  # the view has fewer pages
        for _ in range(opts.rounds):
            await api.get(deep_op, path, **query, cursor=deep_cursor)
    return ids


async def _repeat(api: _Api, opts: InboxOptions, op: str, path: str, **params: Any) -> None:
    for _ in range(2):
        await api.get(None, path, **params)
    for _ in range(opts.rounds):
        await api.get(op, path, **params)


async def _open(api: _Api, opts: InboxOptions, ids: list[int]) -> None:
    """What opening a conversation fetches: the conversation and its newest messages, each
    timed on its own, then both at once as the inbox asks for them."""
    if not ids:
        api.t.notes.append("open: no conversation listed, nothing to open")
        return
    rnd = random.Random(7)  # the same conversations every run
    newest = {"before_seq": 2**31 - 1, "limit": 50}  # the inbox's newest page
    for i in range(opts.rounds + 2):
        cid = rnd.choice(ids)
        warm = i < 2
        await api.get(None if warm else "open: conversation", f"/api/v1/conversations/{cid}")
        messages = f"/api/v1/conversations/{cid}/messages"
        await api.get(None if warm else "open: messages", messages, **newest)
        t0 = time.perf_counter()
        both = await asyncio.gather(
            api.get(None, f"/api/v1/conversations/{cid}"), api.get(None, messages, **newest)
        )
        if not warm and all(r is not None for r in both):
            api.t.add("open: both at once", (time.perf_counter() - t0) * 1000)


def _report(console: Any, t: Timings) -> int:
    from rich.table import Table

    table = Table(title="eyelevel bench inbox (ms; one request at a time, timed by the client)")
    columns = ("operation", "n", "p50", "p95", "p99", "max", "CPU/req", "target p95", "")
    for col in columns:
        table.add_column(col, justify="left" if col == "operation" else "right")
    missed = 0
    for op, values in t.ms.items():
        values.sort()
        search = op.startswith("search")
        target = SEARCH_TARGET_MS if search else LIST_TARGET_MS
        p95 = _pct(values, 0.95)
        timed = "p2–" not in op  # the walk down is a path, not an operation with a target
        verdict = "" if not timed else ("ok" if p95 <= target else "[red]MISSED[/red]")
        missed += timed and p95 > target
        reached = t.depth.get(op)
        name = op if reached is None else f"{op} (reached page {reached})"
        table.add_row(
            name,
            str(len(values)),
            f"{_pct(values, 0.5):.1f}",
            f"{p95:.1f}",
            f"{_pct(values, 0.99):.1f}",
            f"{values[-1]:.1f}",
            f"{sum(t.cpu[op]) / len(t.cpu[op]):.1f}" if t.cpu.get(op) else "–",
            f"{target:g}" if timed else "",
            verdict,
        )
    console.print(table)
    if t.cpu:
        console.print(
            "  CPU/req: mean CPU time per request of the server process (and, on PostgreSQL, "
            "of its backends); unlike the latencies it does not grow when other processes hold "
            "the CPU"
        )
    for note in t.notes:
        console.print(f"  note: {note}")
    for op, n in sorted(t.errors.items()):
        console.print(f"  [red]errors[/red] {op}: {n}")
    console.print(
        f"  targets (p95): lists and opening ≤ {LIST_TARGET_MS:g} ms, search ≤ "
        f"{SEARCH_TARGET_MS:g} ms — {'all met' if not missed else f'{missed} missed'}"
    )
    return 1 if t.errors else 0


def _pct(values: list[float], q: float) -> float:
    """Nearest-rank percentile of sorted ``values``."""
    if not values:
        return math.nan
    return values[min(len(values) - 1, max(0, math.ceil(q * len(values)) - 1))]
