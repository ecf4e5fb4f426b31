"""In-process bus: the default for one process (SQLite, one ``eyelevel serve``)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from eyelevel.core.entities import Event

Handler = Callable[[Sequence[Event], bool], None]


class LocalBus:
    def __init__(self) -> None:
        self._handlers: list[Handler] = []

    def subscribe(self, handler: Handler) -> None:
        self._handlers.append(handler)

    async def publish(self, events: Sequence[Event]) -> None:
        for handler in self._handlers:
            handler(events, False)

    async def publish_ephemeral(self, event: Event) -> None:
        for handler in self._handlers:
            handler([event], True)

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def ping(self) -> bool:
        return True
