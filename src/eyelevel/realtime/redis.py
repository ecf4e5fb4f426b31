"""Redis pub/sub bus: fan-out across processes and hosts.

Pub/sub is fire-and-forget: a message published while a subscriber reconnects is lost. That is
accepted by design; every hub detects a gap by stream position and reads the missing events
from the database. ``redis`` is imported only when this bus is configured.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable, Sequence
from typing import Any

import structlog

from eyelevel.core.entities import Event
from eyelevel.realtime.codec import event_from_dict, event_to_dict

Handler = Callable[[Sequence[Event], bool], None]
log = structlog.get_logger("eyelevel.bus")
CHANNEL = "eyelevel:events"


class RedisBus:
    def __init__(self, url: str, *, channel: str = CHANNEL) -> None:
        import redis.asyncio as aioredis

        self._redis: Any = aioredis.from_url(url, decode_responses=False)
        self._channel = channel
        self._handlers: list[Handler] = []
        self._task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    def subscribe(self, handler: Handler) -> None:
        self._handlers.append(handler)

    async def publish(self, events: Sequence[Event]) -> None:
        await self._send(False, [event_to_dict(e) for e in events])

    async def publish_ephemeral(self, event: Event) -> None:
        await self._send(True, [event_to_dict(event)])

    async def _send(self, ephemeral: bool, events: list[dict[str, Any]]) -> None:
        body = json.dumps({"e": ephemeral, "events": events}, separators=(",", ":"))
        await self._redis.publish(self._channel, body)

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._listen(), name="redis-bus")
            await asyncio.wait_for(self._ready.wait(), timeout=10)

    async def _listen(self) -> None:
        while True:
            pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(self._channel)
                self._ready.set()
                async for message in pubsub.listen():
                    self._dispatch(message["data"])
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - reconnect; hubs fill gaps from the database
                log.warning("redis_bus_reconnect", error=type(exc).__name__)
                await asyncio.sleep(0.5)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()

    def _dispatch(self, raw: bytes) -> None:
        try:
            msg = json.loads(raw)
            events = [event_from_dict(d) for d in msg["events"]]
            ephemeral = bool(msg["e"])
        except (ValueError, KeyError, TypeError):
            log.warning("redis_bus_bad_message")
            return
        for handler in self._handlers:
            handler(events, ephemeral)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self._redis.aclose()

    async def ping(self) -> bool:
        try:
            return bool(await self._redis.ping())
        except Exception:  # noqa: BLE001 - readiness probe: any failure means not ready
            return False
