"""Scenarios: one per backend and rate, each with a fresh database and server.

``run`` is what ``eyelevel bench`` calls; a scenario creates and seeds the database, starts the
server, signs the accounts in, drives the load, checks the database and cleans up.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from eyelevel.bench.accounts import plan_accounts, seed, sign_in_and_start
from eyelevel.bench.load import drive
from eyelevel.bench.options import LOOPBACK, SETUP_TIMEOUT, BenchError, Options
from eyelevel.bench.report import print_results
from eyelevel.bench.results import RunResult
from eyelevel.bench.server import (
    count_bench_messages,
    free_port,
    pg_recreate,
    pg_urls,
    spawn_server,
    stop_server,
    wait_ready,
)


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
            console.print(f"[bold]{backend}[/bold]: {_describe(scenario)}")
            try:
                results.append(_run_one(backend, scenario, console))
            except BenchError as exc:
                console.print(f"[red]{backend}: {exc}[/red]")
                return 1
    if results:
        print_results(console, results, opts)
    for line in skipped:
        console.print(f"[yellow]skipped[/yellow] {line}")
    return 0 if results else 1


def _describe(opts: Options) -> str:
    load = "closed loop (max)" if opts.rate <= 0 else f"{opts.rate:g} msg/s open loop"
    total = max(opts.sockets, opts.customers + opts.agents)
    return (
        f"{opts.customers} customers, {opts.agents} agents, {opts.companies} compan"
        f"{'y' if opts.companies == 1 else 'ies'}, {total} sockets, {load}, "
        f"{opts.duration:g}s (+{opts.warmup:g}s warm-up), {opts.clients} client process"
        f"{'' if opts.clients == 1 else 'es'}"
    )


def _run_one(backend: str, opts: Options, console: Any) -> RunResult:
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
        admin_url, db_url = pg_urls(opts.database_url or "")
        redis_url = opts.redis_url
        if redis_url and urlsplit(redis_url).hostname not in (LOOPBACK, "localhost"):
            raise BenchError("the bench talks to 127.0.0.1 only: use a loopback Redis URL")
        asyncio.run(pg_recreate(admin_url, create=True))
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

        server = spawn_server(
            tmp=tmp,
            port=port,
            base_url=base_url,
            db_url=db_url,
            secret=secret,
            channel=channel,
            redis_url=redis_url,
            log_path=log_path,
        )
        wait_ready(base_url, server, log_path)
        started = time.monotonic()
        asyncio.run(asyncio.wait_for(sign_in_and_start(base_url, opts, accounts), SETUP_TIMEOUT))
        console.print(
            f"  signed in {len(accounts)} accounts, started {opts.customers} conversations "
            f"in {time.monotonic() - started:.1f}s"
        )
        result = drive(backend, opts, accounts, base_url, server, console)
        stop_server(server)
        result.in_database = asyncio.run(count_bench_messages(db_url))
        ok = True
        return result
    finally:
        if server is not None:
            stop_server(server)
        if admin_url is not None:
            with contextlib.suppress(Exception):
                asyncio.run(pg_recreate(admin_url, create=False))
        if ok:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            console.print(f"  kept {tmp} (server log: {log_path})")
