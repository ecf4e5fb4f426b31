"""``eyelevel bench``: load over real WebSockets on loopback, and a table of what it measured.

For each backend (SQLite; PostgreSQL + Redis when configured) the bench

1. creates a fresh database (a new SQLite file in a temporary directory, or a dedicated
   PostgreSQL database ``eyelevel_bench`` created and dropped on the given server), migrates it
   and seeds companies, agents and *verified* customers with the operator actions;
2. starts ``python -m eyelevel serve`` as a separate process on a free loopback port;
3. signs every account in over HTTP and starts one conversation per active customer;
4. opens the customer, agent and idle sockets from one or more client processes and drives
   them: open loop at ``--rate`` messages/s (half from customers, half agent replies by
   default), or closed loop (``--rate 0``: every sender waits for its ack, then sends again);
5. measures send→ack (the server acks only after the commit) and send→delivery to the other
   side (customer → every agent of the company, agent → the customer), counts errors and
   undelivered pushes, samples the server's RSS and CPU, checks that every acknowledged
   message is in the database, prints a table, stops the server and exits.

Each message's ``client_id`` carries its send time (``CLOCK_MONOTONIC``, shared by all
processes of the machine), so a delivery is timed by whichever client process receives it.
Only ``127.0.0.1`` is ever contacted. Every wait has a deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import multiprocessing as mp
import os
import random
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
from array import array
from dataclasses import dataclass, field, replace
from http.cookiejar import CookieJar
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

LOOPBACK = "127.0.0.1"
PASSWORD = "bench-password-not-secret"
CID_PREFIX = "bn"
SESSION_COOKIE = "eyelevel_session"
SERVER_START_TIMEOUT = 60.0
SETUP_TIMEOUT = 300.0
ACK_TIMEOUT = 10.0  # closed loop: a send without an ack after this long is an error
DRAIN_TIMEOUT = 10.0  # after the window: wait this long at most for outstanding acks
DELIVERY_GRACE = 1.5  # then this long for the last deliveries
CONNECT_CONCURRENCY = 32
HTTP_CONCURRENCY = 16
BODY_TEXT = "Hallo, ich habe eine Frage zu meiner Bestellung und der Lieferung. "


@dataclass(frozen=True)
class Options:
    customers: int = 200
    agents: int = 10
    companies: int = 1
    sockets: int = 0  # total open sockets; the ones beyond customers + agents are idle
    rate: float = 500.0  # messages/s, 0 = closed loop (as fast as acks come back)
    duration: float = 20.0
    warmup: float = 3.0
    agent_share: float = 0.5
    clients: int = 1
    deflate: bool = False
    body_chars: int = 80
    database_url: str | None = None  # PostgreSQL server (admin) URL
    redis_url: str | None = None


@dataclass
class Account:
    kind: str  # "customer", "agent" or "idle" (a signed-in customer without a conversation)
    company: int  # index of the company (customers: the one they write to)
    email: str
    cookie: str = ""
    conversation_id: int = 0


@dataclass
class WorkerSpec:
    index: int
    ws_url: str
    origin: str
    accounts: list[Account]
    conversations: dict[int, list[int]]  # company index -> its conversation ids
    customer_rate: float
    agent_rate: float
    closed_loop: bool
    agent_loops: int
    warmup: float
    duration: float
    deflate: bool
    body_chars: int


@dataclass
class WorkerResult:
    index: int
    connected: int = 0
    ack_ms: dict[str, array[float]] = field(default_factory=dict)  # direction -> latencies (ms)
    delivery_ms: dict[str, array[float]] = field(default_factory=dict)
    sent: dict[str, int] = field(default_factory=dict)  # in the measured window
    acked: dict[str, int] = field(default_factory=dict)  # sent in the window and acked
    acked_by_company: dict[int, int] = field(default_factory=dict)  # customer messages
    acked_total: int = 0  # including warm-up: every one must be in the database
    errors: dict[str, int] = field(default_factory=dict)
    max_schedule_lag_ms: float = 0.0
    cpu_seconds: float = 0.0  # this process, during the measured window
    # acks that *arrived* in each second of the window, whenever their message was sent: the
    # rate the server sustained (a server falling behind an open-loop rate shows here)
    per_second: dict[int, int] = field(default_factory=dict)


@dataclass
class RunResult:
    backend: str  # "sqlite" or "postgres"
    bus: str  # "in-process" or "Redis"
    label: str
    rate: float
    sockets: int
    window: float
    workers: list[WorkerResult]
    agents_by_company: dict[int, int]
    rss_peak: int
    rss_end: int
    server_cpu: float  # seconds of CPU in the measured window
    other_cpu: float  # seconds of CPU used by every other process of the machine meanwhile
    in_database: int | None
    clients: int
    cores: int

    def merged(self, attr: str, direction: str) -> list[float]:
        out: list[float] = []
        for w in self.workers:
            out.extend(getattr(w, attr).get(direction, ()))
        out.sort()
        return out

    def total(self, attr: str, key: str | None = None) -> int:
        if key is None:
            return sum(sum(getattr(w, attr).values()) for w in self.workers)
        return sum(getattr(w, attr).get(key, 0) for w in self.workers)

    @property
    def name(self) -> str:
        if self.backend == "sqlite":
            return "SQLite"
        return "PostgreSQL + Redis" if self.bus == "Redis" else "PostgreSQL (in-process bus)"

    def sustained(self) -> float:
        """Messages/s acknowledged during the window."""
        return sum(self.per_second()) / self.window

    def per_second(self) -> list[int]:
        """Acks per whole second of the window (all client processes together)."""
        out = [0] * int(self.window)
        for w in self.workers:
            for second, n in w.per_second.items():
                if 0 <= second < len(out):
                    out[second] += n
        return out

    def errors(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for w in self.workers:
            for k, v in w.errors.items():
                out[k] = out.get(k, 0) + v
        return out

    def expected_deliveries(self) -> dict[str, int]:
        c2a = 0
        for w in self.workers:
            for company, n in w.acked_by_company.items():
                c2a += n * self.agents_by_company.get(company, 0)
        return {"c2a": c2a, "a2c": self.total("acked", "agent")}


# --------------------------------------------------------------------------------------------
# the driver (parent process)
# --------------------------------------------------------------------------------------------


def run(backends: list[str], opts: Options, rates: list[float] | None = None) -> int:
    """Run one scenario per backend and rate (a fresh server and database each), print the
    table; returns the exit code."""
    from rich.console import Console

    console = Console()
    if console.width < 150 and not console.is_terminal:
        console = Console(width=150)  # a log or CI: keep the table's columns readable
    results: list[RunResult] = []
    skipped: list[str] = []
    console.print(
        f"eyelevel bench on {os.cpu_count()} cores, Python {sys.version.split()[0]}, "
        f"{LOOPBACK} only"
    )
    for backend in backends:
        if backend == "postgres" and not opts.database_url:
            skipped.append(
                "PostgreSQL + Redis: not configured (pass --database-url "
                "postgresql+asyncpg://…@127.0.0.1/… or set EYELEVEL_DATABASE_URL, and "
                "--redis-url / EYELEVEL_REDIS_URL)"
            )
            continue
        for rate in rates if rates is not None else [opts.rate]:
            scenario = replace(opts, rate=rate)
            console.print(f"[bold]{backend}[/bold]: {describe(scenario)}")
            try:
                results.append(run_one(backend, scenario, console))
            except BenchError as exc:
                console.print(f"[red]{backend}: {exc}[/red]")
                return 1
    if results:
        print_results(console, results, opts)
    for line in skipped:
        console.print(f"[yellow]skipped[/yellow] {line}")
    return 0 if results else 1


class BenchError(Exception):
    pass


def describe(opts: Options) -> str:
    load = "closed loop (max)" if opts.rate <= 0 else f"{opts.rate:g} msg/s open loop"
    total = max(opts.sockets, opts.customers + opts.agents)
    return (
        f"{opts.customers} customers, {opts.agents} agents, {opts.companies} compan"
        f"{'y' if opts.companies == 1 else 'ies'}, {total} sockets, {load}, "
        f"{opts.duration:g}s (+{opts.warmup:g}s warm-up), {opts.clients} client process"
        f"{'' if opts.clients == 1 else 'es'}"
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOOPBACK, 0))
        return int(s.getsockname()[1])


def _pg_urls(admin_url: str) -> tuple[str, str]:
    parts = urlsplit(admin_url)
    scheme = "postgresql+asyncpg" if parts.scheme in ("postgresql", "postgres") else parts.scheme
    if not scheme.startswith("postgresql"):
        raise BenchError(f"--database-url must be a PostgreSQL URL, not {parts.scheme}://")
    if parts.hostname not in (LOOPBACK, "localhost"):
        raise BenchError("the bench talks to 127.0.0.1 only: use a loopback PostgreSQL URL")
    admin = urlunsplit((scheme, parts.netloc, parts.path, parts.query, ""))
    bench = urlunsplit((scheme, parts.netloc, "/eyelevel_bench", parts.query, ""))
    return admin, bench


async def _pg_recreate(admin_url: str, *, create: bool) -> None:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text('DROP DATABASE IF EXISTS "eyelevel_bench" WITH (FORCE)'))
            if create:
                await conn.execute(text('CREATE DATABASE "eyelevel_bench"'))
    finally:
        await engine.dispose()


def plan_accounts(opts: Options) -> list[Account]:
    accounts = [
        Account("agent", i % opts.companies, f"agent-{i}@bench.example.com")
        for i in range(opts.agents)
    ]
    accounts += [
        Account("customer", i % opts.companies, f"kunde-{i}@bench.example.org")
        for i in range(opts.customers)
    ]
    idle = max(0, opts.sockets - opts.customers - opts.agents)
    accounts += [
        Account("idle", i % opts.companies, f"still-{i}@bench.example.org") for i in range(idle)
    ]
    return accounts


async def seed(settings: Any, opts: Options, accounts: list[Account]) -> None:
    """Companies, agents and verified customers, written directly with the operator actions."""
    from eyelevel.app import build_runtime
    from eyelevel.core.actions import operator
    from eyelevel.core.entities import Role
    from eyelevel.jobs.mailers import MemoryMailer
    from eyelevel.security import Argon2Hasher

    # cheap argon2 parameters, so the bench's sign-ins do not measure password hashing
    rt = build_runtime(settings, mailer=MemoryMailer(), passwords=Argon2Hasher(fast=True))
    await rt.start()
    try:
        companies = [
            (await operator.ensure_company(rt.ctx, slug=f"bench-{i}", name=f"Bench {i}"))[0]
            for i in range(opts.companies)
        ]

        async def one(a: Account) -> None:
            if a.kind == "agent":
                await operator.ensure_agent(
                    rt.ctx,
                    companies[a.company],
                    email=a.email,
                    name="Bench Agent",
                    password=PASSWORD,
                    role=Role.AGENT,
                )
            else:
                await operator.ensure_customer(
                    rt.ctx, email=a.email, display_name="Bench Kunde", password=PASSWORD
                )

        for i in range(0, len(accounts), 200):  # concurrent: the SQLite writer group-commits
            await asyncio.gather(*(one(a) for a in accounts[i : i + 200]))
    finally:
        await rt.close()


class _NoCookies(CookieJar):
    """The setup client keeps no cookies: every request carries its account's explicitly."""

    def extract_cookies(self, response: Any, request: Any) -> None:
        return None


