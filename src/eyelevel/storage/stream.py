"""The event stream and the job queue."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from eyelevel.core.entities import (
    Event,
    NewEvent,
)
from eyelevel.core.ids import (
    CompanyId,
    CustomerId,
    EventPos,
)
from eyelevel.core.ports import Job
from eyelevel.storage import schema as t
from eyelevel.storage.rows import (
    Repo,
    event_from,
)

# Any constant works: all event-writing transactions take this lock right before appending to
# the stream and hold it to commit, so stream positions become visible in order (see database).
_STREAM_LOCK = 0x6579656C


_events_after = (
    select(t.events)
    .where(t.events.c.pos > bindparam("p_pos"))
    .order_by(t.events.c.pos)
    .limit(bindparam("p_limit"))
)


class SqlEvents(Repo):
    def __init__(self, conn: AsyncConnection, postgres: bool) -> None:
        super().__init__(conn)
        self._postgres = postgres
        self._locked = False

    async def append(self, event: NewEvent, now: datetime) -> Event:
        if self._postgres and not self._locked:
            await self._c.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _STREAM_LOCK})
            self._locked = True
        pos = await self._insert_id(
            t.events,
            {
                "company_id": event.company_id,
                "type": event.type,
                "conversation_id": event.conversation_id,
                "customer_id": event.customer_id,
                "payload": event.data,
                "created_at": now,
            },
        )
        return Event(
            EventPos(pos),
            event.type,
            event.company_id,
            event.conversation_id,
            event.customer_id,
            event.data,
            now,
        )

    async def since(
        self,
        pos: EventPos,
        *,
        company_ids: frozenset[CompanyId],
        customer_id: CustomerId | None,
        limit: int,
    ) -> list[Event]:
        c = t.events.c
        scope: list[ColumnElement[bool]] = []
        if company_ids:
            scope.append(c.company_id.in_(sorted(company_ids)))
        if customer_id is not None:
            scope.append(c.customer_id == customer_id)
        if not scope:
            return []
        rows = await self._all(
            select(t.events).where(c.pos > pos, or_(*scope)).order_by(c.pos).limit(limit)
        )
        return [event_from(r) for r in rows]

    async def after(self, pos: EventPos, limit: int) -> list[Event]:
        rows = (await self._c.execute(_events_after, {"p_pos": pos, "p_limit": limit})).all()
        return [event_from(r) for r in rows]

    async def head(self) -> EventPos:
        r = await self._one(select(func.max(t.events.c.pos)))
        return EventPos(int(r[0]) if r and r[0] is not None else 0)


class SqlJobs(Repo):
    async def enqueue(self, kind: str, payload: dict[str, Any], run_at: datetime) -> None:
        await self._c.execute(
            insert(t.jobs).values(
                kind=kind, payload=payload, run_at=run_at, attempts=0, created_at=run_at
            )
        )

    async def claim(self, now: datetime, lease_until: datetime, limit: int) -> list[Job]:
        c = t.jobs.c
        stmt = (
            select(t.jobs)
            .where(c.run_at <= now, or_(c.locked_until.is_(None), c.locked_until < now))
            .order_by(c.run_at, c.id)
            .limit(limit)
        )
        if self._c.dialect.name == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        rows = await self._all(stmt)
        if not rows:
            return []
        ids = [r.id for r in rows]
        await self._c.execute(
            update(t.jobs)
            .where(c.id.in_(ids))
            .values(locked_until=lease_until, attempts=c.attempts + 1)
        )
        return [Job(r.id, r.kind, r.payload, r.attempts + 1) for r in rows]

    async def complete(self, job_id: int) -> None:
        await self._c.execute(delete(t.jobs).where(t.jobs.c.id == job_id))

    async def retry(self, job_id: int, run_at: datetime, error_code: str) -> None:
        await self._c.execute(
            update(t.jobs)
            .where(t.jobs.c.id == job_id)
            .values(run_at=run_at, locked_until=None, last_error=error_code[:60])
        )
