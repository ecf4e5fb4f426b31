"""A real server in the test process, and clients that act as customers, agents and tokens."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import socket
import uuid
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import uvicorn
import websockets
from websockets.asyncio.client import ClientConnection

from eyelevel.app import Runtime, build_runtime, create_app
from eyelevel.config import Settings
from eyelevel.core.actions import operator
from eyelevel.core.entities import ALL_SCOPES, Company, Role
from eyelevel.core.ports import Clock, OutgoingMail
from eyelevel.jobs.mailers import MemoryMailer, SmtpMailer
from eyelevel.security import Argon2Hasher
from tests import backends

PASSWORD = "correct horse battery"


@dataclass
class Client:
    """An HTTP client with a session (cookie + CSRF header) or a bearer token."""

    server: Server
    http: httpx.AsyncClient
    kind: str
    id: int = 0
    name: str = ""
    token: str | None = None

    async def get(self, path: str, **kw: Any) -> httpx.Response:
        return await self.http.get(path, **kw)

    async def post(self, path: str, body: Any = None, **kw: Any) -> httpx.Response:
        return await self.http.post(path, json=body, **kw)

    async def delete(self, path: str, **kw: Any) -> httpx.Response:
        return await self.http.delete(path, **kw)

    def ws_headers(self) -> dict[str, str]:
        headers = {"Origin": self.server.url}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        cookie = "; ".join(f"{k}={v}" for k, v in self.http.cookies.items())
        if cookie:
            headers["Cookie"] = cookie
        return headers

    async def ws(self, since: int | None = None) -> Socket:
        url = self.server.ws_url + ("" if since is None else f"?since={since}")
        conn = await websockets.connect(url, additional_headers=self.ws_headers())
        sock = Socket(conn)
        hello = await sock.next_frame()
        assert hello["type"] == "hello", hello
        sock.hello_pos = hello["pos"]
        return sock

    async def start_conversation(
        self, company: str, body: str = "Hallo!", **kw: Any
    ) -> dict[str, Any]:
        r = await self.post("/api/v1/conversations", {"company": company, "body": body, **kw})
        assert r.status_code == 201, r.text
        return dict(r.json())

    async def send(self, conversation_id: int, body: str, **kw: Any) -> httpx.Response:
        return await self.post(
            f"/api/v1/conversations/{conversation_id}/messages", {"body": body, **kw}
        )

    async def close(self) -> None:
        await self.http.aclose()


@dataclass
class Socket:
    conn: ClientConnection
    hello_pos: int = 0
    pending: list[dict[str, Any]] = field(default_factory=list)

    async def next_frame(self, timeout: float = 5.0) -> dict[str, Any]:
        raw = await asyncio.wait_for(self.conn.recv(), timeout)
        return dict(json.loads(raw))

    async def send_json(self, obj: Any) -> None:
        await self.conn.send(json.dumps(obj))

    async def wait_for(self, pred: Any, timeout: float = 5.0) -> dict[str, Any]:
        """The next frame matching ``pred``; frames skipped on the way are kept in ``pending``."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            frame = await self.next_frame(max(0.01, deadline - loop.time()))
            if pred(frame):
                return frame
            self.pending.append(frame)

    async def frames_until_quiet(self, quiet: float = 0.3) -> list[dict[str, Any]]:
        out = []
        with contextlib.suppress(TimeoutError):
            while True:
                out.append(await self.next_frame(quiet))
        return out

    async def close(self) -> None:
        await self.conn.close()


