"""Real ``eyelevel serve`` processes for tests: spawn, wait until ready, kill, restart.

A :class:`Cluster` is one deployment on loopback: one database (the test's), one Redis channel
on the PostgreSQL backend, one secret key and data directory, shared by every ``serve`` process
it spawns. Each :class:`ServeProcess` has its own port (kept across restarts) and writes its
stdout/stderr to files under the test's ``tmp_path`` (one pair per run). Whatever happens, the
cluster kills its processes when the ``async with`` block ends.

Accounts are seeded with the operator actions against the same database before (or while) the
processes run; clients sign in over HTTP like any browser or integration would.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import secrets
import signal
import socket
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO

import httpx
import websockets
from websockets.asyncio.client import ClientConnection

from eyelevel.app import build_runtime
from eyelevel.config import Settings
from eyelevel.core.actions import operator
from eyelevel.core.entities import Role
from eyelevel.jobs.mailers import MemoryMailer
from eyelevel.security import Argon2Hasher
from tests import backends

PASSWORD = "correct horse battery"
READY_TIMEOUT = 30.0


def free_port() -> int:
    """A loopback port nobody listens on, below the kernel's ephemeral range.

    A ``serve`` process keeps its port across kill and restart; while it is down, a port from
    the ephemeral range could be taken as the source port of some outgoing connection.
    """
    low = 32768
    with contextlib.suppress(OSError, ValueError):
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    rng = random.SystemRandom()
    for _ in range(100):
        port = rng.randrange(max(1024, low - 12000), low)
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port")


class ServeProcess:
    """One ``python -m eyelevel serve`` on a fixed port; can be killed and started again."""

    def __init__(self, name: str, port: int, env: dict[str, str], logdir: Path) -> None:
        self.name = name
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.ws_url = f"ws://127.0.0.1:{port}/api/v1/ws"
        self.env = {**env, "EYELEVEL_PUBLIC_URL": self.url}
        self.logdir = logdir
        self.proc: subprocess.Popen[bytes] | None = None
        self.runs = 0
        self._files: list[IO[bytes]] = []

    # -- lifecycle -------------------------------------------------------------------------

    def spawn(self) -> None:
        assert not self.alive, f"{self.name} is already running"
        self._close_files()
        self.runs += 1
        out = open(self.stdout_path(self.runs), "wb")  # noqa: SIM115 - closed in _close_files
        err = open(self.stderr_path(self.runs), "wb")  # noqa: SIM115
        self._files = [out, err]
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "eyelevel",
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
            ],
            env=self.env,
            cwd=self.logdir,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=err,
        )

    async def start(self, within: float = READY_TIMEOUT) -> ServeProcess:
        self.spawn()
        await self.wait_ready(within)
        return self

    async def wait_ready(self, within: float = READY_TIMEOUT) -> None:
        """Poll ``/readyz`` until it answers 200; fail early if the process exits."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        async with httpx.AsyncClient(base_url=self.url, timeout=2.0) as http:
            while True:
                assert self.proc is not None
                if self.proc.poll() is not None:
                    raise AssertionError(
                        f"{self.name} exited with {self.proc.returncode} before it was ready\n"
                        + self.logs_tail()
                    )
                with contextlib.suppress(httpx.TransportError):
                    if (await http.get("/readyz")).status_code == 200:
                        return
                if loop.time() > deadline:
                    raise AssertionError(
                        f"{self.name} not ready after {within}s\n{self.logs_tail()}"
                    )
                await asyncio.sleep(0.05)

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def send_signal(self, sig: int) -> None:
        assert self.proc is not None
        self.proc.send_signal(sig)

    async def wait_exit(self, within: float) -> int:
        """The exit status (negative: killed by that signal); fails after ``within`` seconds."""
        assert self.proc is not None
        try:
            code = await asyncio.to_thread(self.proc.wait, within)
        except subprocess.TimeoutExpired:
            raise AssertionError(
                f"{self.name} still running {within}s later\n{self.logs_tail()}"
            ) from None
        self._close_files()
        return code

    async def kill(self) -> None:
        """``kill -9`` and reap; the port is free again when this returns."""
        if self.alive:
            self.send_signal(signal.SIGKILL)
        if self.proc is not None:
            await self.wait_exit(10)

    async def restart(self, within: float = READY_TIMEOUT) -> None:
        await self.kill()
        await self.start(within)

    def stop(self) -> None:
        """Teardown (synchronous, idempotent): kill -9 whatever still runs and reap it."""
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.kill()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(10)
        self._close_files()

    def _close_files(self) -> None:
        for f in self._files:
            f.close()
        self._files = []

    # -- output ----------------------------------------------------------------------------

    def stdout_path(self, run: int) -> Path:
        return self.logdir / f"{self.name}.{run}.stdout"

    def stderr_path(self, run: int) -> Path:
        return self.logdir / f"{self.name}.{run}.stderr"

    def stdout_text(self) -> str:
        return "".join(
            self.stdout_path(r).read_text(errors="replace") for r in range(1, self.runs + 1)
        )

    def stderr_text(self) -> str:
        return "".join(
            self.stderr_path(r).read_text(errors="replace") for r in range(1, self.runs + 1)
        )

    def logs_tail(self, lines: int = 30) -> str:
        out = []
        for run in range(1, self.runs + 1):
            for path in (self.stdout_path(run), self.stderr_path(run)):
                if path.exists():
                    tail = path.read_text(errors="replace").splitlines()[-lines:]
                    out.append(f"--- {path.name} ---\n" + "\n".join(tail))
        return "\n".join(out)


