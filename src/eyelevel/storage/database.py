"""Engines and transactions.

SQLite has one writer at a time, so all writes of a process go through one connection and one
writer task that *group-commits*: it takes every write waiting in its queue, runs each inside
its own SAVEPOINT of one ``BEGIN IMMEDIATE`` transaction and commits them together. A failing
write rolls back only its savepoint. Callers still get their result only after the commit.
Reads use a small pool of separate connections (WAL lets them run beside the writer).

The whole group commit runs in one hop on a dedicated writer thread with the synchronous
``sqlite3`` driver: the units of work only await database calls, which there complete at once,
so each coroutine runs to its end in a single step (``_drive``). Through the async driver every
statement was a round trip between the event loop and the driver's thread (about seven per
message), and under load each waited for the busy loop and the GIL; that capped one process
at a few hundred messages per second.

PostgreSQL runs each write in its own transaction from the pool; one that PostgreSQL rolls
back as a deadlock's or a serialization conflict's victim runs again (up to three times), so
callers see such a conflict only as a short delay. Transactions that append to
the event stream take one advisory lock just before the append and hold it to commit, so
stream positions become visible in increasing order; a reader that has seen position ``p``
has seen every committed position below it. The fan-out relies on that.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Awaitable, Callable, Coroutine, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, TypeVar

import structlog
from sqlalchemy import Connection, Engine, Row, create_engine, text
from sqlalchemy import event as sa_event
from sqlalchemy.exc import (
    DBAPIError,
    IntegrityError,
    MultipleResultsFound,
    NoResultFound,
    OperationalError,
)
from sqlalchemy.ext.asyncio import create_async_engine

from eyelevel.core.entities import Event
from eyelevel.core.errors import DomainError, ErrorCode
from eyelevel.core.ports import EventBus, UnitOfWork
from eyelevel.storage.uow import SqlUnitOfWork

T = TypeVar("T")
log = structlog.get_logger("eyelevel.storage")

MAX_GROUP = 256
RETRIES = 3  # PostgreSQL: runs again of a transaction that lost a deadlock or serialization
RETRY_SQLSTATES = frozenset({"40P01", "40001"})  # deadlock detected, serialization failure


@dataclass
class _Write:
    name: str
    fn: Callable[[UnitOfWork], Awaitable[Any]]
    future: asyncio.Future[Any]
    emitted: list[Event] = field(default_factory=list)
    result: Any = None
    error: BaseException | None = None  # set on the writer thread, handed over on the loop


def _sqlite_pragmas(engine: Engine, *, writer: bool) -> None:
    @sa_event.listens_for(engine, "connect")
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

    @sa_event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if writer else "BEGIN")


class SqlDatabase:
    """Implements :class:`eyelevel.core.ports.Database` on SQLite or PostgreSQL."""

    def __init__(self, url: str, bus: EventBus, *, pool_size: int = 10) -> None:
        self.url = url
        self.is_sqlite = url.startswith("sqlite")
        self.is_postgres = url.startswith("postgresql")
        self._bus = bus
        self._sqlite_writer: Engine | None = None
        self._thread: ThreadPoolExecutor | None = None
        self._wconn: Connection | None = None  # used on the writer thread only
        if self.is_sqlite:
            # the writer: the synchronous driver on one dedicated thread (see the module doc)
            self._sqlite_writer = create_engine(
                url.replace("+aiosqlite", "+pysqlite", 1), pool_size=1, max_overflow=0
            )
            self.read_engine = create_async_engine(url, pool_size=4, max_overflow=4)
            self.write_engine = self.read_engine  # SQLite writes never use an async engine
            _sqlite_pragmas(self._sqlite_writer, writer=True)
            _sqlite_pragmas(self.read_engine.sync_engine, writer=False)
        else:
            self.write_engine = create_async_engine(
                url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True
            )
            self.read_engine = self.write_engine
        self._queue: asyncio.Queue[_Write] = asyncio.Queue()
        self._writer: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self.is_sqlite and self._writer is None:
            if self._thread is None:
                self._thread = ThreadPoolExecutor(1, thread_name_prefix="sqlite-writer")
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
        if self._thread is not None:
            await asyncio.get_running_loop().run_in_executor(self._thread, self._close_writer)
            self._thread.shutdown(wait=True)
            self._thread = None
        await self.write_engine.dispose()
        if self.read_engine is not self.write_engine:
            await self.read_engine.dispose()

    def _close_writer(self) -> None:  # on the writer thread
        if self._wconn is not None:
            self._wconn.close()
            self._wconn = None
        if self._sqlite_writer is not None:
            self._sqlite_writer.dispose()  # a later start() reconnects

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
        for attempt in range(1, RETRIES + 2):
            try:
                async with self.write_engine.connect() as conn:
                    uow = SqlUnitOfWork(conn, postgres=self.is_postgres, writable=True)
                    async with conn.begin():
                        result = await _run(fn, uow)
                break
            except DBAPIError as exc:
                # PostgreSQL chose this transaction as a deadlock's (or a serialization
                # conflict's) victim and rolled it back whole: run it again, a few times
                code = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
                if code not in RETRY_SQLSTATES:
                    raise
                if attempt > RETRIES:
                    raise DomainError(ErrorCode.UNAVAILABLE, "not saved, please retry") from None
                log.warning("write_retried", txn=name, sqlstate=code, attempt=attempt)
                await asyncio.sleep(random.uniform(0.005, 0.02) * attempt)
        if uow.emitted:
            await self._publish(uow.emitted)
        return result

    async def _publish(self, events: list[Event]) -> None:
        try:
            await self._bus.publish(events)
        except Exception:  # noqa: BLE001 - the database is the record; subscribers catch up
            log.warning("publish_failed", events=len(events))

    async def _write_loop(self) -> None:
        assert self._thread is not None
        loop = asyncio.get_running_loop()
        while True:
            batch = [await self._queue.get()]
            while len(batch) < MAX_GROUP and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            live = [w for w in batch if not w.future.cancelled()]
            if not live:
                continue
            job = loop.run_in_executor(self._thread, self._group_commit, live)
            try:
                await asyncio.shield(job)
            except asyncio.CancelledError:
                # shutting down: the thread finishes (or fails) this commit regardless, so wait
                # for it and tell each caller the truth before stopping
                with contextlib.suppress(BaseException):
                    await job
                await self._settle(live, job)
                raise
            await self._settle(live, job)

    async def _settle(self, live: list[_Write], job: asyncio.Future[None]) -> None:
        """After the writer thread: publish what was committed, then answer every caller."""
        exc = job.exception() if job.done() and not job.cancelled() else None
        if not job.done() or job.cancelled() or exc is not None:
            # the commit itself failed (or never ran): none of the writes was saved
            if exc is not None:
                log.error("group_commit_failed", size=len(live), error=type(exc).__name__)
            for w in live:
                if not w.future.done():
                    w.future.set_exception(
                        DomainError(ErrorCode.UNAVAILABLE, "not saved, please retry")
                    )
            return
        events: list[Event] = []
        for w in live:
            if w.error is None:
                events.extend(w.emitted)
        if events:
            await self._publish(events)
        for w in live:
            if w.future.done():
                continue
            if w.error is not None:
                w.future.set_exception(w.error)
            else:
                w.future.set_result(w.result)

    def _group_commit(self, batch: list[_Write]) -> None:
        """On the writer thread: one transaction, a savepoint per write, one commit.

        A write's own failure is kept on it (``error``); an exception out of here means the
        transaction as a whole was not committed.
        """
        assert self._sqlite_writer is not None
        if self._wconn is None:
            self._wconn = self._sqlite_writer.connect()
        conn = self._wconn
        try:
            conn.begin()
            single = len(batch) == 1
            raw = conn.connection.driver_connection
            assert raw is not None
            for w in batch:
                sync = _SyncConnection(conn)
                uow = SqlUnitOfWork(sync, postgres=False, writable=True)  # type: ignore[arg-type]
                if single:
                    try:
                        w.result = _drive(_run(w.fn, uow))
                    except Exception as exc:  # noqa: BLE001 - handed to the caller of write()
                        conn.rollback()
                        w.error = exc
                        return
                    w.emitted = uow.emitted
                    continue
                # plain SAVEPOINT statements on the driver's connection: SQLAlchemy's nested
                # transactions compile two clauses per write, a fifth of the writer's time
                raw.execute("SAVEPOINT w")
                try:
                    w.result = _drive(_run(w.fn, uow))
                except Exception as exc:  # noqa: BLE001 - handed to the caller of write()
                    raw.execute("ROLLBACK TO w")
                    raw.execute("RELEASE w")
                    w.error = exc
                    continue
                raw.execute("RELEASE w")
                w.emitted = uow.emitted
            conn.commit()
        except BaseException:
            # the connection may be unusable now: start the next batch on a fresh one
            with contextlib.suppress(Exception):
                conn.rollback()
            with contextlib.suppress(Exception):
                conn.close()
            self._wconn = None
            raise


class _SyncConnection:
    """The writer thread's connection behind the ``AsyncConnection`` surface the repositories use.

    ``execute`` runs the statement at once and never suspends; rows are read out immediately,
    as the async driver does, so no statement is left open across a savepoint or the commit.
    """

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self.dialect = conn.dialect

    async def execute(self, statement: Any, parameters: Any = None) -> Any:
        result = self._conn.execute(statement, parameters)
        if result.returns_rows:
            return _Rows(result.all())
        return result


class _Rows:
    """A result read to its end: the parts of ``Result`` the repositories use (and a few more).

    Cheaper than ``Result.freeze()``, which rebuilds the column metadata on every call.
    """

    __slots__ = ("_rows",)

    def __init__(self, rows: Sequence[Row[Any]]) -> None:
        self._rows = rows

    rowcount = -1  # like a SELECT's cursor

    def __iter__(self) -> Iterator[Row[Any]]:
        return iter(self._rows)

    def all(self) -> Sequence[Row[Any]]:
        return self._rows

    def first(self) -> Row[Any] | None:
        return self._rows[0] if self._rows else None

    def one_or_none(self) -> Row[Any] | None:
        if len(self._rows) > 1:
            raise MultipleResultsFound("Multiple rows were found when one or none was required")
        return self.first()

    def one(self) -> Row[Any]:
        if not self._rows:
            raise NoResultFound("No row was found when one was required")
        if len(self._rows) > 1:
            raise MultipleResultsFound("Multiple rows were found when exactly one was required")
        return self._rows[0]

    def scalar(self) -> Any:
        return self._rows[0][0] if self._rows else None

    def scalar_one(self) -> Any:
        return self.one()[0]

    def scalar_one_or_none(self) -> Any:
        row = self.one_or_none()
        return None if row is None else row[0]

    def scalars(self) -> _Rows:
        return _Rows([row[0] for row in self._rows])


def _drive(coro: Coroutine[Any, Any, T]) -> T:
    """Run a unit of work whose awaits all complete at once (see ``_SyncConnection``)."""
    try:
        step = coro.send(None)
    except StopIteration as done:
        return done.value  # type: ignore[no-any-return]
    coro.close()
    raise RuntimeError(f"a write transaction awaited {step!r}; it may only await the database")


async def _run(fn: Callable[[UnitOfWork], Awaitable[T]], uow: SqlUnitOfWork) -> T:
    try:
        return await fn(uow)
    except IntegrityError:
        raise DomainError(ErrorCode.CONFLICT, "this conflicts with existing data") from None
    except OperationalError as exc:
        if "locked" in str(exc.orig):
            raise DomainError(ErrorCode.UNAVAILABLE, "the database is busy, try again") from None
        raise