@dataclass
class Server:
    url: str
    ws_url: str
    settings: Settings
    runtime: Runtime
    mailer: MemoryMailer
    clients: list[Client] = field(default_factory=list)

    def client(self, kind: str = "anonymous") -> Client:
        c = Client(self, httpx.AsyncClient(base_url=self.url, timeout=30), kind)
        c.http.event_hooks["request"] = [self._add_csrf(c)]
        self.clients.append(c)
        return c

    @staticmethod
    def _add_csrf(c: Client) -> Any:
        async def hook(request: httpx.Request) -> None:
            csrf = c.http.cookies.get("eyelevel_csrf")
            if csrf and "x-csrf-token" not in request.headers:
                request.headers["x-csrf-token"] = csrf
            if c.token and "authorization" not in request.headers:
                request.headers["authorization"] = f"Bearer {c.token}"

        return hook

    async def company(self, slug: str, name: str | None = None) -> Company:
        company, _ = await operator.ensure_company(
            self.runtime.ctx, slug=slug, name=name or slug.title(), phone="+49 30 123456"
        )
        return company

    async def agent(
        self,
        company: Company,
        email: str | None = None,
        role: Role = Role.AGENT,
        name: str = "Anna Agent",
    ) -> Client:
        email = email or f"agent-{uuid.uuid4().hex[:8]}@example.com"
        agent = await operator.ensure_agent(
            self.runtime.ctx, company, email=email, name=name, password=PASSWORD, role=role
        )
        c = self.client("agent")
        r = await c.post(
            "/api/v1/auth/login", {"kind": "agent", "email": email, "password": PASSWORD}
        )
        assert r.status_code == 200, r.text
        c.id, c.name = agent.id, agent.name
        return c

    async def customer(self, email: str | None = None, name: str = "Kim Kunde") -> Client:
        """Signs up over the API and verifies the email with the link from the mail outbox."""
        email = email or f"kunde-{uuid.uuid4().hex[:8]}@example.org"
        c = self.client("customer")
        r = await c.post(
            "/api/v1/auth/signup", {"email": email, "password": PASSWORD, "display_name": name}
        )
        assert r.status_code == 201, r.text
        token = await self.mail_token(email, r"/verify\?token=(\S+)")
        r = await c.post("/api/v1/auth/verify", {"token": token})
        assert r.status_code == 204, r.text
        me = (await c.get("/api/v1/auth/me")).json()
        c.id, c.name = me["id"], me["name"]
        return c

    async def token_client(
        self, company: Company, name: str = "CRM", scopes: Iterable[str] = ALL_SCOPES
    ) -> Client:
        """An API token of the company (every scope unless ``scopes`` says otherwise)."""
        secret = await operator.operator_create_token(
            self.runtime.ctx, company_slug=company.slug, name=name, scopes=scopes
        )
        c = self.client("token")
        c.token = secret
        return c

    async def mail_token(self, to: str, pattern: str, timeout: float = 5.0) -> str:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while loop.time() < deadline:
            for mail in reversed(self.mailer.sent):
                if mail.to == to and (m := re.search(pattern, mail.text)):
                    return m.group(1)
            await asyncio.sleep(0.02)
        raise AssertionError(f"no mail to {to} matching {pattern}")


async def all_messages(http: httpx.AsyncClient, conv_id: int) -> list[dict[str, Any]]:
    """Every message of a conversation the client may see, paging forwards by ``seq``."""
    items: list[dict[str, Any]] = []
    after = 0
    while True:
        r = await http.get(
            f"/api/v1/conversations/{conv_id}/messages", params={"after_seq": after, "limit": 200}
        )
        assert r.status_code == 200, r.text
        page = r.json()["items"]
        items.extend(page)
        if len(page) < 200:
            return items
        after = page[-1]["seq"]


def free_socket() -> socket.socket:
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY only on accepted sockets whose proto is
    # TCP, and with proto 0 every keep-alive request waits ~40 ms for a delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


class _Both:
    """The server's mails in memory (for the tests' verification links) and over SMTP."""

    def __init__(self, memory: MemoryMailer, smtp: SmtpMailer) -> None:
        self._memory, self._smtp = memory, smtp

    async def send(self, mail: OutgoingMail) -> None:
        await self._memory.send(mail)
        await self._smtp.send(mail)


@contextlib.asynccontextmanager
async def start_server(
    db_url: str,
    tmp_path: Path,
    *,
    clock: Clock | None = None,
    mailer: MemoryMailer | None = None,
    **overrides: Any,
) -> AsyncIterator[Server]:
    """A server on a free loopback port; ``clock`` (e.g. a FakeClock) drives its time;
    ``mailer`` (default: a :class:`MemoryMailer`) receives the mails it sends. With
    ``smtp_url`` (e.g. a ``tests.smtp_sink.SmtpSink``) every mail also goes out over SMTP."""
    sock = free_socket()
    port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    settings = Settings(
        database_url=db_url,
        redis_url=backends.REDIS_URL if backends.BACKEND == "postgres" else None,
        redis_channel=backends.redis_channel(),
        data_dir=tmp_path / "data",
        public_url=url,
        # rate limits off unless a test turns them on (tests/test_ratelimit.py)
        **{"rate_limit_enabled": False, **overrides},
    )
    mailer = mailer or MemoryMailer()
    smtp = settings.smtp_url
    out = _Both(mailer, SmtpMailer(smtp.get_secret_value(), settings.mail_from)) if smtp else mailer
    runtime = build_runtime(settings, mailer=out, clock=clock, passwords=Argon2Hasher(fast=True))
    app = create_app(settings, runtime=runtime, worker_idle_seconds=0.02)
    # long keep-alive: a pooled client connection must not be closed by the server mid-reuse
    config = uvicorn.Config(
        app,
        log_level="warning",
        lifespan="on",
        ws_max_size=1 << 20,
        timeout_keep_alive=300,
        proxy_headers=False,  # as `eyelevel serve`: the app alone decides whom to trust
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("server did not start")
        await asyncio.sleep(0.01)
    srv = Server(url, f"ws://127.0.0.1:{port}/api/v1/ws", settings, runtime, mailer)
    try:
        yield srv
    finally:
        for c in srv.clients:
            await c.close()
        server.should_exit = True
        await task
        sock.close()