def _set_cookies(response: Any) -> dict[str, str]:
    out = {}
    for header in response.headers.get_list("set-cookie"):
        name, _, rest = header.partition("=")
        out[name.strip()] = rest.split(";", 1)[0]
    return out


async def sign_in_and_start(base_url: str, opts: Options, accounts: list[Account]) -> None:
    """Sign every account in; every active customer starts one conversation."""
    import httpx

    sem = asyncio.Semaphore(HTTP_CONCURRENCY)
    async with httpx.AsyncClient(
        base_url=base_url, timeout=30, trust_env=False, cookies=httpx.Cookies(_NoCookies())
    ) as http:

        async def one(a: Account) -> None:
            async with sem:
                kind = "agent" if a.kind == "agent" else "customer"
                r = await http.post(
                    "/api/v1/auth/login",
                    json={"kind": kind, "email": a.email, "password": PASSWORD},
                )
                if r.status_code != 200:
                    raise BenchError(f"login {a.email}: {r.status_code} {r.text[:200]}")
                cookies = _set_cookies(r)
                a.cookie = cookies[SESSION_COOKIE]
                if a.kind != "customer":
                    return
                r = await http.post(
                    "/api/v1/conversations",
                    json={"company": f"bench-{a.company}", "body": "Hallo! (bench)"},
                    headers={
                        "cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()),
                        "x-csrf-token": r.json()["csrf_token"],
                    },
                )
                if r.status_code != 201:
                    raise BenchError(f"start conversation: {r.status_code} {r.text[:200]}")
                a.conversation_id = int(r.json()["conversation"]["id"])

        await asyncio.gather(*(one(a) for a in accounts))