@dataclass
class Seeded:
    company_slug: str
    agent_email: str
    customer_email: str


@dataclass
class Account:
    """A signed-in customer or agent (session cookie + CSRF token), valid on every process."""

    kind: str
    id: int
    cookies: dict[str, str]
    csrf: str

    def http(self, proc: ServeProcess, timeout: float = 10.0) -> httpx.AsyncClient:
        return httpx.AsyncClient(
            base_url=proc.url,
            cookies=self.cookies,
            headers={"x-csrf-token": self.csrf},
            timeout=timeout,
        )

    def ws_headers(self, proc: ServeProcess) -> dict[str, str]:
        cookie = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        return {"Origin": proc.url, "Cookie": cookie}

    async def ws(
        self, proc: ServeProcess, since: int | None = None
    ) -> tuple[ClientConnection, int]:
        """An open socket and the ``pos`` of its ``hello``."""
        url = proc.ws_url + ("" if since is None else f"?since={since}")
        conn = await websockets.connect(
            url, additional_headers=self.ws_headers(proc), open_timeout=5, max_queue=None
        )
        try:
            frame = json.loads(await asyncio.wait_for(conn.recv(), 5))
            assert frame["type"] == "hello", frame
        except BaseException:
            await conn.close()
            raise
        return conn, int(frame["pos"])


async def login(proc: ServeProcess, kind: str, email: str) -> Account:
    async with httpx.AsyncClient(base_url=proc.url, timeout=30) as http:
        r = await http.post(
            "/api/v1/auth/login", json={"kind": kind, "email": email, "password": PASSWORD}
        )
        assert r.status_code == 200, r.text
        cookies = dict(http.cookies.items())
        csrf = r.json()["csrf_token"]
        me = await http.get("/api/v1/auth/me")
        assert me.status_code == 200, me.text
        return Account(kind=kind, id=int(me.json()["id"]), cookies=cookies, csrf=csrf)


class Cluster:
    """``serve`` processes sharing one database, bus channel, secret key and data directory."""

    def __init__(self, db_url: str, workdir: Path) -> None:
        self.db_url = db_url
        self.workdir = workdir
        self.data_dir = workdir / "data"
        self.logdir = workdir / "logs"
        self.logdir.mkdir(parents=True, exist_ok=True)
        self.secret_key = secrets.token_urlsafe(48)
        self.redis_url = backends.REDIS_URL if backends.BACKEND == "postgres" else None
        self.redis_channel = backends.redis_channel()
        env = {k: v for k, v in os.environ.items() if not k.startswith("EYELEVEL_")}
        env.update(
            EYELEVEL_DATABASE_URL=db_url,
            EYELEVEL_DATA_DIR=str(self.data_dir),
            EYELEVEL_SECRET_KEY=self.secret_key,
            EYELEVEL_REDIS_CHANNEL=self.redis_channel,
            EYELEVEL_LOG_LEVEL="info",
            PYTHONUNBUFFERED="1",
        )
        if self.redis_url:
            env["EYELEVEL_REDIS_URL"] = self.redis_url
        self.env = env
        self.processes: list[ServeProcess] = []

    async def __aenter__(self) -> Cluster:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        for proc in self.processes:
            proc.stop()

    def process(self, name: str) -> ServeProcess:
        proc = ServeProcess(name, free_port(), self.env, self.logdir)
        self.processes.append(proc)
        return proc

    async def start(self, *names: str) -> list[ServeProcess]:
        procs = [self.process(name) for name in names]
        for proc in procs:
            proc.spawn()
        await asyncio.gather(*(proc.wait_ready() for proc in procs))
        return procs

    def settings(self) -> Settings:
        return Settings(
            database_url=self.db_url,
            redis_url=None,
            data_dir=self.data_dir,
            secret_key=self.secret_key,
        )

    async def seed(self, slug: str = "beispiel") -> Seeded:
        """A company with one agent and one verified customer, by the operator actions."""
        rt = build_runtime(
            self.settings(), mailer=MemoryMailer(), passwords=Argon2Hasher(fast=True)
        )
        await rt.start()
        try:
            company, _ = await operator.ensure_company(
                rt.ctx, slug=slug, name=slug.title(), phone="+49 30 123456"
            )
            seeded = Seeded(
                company_slug=slug,
                agent_email=f"agent-{uuid.uuid4().hex[:8]}@example.com",
                customer_email=f"kunde-{uuid.uuid4().hex[:8]}@example.org",
            )
            await operator.ensure_agent(
                rt.ctx,
                company,
                email=seeded.agent_email,
                name="Anna Agent",
                password=PASSWORD,
                role=Role.AGENT,
            )
            await operator.ensure_customer(
                rt.ctx, email=seeded.customer_email, display_name="Kim Kunde", password=PASSWORD
            )
            return seeded
        finally:
            await rt.close()

    def logs_tail(self) -> str:
        return "\n".join(p.logs_tail() for p in self.processes)

    def stderr_text(self) -> str:
        return "".join(p.stderr_text() for p in self.processes)
