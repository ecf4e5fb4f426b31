"""A webhook receiver on loopback for tests: a plain asyncio HTTP/1.1 server whose answers are
scripted, and a ``standardwebhooks`` verifier that judges timestamps by the server's clock."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jsonschema
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from eyelevel.core.ports import Clock

SCHEMAS = Path(__file__).resolve().parent.parent / "docs" / "webhooks"


@dataclass
class Answer:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b"ok"
    hold: asyncio.Event | None = None  # wait for it before answering (a slow receiver)


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    def json(self) -> dict[str, Any]:
        return dict(json.loads(self.body))


class Receiver:
    """Answers each request with the next scripted :class:`Answer` (then ``default``)."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.script: list[Answer] = []
        self.default = Answer()
        self.port = 0
        self._server: asyncio.Server | None = None
        self._arrived = asyncio.Condition()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 1)

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            path = lines[0].split(" ")[1]
            headers = {}
            for line in lines[1:]:
                if ":" in line:
                    k, v = line.split(":", 1)
                    headers[k.strip().lower()] = v.strip()
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            answer = self.script.pop(0) if self.script else self.default
            async with self._arrived:
                self.requests.append(Received(path, headers, body))
                self._arrived.notify_all()
            if answer.hold is not None:
                await answer.hold.wait()
            extra = "".join(f"{k}: {v}\r\n" for k, v in answer.headers.items())
            writer.write(
                f"HTTP/1.1 {answer.status} X\r\ncontent-length: {len(answer.body)}\r\n"
                f"connection: close\r\n{extra}\r\n".encode()
                + answer.body
            )
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    async def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """Until ``count`` requests have arrived in all."""
        async with self._arrived:
            await asyncio.wait_for(
                self._arrived.wait_for(lambda: len(self.requests) >= count), timeout
            )
        return list(self.requests)

    async def quiet(self, seconds: float = 0.3) -> None:
        """Let the worker run a while (to show that nothing more arrives)."""
        await asyncio.sleep(seconds)


@contextlib.asynccontextmanager
async def receiver() -> AsyncIterator[Receiver]:
    r = Receiver()
    await r.start()
    try:
        yield r
    finally:
        await r.close()


class ClockedWebhook(Webhook):
    """The ``standardwebhooks`` verifier, its 5-minute timestamp tolerance judged by ``clock``
    (the server's fake clock) instead of the wall clock; the signature check is the package's."""

    def __init__(self, secret: str, clock: Clock) -> None:
        super().__init__(secret)
        self._clock = clock

    def _Webhook__verify_timestamp(self, timestamp_header: str) -> datetime:
        now = self._clock.now()
        try:
            ts = datetime.fromtimestamp(float(timestamp_header), tz=UTC)
        except ValueError:
            raise WebhookVerificationError("Invalid Signature Headers") from None
        if abs(ts - now) > timedelta(minutes=5):
            raise WebhookVerificationError("timestamp out of tolerance")
        return ts


def verify(secret: str, clock: Clock, req: Received) -> dict[str, Any]:
    payload = ClockedWebhook(secret, clock).verify(req.body, req.headers)
    assert isinstance(payload, dict)
    return payload


def verifies(secret: str, clock: Clock, req: Received) -> bool:
    try:
        verify(secret, clock, req)
    except WebhookVerificationError:
        return False
    return True


def validate(payload: dict[str, Any]) -> None:
    """Against the published JSON Schema of its type."""
    schema = json.loads((SCHEMAS / f"{payload['type']}.schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(payload, schema, cls=jsonschema.Draft202012Validator)