def _wait_ready(base_url: str, proc: subprocess.Popen[bytes], log_path: Path) -> None:
    import httpx

    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BenchError(f"the server exited with {proc.returncode}; see {log_path}")
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{base_url}/readyz", timeout=2, trust_env=False).status_code == 200:
                return
        time.sleep(0.1)
    raise BenchError(
        f"the server did not become ready in {SERVER_START_TIMEOUT:g}s; see {log_path}"
    )


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


def _split(items: list[Account], n: int) -> list[list[Account]]:
    return [items[i::n] for i in range(n)]


def run_one(backend: str, opts: Options, console: Any) -> RunResult:
    from eyelevel.config import Settings
    from eyelevel.storage.migrate import upgrade

    tmp = Path(tempfile.mkdtemp(prefix="eyelevel-bench-"))
    port = free_port()
    base_url = f"http://{LOOPBACK}:{port}"
    secret = secrets.token_urlsafe(48)
    redis_url = None
    channel = f"eyelevel:bench:{secrets.token_hex(8)}"
    admin_url = None
    if backend == "sqlite":
        db_url = f"sqlite+aiosqlite:///{tmp / 'bench.db'}"
    else:
        admin_url, db_url = _pg_urls(opts.database_url or "")
        redis_url = opts.redis_url
        if redis_url and urlsplit(redis_url).hostname not in (LOOPBACK, "localhost"):
            raise BenchError("the bench talks to 127.0.0.1 only: use a loopback Redis URL")
        asyncio.run(_pg_recreate(admin_url, create=True))
    server: subprocess.Popen[bytes] | None = None
    log_path = tmp / "server.log"
    ok = False
    try:
        upgrade(db_url)
        settings = Settings(
            database_url=db_url,
            data_dir=tmp / "data",
            secret_key=secret,
            public_url=base_url,
            redis_url=None,
        )
        accounts = plan_accounts(opts)
        started = time.monotonic()
        asyncio.run(seed(settings, opts, accounts))
        console.print(f"  seeded {len(accounts)} accounts in {time.monotonic() - started:.1f}s")

        env = {k: v for k, v in os.environ.items() if not k.startswith("EYELEVEL_")}
        env.update(
            EYELEVEL_DATABASE_URL=db_url,
            EYELEVEL_DATA_DIR=str(tmp / "data"),
            EYELEVEL_SECRET_KEY=secret,
            EYELEVEL_PUBLIC_URL=base_url,
            EYELEVEL_REDIS_CHANNEL=channel,
            EYELEVEL_LOG_LEVEL="warning",
        )
        if redis_url:
            env["EYELEVEL_REDIS_URL"] = redis_url
        # the server runs in the temporary directory: it must import this very eyelevel
        package_root = str(Path(__file__).resolve().parent.parent)
        env["PYTHONPATH"] = os.pathsep.join(
            [package_root, *(p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p)]
        )
        with open(log_path, "wb") as log:
            server = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "eyelevel",
                    "serve",
                    "--host",
                    LOOPBACK,
                    "--port",
                    str(port),
                ],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                cwd=tmp,
            )
        _wait_ready(base_url, server, log_path)
        started = time.monotonic()
        asyncio.run(asyncio.wait_for(sign_in_and_start(base_url, opts, accounts), SETUP_TIMEOUT))
        console.print(
            f"  signed in {len(accounts)} accounts, started {opts.customers} conversations "
            f"in {time.monotonic() - started:.1f}s"
        )
        result = drive(backend, opts, accounts, base_url, server, console)
        _stop(server)
        result.in_database = asyncio.run(_count_bench_messages(db_url))
        ok = True
        return result
    finally:
        if server is not None:
            _stop(server)
        if admin_url is not None:
            with contextlib.suppress(Exception):
                asyncio.run(_pg_recreate(admin_url, create=False))
        if ok:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            console.print(f"  kept {tmp} (server log: {log_path})")


