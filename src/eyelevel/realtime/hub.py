"""The per-process socket hub: one ordered, gap-free event stream, fanned out by audience.

Events arrive from the bus in no guaranteed order and some may never arrive. The hub keeps a
cursor (the highest stream position it has delivered). An event right after the cursor is
delivered at once; anything else makes the hub read every committed event after its cursor from
the database (positions become visible in order, see ``storage.database``), so each socket sees
positions strictly increasing, with nothing left out. A slow poll covers a bus that is silent.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

import structlog

from eyelevel.core.entities import Event
from eyelevel.core.ids import CompanyId, CustomerId, EventPos
from eyelevel.core.principals import AgentPrincipal, CustomerPrincipal, Principal, company_ids
from eyelevel.core.revocation import Revocation, revocation_of
from eyelevel.core.rules.audience import may_receive
from eyelevel.realtime.codec import frame

log = structlog.get_logger("eyelevel.hub")
K = TypeVar("K")

FetchAfter = Callable[[EventPos, int], Awaitable[Sequence[Event]]]
Head = Callable[[], Awaitable[EventPos]]

MAX_BACKLOG = 20_000  # frames queued for one socket before it must resync
FETCH_PAGE = 1_000


@dataclass(eq=False)
class Subscriber:
    """One socket's view of the stream. ``frames`` is drained by the socket's writer."""

    principal: Principal
    session_hash: str | None = None  # the session that opened the socket (None: an API token)
    revoked: bool = False  # the right that opened it ended: the writer closes with 4401
    catching_up: bool = True
    buffer: list[tuple[EventPos, str]] = field(default_factory=list)
    frames: asyncio.Queue[str | None] = field(default_factory=asyncio.Queue)
    overflowed: bool = False
    # the catch-up sent stored events up to here, read from the database, which may be ahead
    # of this hub: the hub's own later delivery of them must not repeat them
    sent_upto: int = 0

    def push(self, pos: EventPos, text: str) -> None:
        if self.overflowed:
            return
        if self.catching_up:
            self.buffer.append((pos, text))
            return
        if 0 < pos <= self.sent_upto:  # ephemeral events have no position (0)
            return
        if self.frames.qsize() >= MAX_BACKLOG:
            self.overflowed = True
            self.frames.put_nowait(None)  # tells the writer to send resync_required and close
            return
        self.frames.put_nowait(text)

    def go_live(self, after: EventPos) -> None:
        """Move buffered live frames past ``after`` into the queue, then stop buffering."""
        for pos, text in self.buffer:
            if pos > after:
                self.frames.put_nowait(text)
        self.buffer.clear()
        self.sent_upto = after
        self.catching_up = False


class Hub:
    def __init__(self, fetch_after: FetchAfter, head: Head, *, poll_seconds: float = 1.0) -> None:
        self._fetch_after = fetch_after
        self._head = head
        self._poll = poll_seconds
        self.cursor = EventPos(0)
        self._inbox: deque[Event] = deque()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._by_customer: dict[CustomerId, set[Subscriber]] = {}
        self._by_company: dict[CompanyId, set[Subscriber]] = {}
        self._all: set[Subscriber] = set()
        self.delivered = 0
        self.lag_seconds = 0.0

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        self.cursor = await self._head()
        self._task = asyncio.create_task(self._run(), name="hub")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    @property
    def sockets(self) -> int:
        subs: set[Subscriber] = set()
        for group in (*self._by_customer.values(), *self._by_company.values()):
            subs |= group
        return len(subs)

    # -- subscribers -----------------------------------------------------------------------

    def attach(self, principal: Principal, session_hash: str | None = None) -> Subscriber:
        sub = Subscriber(principal, session_hash)
        self._all.add(sub)
        if isinstance(principal, CustomerPrincipal):
            self._by_customer.setdefault(principal.customer_id, set()).add(sub)
        for company_id in company_ids(principal):
            self._by_company.setdefault(company_id, set()).add(sub)
        return sub

    def detach(self, sub: Subscriber) -> None:
        self._all.discard(sub)
        if isinstance(sub.principal, CustomerPrincipal):
            _discard(self._by_customer, sub.principal.customer_id, sub)
        for company_id in company_ids(sub.principal):
            _discard(self._by_company, company_id, sub)

    # -- input from the bus ----------------------------------------------------------------

    def on_bus(self, events: Sequence[Event], ephemeral: bool) -> None:
        if ephemeral:
            for event in events:
                revocation = revocation_of(event)
                if revocation is not None:
                    self.revoke(revocation)
                else:
                    self._fan_out(event, live_only=True)
            return
        self._inbox.extend(events)
        self._wake.set()

    def revoke(self, revocation: Revocation) -> int:
        """Close this process's sockets of a deactivated agent or an ended session; they get
        nothing more from here on. Returns how many."""
        matched = [sub for sub in self._all if _matches(sub, revocation)]
        for sub in matched:
            self.detach(sub)
            sub.revoked = True
            sub.frames.put_nowait(None)  # wakes the writer, which closes the socket
        return len(matched)

    # -- the ordered stream ----------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self._poll)
            self._wake.clear()
            try:
                await self._advance()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - keep the hub alive; retry on the next wake
                log.warning("hub_advance_failed", error=type(exc).__name__)
                await asyncio.sleep(0.2)

    async def _advance(self) -> None:
        inbox = sorted(self._inbox, key=lambda e: e.pos)
        self._inbox.clear()
        gap = False
        for event in inbox:
            if event.pos <= self.cursor:
                continue
            if event.pos == self.cursor + 1:
                self._deliver(event)
            else:
                gap = True
                break
        if gap or not inbox:
            # a gap, or a quiet poll: read what the database has after our cursor
            while True:
                batch = await self._fetch_after(self.cursor, FETCH_PAGE)
                for event in batch:
                    if event.pos > self.cursor:
                        self._deliver(event)
                if len(batch) < FETCH_PAGE:
                    break

    def _deliver(self, event: Event) -> None:
        self.cursor = event.pos
        self.lag_seconds = max(0.0, time.time() - event.created_at.timestamp())
        self._fan_out(event, live_only=False)

    def _fan_out(self, event: Event, *, live_only: bool) -> None:
        targets: set[Subscriber] = set()
        if event.customer_id is not None:
            targets |= self._by_customer.get(event.customer_id, set())
        targets |= self._by_company.get(event.company_id, set())
        if not targets:
            return
        text = frame(event)
        for sub in targets:
            if live_only and sub.catching_up:
                continue
            if may_receive(sub.principal, event):
                sub.push(event.pos, text)
                self.delivered += 1


def _matches(sub: Subscriber, revocation: Revocation) -> bool:
    if revocation.session_hash is not None and sub.session_hash == revocation.session_hash:
        return True
    if (
        revocation.customer_id is not None
        and isinstance(sub.principal, CustomerPrincipal)
        and sub.principal.customer_id == revocation.customer_id
    ):
        return True
    return (
        revocation.agent_id is not None
        and isinstance(sub.principal, AgentPrincipal)
        and sub.principal.agent_id == revocation.agent_id
    )


def _discard(index: dict[K, set[Subscriber]], key: K, sub: Subscriber) -> None:
    group = index.get(key)
    if group is not None:
        group.discard(sub)
        if not group:
            del index[key]
