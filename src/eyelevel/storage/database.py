"""Engines and transactions.

SQLite has one writer at a time, so all writes of a process go through one connection and one
writer task that *group-commits*: it takes every write waiting in its queue, runs each inside
its own SAVEPOINT of one ``BEGIN IMMEDIATE`` transaction and commits them together. A failing
write rolls back only its savepoint. Callers still get their result only after the commit.
Reads use a small pool of separate connections (WAL lets them run beside the writer).

PostgreSQL runs each write in its own transaction from the pool. Transactions that append to
the event stream take one advisory lock just before the append and hold it to commit, so
stream positions become visible in increasing order; a reader that has seen position ``p``
has seen every committed position below it. The fan-out relies on that.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import structlog
from sqlalchemy import event as sa_event
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, create_async_engine

from eyelevel.core.entities import Event
from eyelevel.core.errors import DomainError, ErrorCode
from eyelevel.core.ports import EventBus, UnitOfWork
from eyelevel.storage.uow import SqlUnitOfWork

T = TypeVar("T")
log = structlog.get_logger("eyelevel.storage")

MAX_GROUP = 256


@dataclass
class _Write:
    name: str
    fn: Callable[[UnitOfWork], Awaitable[Any]]
    future: asyncio.Future[Any]
    emitted: list[Event] = field(default_factory=list)
    result: Any = None


def _sqlite_pragmas(engine: AsyncEngine, *, writer: bool) -> None:
    @sa_event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the driver, decide when transactions begin.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")  # durable across process crashes in WAL mode
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=10000")
        if not writer:
            cur.execute("PRAGMA query_only=ON")
        cur.close()

    @sa_event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if writer else "BEGIN")


class SqlDatabase:
    """Implements :class:`eyelevel.core.ports.Database` on SQLite or PostgreSQL."""

    def __init__(self, url: str, bus: EventBus, *, pool_size: int = 10) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self.is_postgres = url.startswith("postgresql")
        self._bus = bus
        if self.is_sqlite:
            self.write_engine = create_async_engine(url, pool_size=1, max_overflow=0)
            self.read_engine = create_async_engine(url, pool_size=4, max_overflow=4)
            _sqlite_pragmas(self.write_engine, writer=True)
            _sqlite_pragmas(self.read_engine, writer=False)
        else:
            self.write_engine = create_async_engine(
                url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True
            )
            self.read_engine = self.write_engine
        self._queue: asyncio.Queue[_Write] = asyncio.Queue()
        self._writer: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self.is_sqlite and self._writer is None:
            self._writer = asyncio.create_task(self._write_loop(), name="sqlite-writer")

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer
            self._writer = None
        while not self._queue.empty():  # writes that never ran: their callers must not hang
            w = self._queue.get_nowait()
            if not w.future.done():
                w.future.set_exception(DomainError(ErrorCode.UNAVAILABLE, "shutting down"))
        await self.write_engine.dispose()
        if self.read_engine is not self.write_engine:
            await self.read_engine.dispose()

    async def ping(self) -> bool:
        try:
            async with self.read_engine.connect() as conn:
                await conn.execute(text("SELECT 1"))
            return True
        except (OSError, DBAPIError):
            return False

    async def read(self, fn: Callable[[UnitOfWork], Awaitable[T]]) -> T:
        async with self.read_engine.connect() as conn:
            try:
                return await fn(SqlUnitOfWork(conn, postgres=self.is_postgres, writable=False))
            finally:
                await conn.rollback()

    async def write(self, name: str, fn: Callable[[UnitOfWork], Awaitable[T]]) -> T:
        if self.is_sqlite:
            if self._writer is None:
                await self.start()
            future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
            self._queue.put_nowait(_Write(name, fn, future))
            return await future
        async with self.write_engine.connect() as conn:
            uow = SqlUnitOfWork(conn, postgres=self.is_postgres, writable=True)
            async with conn.begin():
                result = await _run(fn, uow)
        if uow.emitted:
            await self._publish(uow.emitted)
        return result

    async def _publish(self, events: list[Event]) -> None:
        try:
            await self._bus.publish(events)
        except Exception:  # noqa: BLE001 - the database is the record; subscribers catch up
            log.warning("publish_failed", events=len(events))

    async def _write_loop(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while len(batch) < MAX_GROUP and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            live = [w for w in batch if not w.future.cancelled()]
            if not live:
                continue
            try:
                async with self.write_engine.connect() as conn:
                    await self._group_commit(conn, live)
            except asyncio.CancelledError:
                for w in live:
                    if not w.future.done():
                        w.future.set_exception(DomainError(ErrorCode.UNAVAILABLE, "shutting down"))
                raise
            except Exception as exc:  # noqa: BLE001 - the commit itself failed: all of them did
                log.error("group_commit_failed", size=len(live), error=type(exc).__name__)
                for w in live:
                    if not w.future.done():
                        w.future.set_exception(
                            DomainError(ErrorCode.UNAVAILABLE, "not saved, please retry")
                        )
                continue
            events: list[Event] = []
            for w in live:
                events.extend(w.emitted)
            if events:
                await self._publish(events)
            for w in live:
                if not w.future.done():
                    w.future.set_result(w.result)

    async def _group_commit(self, conn: AsyncConnection, batch: list[_Write]) -> None:
        await conn.begin()
        single = len(batch) == 1
        for w in batch:
            uow = SqlUnitOfWork(conn, postgres=False, writable=True)
            if single:
                try:
                    w.result = await _run(w.fn, uow)
                except BaseException as exc:
                    await conn.rollback()
                    if not w.future.done():
                        w.future.set_exception(exc)
                    if not isinstance(exc, Exception):
                        raise
                    return
                w.emitted = uow.emitted
                continue
            savepoint = await conn.begin_nested()
            try:
                w.result = await _run(w.fn, uow)
            except Exception as exc:  # noqa: BLE001 - handed to the caller of write()
                await savepoint.rollback()
                if not w.future.done():
                    w.future.set_exception(exc)
                continue
            await savepoint.commit()
            w.emitted = uow.emitted
        await conn.commit()


async def _run(fn: Callable[[UnitOfWork], Awaitable[T]], uow: SqlUnitOfWork) -> T:
    try:
        return await fn(uow)
    except IntegrityError:
        raise DomainError(ErrorCode.CONFLICT, "this conflicts with existing data") from None
    except OperationalError as exc:
        if "locked" in str(exc.orig):
            raise DomainError(ErrorCode.UNAVAILABLE, "the database is busy, try again") from None
        raise