async def _count_bench_messages(db_url: str) -> int:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(db_url)
    try:
        async with engine.connect() as conn:
            n = await conn.scalar(
                text("SELECT count(*) FROM messages WHERE client_id LIKE :p"),
                {"p": f"{CID_PREFIX}%"},
            )
            return int(n or 0)
    finally:
        await engine.dispose()


def drive(
    backend: str,
    opts: Options,
    accounts: list[Account],
    base_url: str,
    server: subprocess.Popen[bytes],
    console: Any,
) -> RunResult:
    import psutil

    n = max(1, opts.clients)
    customers = [a for a in accounts if a.kind == "customer"]
    agents = [a for a in accounts if a.kind == "agent"]
    idle = [a for a in accounts if a.kind == "idle"]
    conversations: dict[int, list[int]] = {}
    for a in customers:
        conversations.setdefault(a.company, []).append(a.conversation_id)
    agents_by_company: dict[int, int] = {}
    for a in agents:
        agents_by_company[a.company] = agents_by_company.get(a.company, 0) + 1
    share = min(1.0, max(0.0, opts.agent_share)) if agents else 0.0
    closed = opts.rate <= 0
    # closed loop: one message in flight per socket, as a person types; the server handles
    # a socket's frames in order, so more in flight on one socket would only queue there
    agent_loops = 1 if closed and share > 0 else 0
    ws_url = base_url.replace("http://", "ws://") + "/api/v1/ws"
    specs = []
    for i, (cs, ags, ids) in enumerate(
        zip(_split(customers, n), _split(agents, n), _split(idle, n), strict=True)
    ):
        specs.append(
            WorkerSpec(
                index=i,
                ws_url=ws_url,
                origin=base_url,
                accounts=cs + ags + ids,
                conversations=conversations,
                customer_rate=0.0
                if closed
                else opts.rate * (1 - share) * len(cs) / max(1, len(customers)),
                agent_rate=0.0 if closed else opts.rate * share * len(ags) / max(1, len(agents)),
                closed_loop=closed,
                agent_loops=agent_loops if share > 0 else 0,
                warmup=opts.warmup,
                duration=opts.duration,
                deflate=opts.deflate,
                body_chars=opts.body_chars,
            )
        )
    ctx = mp.get_context("spawn")
    procs: list[tuple[Any, Any]] = []
    try:
        for spec in specs:
            parent_end, child_end = ctx.Pipe()
            p = ctx.Process(target=worker_entry, args=(spec, child_end), daemon=True)
            p.start()
            child_end.close()
            procs.append((p, parent_end))
        connected = 0
        for _p, pipe in procs:
            msg = _recv(pipe, SETUP_TIMEOUT, "connect the sockets")
            if msg[0] != "ready":
                raise BenchError(f"client process failed:\n{msg[1]}")
            connected += msg[1]
        console.print(f"  {connected} sockets open, measuring…")
        srv = psutil.Process(server.pid)
        ours = [srv, psutil.Process(), *(psutil.Process(p.pid) for p, _ in procs)]
        t_start = time.monotonic() + 0.5
        for _, pipe in procs:
            pipe.send(("go", t_start))
        window_lo = t_start + opts.warmup
        window_hi = window_lo + opts.duration
        rss_peak = 0
        cpu_lo = cpu_hi = None
        while time.monotonic() < window_hi + 0.05:
            now = time.monotonic()
            if cpu_lo is None and now >= window_lo:
                cpu_lo = srv.cpu_times()
                busy_lo = _busy_seconds(psutil) - sum(_cpu(p) for p in ours)
            rss_peak = max(rss_peak, srv.memory_info().rss)
            time.sleep(min(0.25, max(0.0, (window_lo if cpu_lo is None else window_hi) - now)))
        cpu_hi = srv.cpu_times()
        other_cpu = _busy_seconds(psutil) - sum(_cpu(p) for p in ours) - busy_lo
        rss_end = srv.memory_info().rss
        rss_peak = max(rss_peak, rss_end)
        assert cpu_lo is not None
        server_cpu = (cpu_hi.user - cpu_lo.user) + (cpu_hi.system - cpu_lo.system)
        workers = []
        for _p, pipe in procs:
            msg = _recv(pipe, DRAIN_TIMEOUT + DELIVERY_GRACE + 30, "finish")
            if msg[0] != "result":
                raise BenchError(f"client process failed:\n{msg[1]}")
            workers.append(msg[1])
        for p, _ in procs:
            p.join(timeout=10)
        return RunResult(
            backend=backend,
            bus="Redis" if backend == "postgres" and opts.redis_url else "in-process",
            label="max (closed loop)" if closed else f"{opts.rate:g} msg/s",
            rate=opts.rate,
            sockets=connected,
            window=opts.duration,
            workers=workers,
            agents_by_company=agents_by_company,
            rss_peak=rss_peak,
            rss_end=rss_end,
            server_cpu=server_cpu,
            other_cpu=max(0.0, other_cpu),
            in_database=None,
            clients=n,
            cores=os.cpu_count() or 1,
        )
    finally:
        for p, pipe in procs:
            if p.is_alive():
                p.terminate()
                p.join(timeout=5)
            if p.is_alive():
                p.kill()
            pipe.close()


