"""The server under test: its database, its process, and what it stored.

A free loopback port, the dedicated PostgreSQL database ``eyelevel_bench`` (created and
dropped), ``python -m eyelevel serve`` started in a temporary directory and stopped with
SIGTERM, and the count of bench messages left in the database afterwards.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from eyelevel.bench.options import CID_PREFIX, LOOPBACK, SERVER_START_TIMEOUT, BenchError


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((LOOPBACK, 0))
        return int(s.getsockname()[1])


def pg_urls(admin_url: str) -> tuple[str, str]:
    parts = urlsplit(admin_url)
    scheme = "postgresql+asyncpg" if parts.scheme in ("postgresql", "postgres") else parts.scheme
    if not scheme.startswith("postgresql"):
        raise BenchError(f"--database-url must be a PostgreSQL URL, not {parts.scheme}://")
    if parts.hostname not in (LOOPBACK, "localhost"):
        raise BenchError("the bench talks to 127.0.0.1 only: use a loopback PostgreSQL URL")
    admin = urlunsplit((scheme, parts.netloc, parts.path, parts.query, ""))
    bench = urlunsplit((scheme, parts.netloc, "/eyelevel_bench", parts.query, ""))
    return admin, bench


async def pg_recreate(admin_url: str, *, create: bool) -> None:
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


def spawn_server(
    *,
    tmp: Path,
    port: int,
    base_url: str,
    db_url: str,
    secret: str,
    channel: str,
    redis_url: str | None,
    log_path: Path,
) -> subprocess.Popen[bytes]:
    """Start ``python -m eyelevel serve`` in ``tmp``, configured by its environment only."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("EYELEVEL_")}
    env.update(
        EYELEVEL_DATABASE_URL=db_url,
        EYELEVEL_DATA_DIR=str(tmp / "data"),
        EYELEVEL_SECRET_KEY=secret,
        EYELEVEL_PUBLIC_URL=base_url,
        EYELEVEL_REDIS_CHANNEL=channel,
        EYELEVEL_LOG_LEVEL="warning",
        # one client on loopback drives thousands of requests and sockets: with rate limits on,
        # the bench would measure the limiter's 429s (they protect against abuse, not load)
        EYELEVEL_RATE_LIMIT_ENABLED="false",
    )
    if redis_url:
        env["EYELEVEL_REDIS_URL"] = redis_url
    # the server runs in the temporary directory: it must import this very eyelevel
    package_root = str(Path(__file__).resolve().parents[2])
    env["PYTHONPATH"] = os.pathsep.join(
        [package_root, *(p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p)]
    )
    with open(log_path, "wb") as log:
        return subprocess.Popen(  # noqa: S603 - our own interpreter, fixed arguments
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


def wait_ready(base_url: str, proc: subprocess.Popen[bytes], log_path: Path) -> None:
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


def stop_server(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)


async def count_bench_messages(db_url: str) -> int:
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