def _cpu(proc: Any) -> float:
    t = proc.cpu_times()
    return float(t.user + t.system)


def _busy_seconds(psutil: Any) -> float:
    """CPU seconds the whole machine has spent busy since boot."""
    t = psutil.cpu_times()  # (guest time is already in user; steal is not ours to count)
    return float(t.user + t.system + sum(getattr(t, k, 0.0) for k in ("nice", "irq", "softirq")))


def _recv(pipe: Any, timeout: float, what: str) -> Any:
    if not pipe.poll(timeout):
        raise BenchError(f"a client process did not {what} within {timeout:g}s")
    try:
        return pipe.recv()
    except EOFError:
        raise BenchError(f"a client process died before it could {what}") from None


# --------------------------------------------------------------------------------------------
# the report
# --------------------------------------------------------------------------------------------


def pct(values: list[float], q: float) -> float:
    if not values:
        return math.nan
    return values[min(len(values) - 1, max(0, math.ceil(q * len(values)) - 1))]


def _ms(v: float) -> str:
    if math.isnan(v):
        return "–"
    return f"{v:.1f}" if v < 100 else f"{v:.0f}"


def _pair(values: list[float]) -> str:
    return f"{_ms(pct(values, 0.50))} / {_ms(pct(values, 0.99))}"


def print_results(console: Any, results: list[RunResult], opts: Options) -> None:
    from rich.table import Table

    table = Table(title="eyelevel bench (loopback WebSockets; latencies in ms, p50 / p99)")
    for col, justify in (
        ("backend", "left"),
        ("load", "left"),
        ("sockets", "right"),
        ("msgs/s", "right"),
        ("send→ack", "right"),
        ("send→delivery", "right"),
        ("errors", "right"),
        ("undelivered", "right"),
        ("server RSS", "right"),
        ("server CPU", "right"),
        ("client CPU", "right"),
    ):
        table.add_column(col, justify=justify)  # type: ignore[arg-type]
    for r in results:
        acks = r.merged("ack_ms", "customer") + r.merged("ack_ms", "agent")
        acks.sort()
        dlv = r.merged("delivery_ms", "c2a") + r.merged("delivery_ms", "a2c")
        dlv.sort()
        expected = r.expected_deliveries()
        undelivered = sum(expected.values()) - sum(
            len(r.merged("delivery_ms", d)) for d in expected
        )
        client_cpu = sum(w.cpu_seconds for w in r.workers)
        table.add_row(
            r.name,
            r.label,
            str(r.sockets),
            f"{r.sustained():,.0f}",
            _pair(acks),
            _pair(dlv),
            str(sum(r.errors().values())),
            str(max(0, undelivered)),
            f"{r.rss_peak / 2**20:.0f} MB",
            f"{100 * r.server_cpu / r.window:.0f}%",
            f"{100 * client_cpu / r.window:.0f}%",
        )
    console.print(table)
    for r in results:
        console.print(f"[bold]{r.name}, {r.label}[/bold]")
        for direction, title, dl in (
            ("customer", "customer → agents", "c2a"),
            ("agent", "agent → customer", "a2c"),
        ):
            acks = r.merged("ack_ms", direction)
            dlv = r.merged("delivery_ms", dl)
            console.print(
                f"  {title}: sent {r.total('sent', direction):,} in the window, "
                f"acked {r.total('acked', direction):,}; ack {_pair(acks)} ms, "
                f"delivery {_pair(dlv)} ms over {len(dlv):,} deliveries "
                f"(expected {r.expected_deliveries()[dl]:,})"
            )
        errors = r.errors()
        if errors:
            console.print("  errors: " + ", ".join(f"{k} × {v}" for k, v in sorted(errors.items())))
        acked_total = sum(w.acked_total for w in r.workers)
        if r.in_database is not None:
            verdict = "ok" if r.in_database >= acked_total else "[red]MISSING[/red]"
            console.print(
                f"  durability: {acked_total:,} messages acknowledged, {r.in_database:,} bench "
                f"messages in the database after the server stopped: {verdict}"
            )
        seconds = r.per_second()
        if len(seconds) >= 2:
            ordered = sorted(seconds)
            console.print(
                f"  acks per second over the window: min {ordered[0]:,}, median "
                f"{ordered[len(ordered) // 2]:,}, max {ordered[-1]:,}"
            )
        other = 100 * r.other_cpu / r.window
        if other > 10:
            console.print(
                f"  [yellow]other processes on this machine used {other:.0f}% of a core during "
                "the window"
                + (" (PostgreSQL and Redis among them)" if r.backend == "postgres" else "")
                + ": the figures may be disturbed[/yellow]"
            )
        lag = max(w.max_schedule_lag_ms for w in r.workers)
        if lag > 50:
            console.print(
                f"  [yellow]the client fell behind its schedule by up to {lag:.0f} ms: the "
                "offered rate was not fully generated[/yellow]"
            )
        console.print(
            f"  server RSS at the end {r.rss_end / 2**20:.0f} MB; CPU = share of one core. "
            f"{r.clients} client process{'es' if r.clients != 1 else ''} on the same "
            f"{r.cores}-core machine: client and server compete for CPU, so these figures "
            "are a lower bound for the server alone."
        )
        if r.backend == "sqlite" and r.rate <= 0:
            got = r.sustained()
            console.print(
                f"  target ≥ 1,500 msgs/s sustained: {'met' if got >= 1500 else 'NOT met'}"
            )
        if r.rate > 0 and r.sockets >= 1000:
            allv = sorted(r.merged("delivery_ms", "c2a") + r.merged("delivery_ms", "a2c"))
            p99 = pct(allv, 0.99)
            console.print(
                f"  target delivery p99 ≤ 50 ms at {r.rate:g} msgs/s with ≥ 1,000 sockets: "
                f"{'met' if p99 <= 50 else 'NOT met'} ({_ms(p99)} ms)"
            )


# --------------------------------------------------------------------------------------------
# a client process
# --------------------------------------------------------------------------------------------


def worker_entry(spec: WorkerSpec, pipe: Any) -> None:
    """Entry of a spawned client process: connect, report ready, run on "go", send results."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops us
    try:
        try:
            import uvloop

            runner = asyncio.Runner(loop_factory=uvloop.new_event_loop)
        except ImportError:
            runner = asyncio.Runner()
        with runner:
            result = runner.run(_Worker(spec, pipe).main())
        pipe.send(("result", result))
    except BaseException:  # noqa: BLE001 - reported to the parent, which prints it
        with contextlib.suppress(Exception):
            pipe.send(("failed", traceback.format_exc()))
    finally:
        pipe.close()


@dataclass
class _Sock:
    account: Account
    conn: Any = None
    reader: asyncio.Task[None] | None = None


class _Worker:
    def __init__(self, spec: WorkerSpec, pipe: Any) -> None:
        self.spec = spec
        self.pipe = pipe
        self.res = WorkerResult(spec.index)
        for d in ("customer", "agent"):
            self.res.ack_ms[d] = array("d")
            self.res.sent[d] = 0
            self.res.acked[d] = 0
        for d in ("c2a", "a2c"):
            self.res.delivery_ms[d] = array("d")
        self.pending: dict[str, tuple[int, str, int, asyncio.Future[None] | None]] = {}
        self.seq = 0
        self.window_lo = self.window_hi = 0
        self.body = (BODY_TEXT * (spec.body_chars // len(BODY_TEXT) + 1))[: spec.body_chars]
        self.rng = random.Random(spec.index)
        self.sockets: list[_Sock] = []

    def error(self, kind: str) -> None:
        self.res.errors[kind] = self.res.errors.get(kind, 0) + 1

    # -- connections -----------------------------------------------------------------------

    async def connect(self) -> None:
        from websockets.asyncio.client import connect

        sem = asyncio.Semaphore(CONNECT_CONCURRENCY)

        async def one(s: _Sock) -> None:
            async with sem:
                try:
                    s.conn = await connect(
                        self.spec.ws_url,
                        additional_headers={
                            "Origin": self.spec.origin,
                            "Cookie": f"{SESSION_COOKIE}={s.account.cookie}",
                        },
                        compression="deflate" if self.spec.deflate else None,
                        ping_interval=None,
                        max_size=1 << 20,
                        open_timeout=30,
                        close_timeout=2,
                        max_queue=None,
                    )
                    hello = json.loads(await asyncio.wait_for(s.conn.recv(), 10))
                    if hello.get("type") != "hello":
                        raise RuntimeError(f"expected hello, got {hello.get('type')}")
                except Exception as exc:  # noqa: BLE001 - counted
                    self.error(f"connect: {type(exc).__name__}")
                    if s.conn is not None:
                        with contextlib.suppress(Exception):
                            await s.conn.close()
                    s.conn = None
                    return
                s.reader = asyncio.create_task(self.read(s))

        self.sockets = [_Sock(a) for a in self.spec.accounts]
        await asyncio.gather(*(one(s) for s in self.sockets))
        self.res.connected = sum(1 for s in self.sockets if s.conn is not None)

    async def read(self, s: _Sock) -> None:
        kind = s.account.kind
        try:
            async for raw in s.conn:
                now = time.monotonic_ns()
                frame = json.loads(raw)
                ftype = frame.get("type")
                if ftype == "ack":
                    self.on_ack(frame.get("ref"), now)
                elif ftype == "message.created":
                    data = frame["data"]
                    cid = data.get("client_id") or ""
                    if not cid.startswith(CID_PREFIX):
                        continue
                    author = data["author"]["type"]
                    if kind == "agent" and author == "customer":
                        self.on_delivery(cid, now, "c2a")
                    elif kind == "customer" and author == "agent":
                        self.on_delivery(cid, now, "a2c")
                elif ftype == "error":
                    self.error(f"error frame: {frame.get('code')}")
                    ref = frame.get("ref")
                    entry = self.pending.pop(ref, None) if ref else None
                    if entry is not None and entry[3] is not None and not entry[3].done():
                        entry[3].set_result(None)
                elif ftype == "resync_required":
                    self.error("resync_required")
        except Exception as exc:  # noqa: BLE001 - a socket that drops is an error
            self.error(f"socket: {type(exc).__name__}")
            return
        if not self.stopping:
            self.error("socket closed by the server")

    stopping = False

    def on_ack(self, ref: str | None, now: int) -> None:
        entry = self.pending.pop(ref, None) if ref else None
        if entry is None:
            return
        sent_ns, direction, _, fut = entry
        self.res.acked_total += 1
        if self.window_lo <= now < self.window_hi:
            second = (now - self.window_lo) // 1_000_000_000
            self.res.per_second[second] = self.res.per_second.get(second, 0) + 1
        if self.window_lo <= sent_ns < self.window_hi:
            self.res.acked[direction] += 1
            self.res.ack_ms[direction].append((now - sent_ns) / 1e6)
            if direction == "customer":
                company = entry[2]
                self.res.acked_by_company[company] = self.res.acked_by_company.get(company, 0) + 1
        if fut is not None and not fut.done():
            fut.set_result(None)

    def on_delivery(self, cid: str, now: int, direction: str) -> None:
        try:
            sent_ns = int(cid.rsplit(".", 1)[1])
        except (IndexError, ValueError):
            return
        if self.window_lo <= sent_ns < self.window_hi:
            self.res.delivery_ms[direction].append((now - sent_ns) / 1e6)

    # -- sending ---------------------------------------------------------------------------

    async def send(
        self, s: _Sock, conversation_id: int, closed: bool
    ) -> asyncio.Future[None] | None:
        self.seq += 1
        ref = f"r{self.seq}"
        sent_ns = time.monotonic_ns()
        direction = "agent" if s.account.kind == "agent" else "customer"
        fut = asyncio.get_running_loop().create_future() if closed else None
        self.pending[ref] = (sent_ns, direction, s.account.company, fut)
        if self.window_lo <= sent_ns < self.window_hi:
            self.res.sent[direction] += 1
        text = json.dumps(
            {
                "type": "send",
                "ref": ref,
                "conversation_id": conversation_id,
                "body": self.body,
                "client_id": f"{CID_PREFIX}{self.spec.index}.{self.seq}.{sent_ns}",
            },
            separators=(",", ":"),
        )
        try:
            await s.conn.send(text)
        except Exception as exc:  # noqa: BLE001 - counted
            self.pending.pop(ref, None)
            self.error(f"send: {type(exc).__name__}")
            return None
        return fut

    def _conversation_for(self, s: _Sock) -> int:
        if s.account.kind == "customer":
            return s.account.conversation_id
        return self.rng.choice(self.spec.conversations[s.account.company])

    async def open_loop(self, t_start: float, t_end: float) -> None:
        """Send at the scheduled instants, never waiting for acks."""
        live = [s for s in self.sockets if s.conn is not None]
        groups = [
            ([s for s in live if s.account.kind == "customer"], self.spec.customer_rate),
            ([s for s in live if s.account.kind == "agent"], self.spec.agent_rate),
        ]
        groups = [(g, r) for g, r in groups if g and r > 0]
        done = [0] * len(groups)
        turn = [0] * len(groups)
        while True:
            now = time.monotonic()
            if now >= t_end:
                return
            elapsed = now - t_start
            for i, (group, rate) in enumerate(groups):
                due = int(elapsed * rate)
                behind = (due - done[i]) / rate * 1000
                self.res.max_schedule_lag_ms = max(self.res.max_schedule_lag_ms, behind)
                while done[i] < due:
                    s = group[turn[i] % len(group)]
                    turn[i] += 1
                    done[i] += 1
                    await self.send(s, self._conversation_for(s), closed=False)
            await asyncio.sleep(0.002)

    async def closed_loop(self, t_end: float) -> None:
        """Every customer (and ``agent_loops`` per agent) sends, waits for the ack, repeats."""

        async def loop(s: _Sock) -> None:
            while time.monotonic() < t_end and s.conn is not None:
                fut = await self.send(s, self._conversation_for(s), closed=True)
                if fut is None:
                    return
                try:
                    await asyncio.wait_for(fut, ACK_TIMEOUT)
                except TimeoutError:
                    self.error("no ack within 10s")

        tasks = []
        for s in self.sockets:
            if s.conn is None:
                continue
            if s.account.kind == "customer":
                tasks.append(loop(s))
            elif s.account.kind == "agent":
                tasks.extend(loop(s) for _ in range(self.spec.agent_loops))
        await asyncio.gather(*tasks)

    # -- the run ---------------------------------------------------------------------------

    async def main(self) -> WorkerResult:
        await self.connect()
        self.pipe.send(("ready", self.res.connected))
        loop = asyncio.get_running_loop()
        go = await loop.run_in_executor(None, _wait_go, self.pipe)
        t_start = float(go)
        await asyncio.sleep(max(0.0, t_start - time.monotonic()))
        self.window_lo = int((t_start + self.spec.warmup) * 1e9)
        self.window_hi = int((t_start + self.spec.warmup + self.spec.duration) * 1e9)
        t_end = self.window_hi / 1e9
        cpu_task = asyncio.create_task(self._cpu_window())
        if self.spec.closed_loop:
            await self.closed_loop(t_end)
        else:
            await self.open_loop(t_start, t_end)
        # drain: outstanding acks, then the last deliveries
        deadline = time.monotonic() + DRAIN_TIMEOUT
        while self.pending and time.monotonic() < deadline:  # noqa: ASYNC110 - bounded poll
            await asyncio.sleep(0.02)
        for ref, (_, _, _, fut) in list(self.pending.items()):
            if fut is None:  # closed-loop sends already counted their own timeout
                self.error("no ack")
            self.pending.pop(ref, None)
        await asyncio.sleep(DELIVERY_GRACE)
        self.res.cpu_seconds = await cpu_task
        self.stopping = True
        await self.close()
        return self.res

    async def _cpu_window(self) -> float:
        lo = self.window_lo / 1e9
        hi = self.window_hi / 1e9
        await asyncio.sleep(max(0.0, lo - time.monotonic()))
        start = time.process_time()
        await asyncio.sleep(max(0.0, hi - time.monotonic()))
        return time.process_time() - start

    async def close(self) -> None:
        async def one(s: _Sock) -> None:
            if s.conn is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(s.conn.close(), 3)
            if s.reader is not None:
                s.reader.cancel()
                with contextlib.suppress(BaseException):
                    await s.reader

        await asyncio.gather(*(one(s) for s in self.sockets))


def _wait_go(pipe: Any) -> float:
    if not pipe.poll(SETUP_TIMEOUT):
        raise RuntimeError("no go signal from the parent")
    msg = pipe.recv()
    if msg[0] != "go":
        raise RuntimeError(f"unexpected message {msg[0]!r}")
    return float(msg[1])
