"""Bulk loading for ``eyelevel seed``: rows straight into the tables, in large batches.

Not a path of the application: no events, no actions, no per-row checks. It exists to fill a
database for benchmarks and demos quickly (multi-row inserts on SQLite, ``COPY`` on
PostgreSQL). Ids are reserved up front (PostgreSQL: by moving the table's sequence past the
block, so a running server never collides with them; SQLite: after the largest id, so nothing
else may write meanwhile). New messages are added to the SQLite search index in the same
transaction (:func:`eyelevel.storage.search.index_messages_txn`); PostgreSQL's index is a
generated column.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Table, event, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from eyelevel.storage import schema as t
from eyelevel.storage.search import index_messages_txn


class BulkLoader:
    """Inserts batches of rows (dicts keyed by column name) into the schema's tables."""

    def __init__(self, url: str) -> None:
        self.postgres = url.startswith("postgresql")
        self._engine = create_async_engine(url, pool_size=1, max_overflow=0)
        if not self.postgres:

            @event.listens_for(self._engine.sync_engine, "connect")
            def _pragmas(dbapi_conn: Any, _record: Any) -> None:
                cur = dbapi_conn.cursor()
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA synchronous=NORMAL")
                cur.execute("PRAGMA busy_timeout=10000")
                cur.execute("PRAGMA cache_size=-200000")  # 200 MB for the index builds
                cur.close()

    async def close(self) -> None:
        await self._engine.dispose()

    async def reserve_ids(self, table: str, n: int) -> int:
        """The first of ``n`` consecutive ids nobody else will use for ``table``."""
        async with self._engine.begin() as conn:
            tbl = t.metadata.tables[table]
            if self.postgres:
                # lock the table so two reservations never overlap; ``table`` is one of the
                # schema's (looked up above), never input
                await conn.execute(text(f"LOCK TABLE {tbl.name} IN SHARE ROW EXCLUSIVE MODE"))
                sql = (
                    f"SELECT setval(pg_get_serial_sequence('{tbl.name}', 'id'), "  # noqa: S608
                    f"GREATEST((SELECT last_value FROM {tbl.name}_id_seq), "
                    f"(SELECT coalesce(max(id), 0) FROM {tbl.name})) + :n)"
                )
                last = await conn.scalar(text(sql), {"n": n})
                return int(last) - n + 1
            top = await conn.scalar(select(func.coalesce(func.max(tbl.c.id), 0)))
            return int(top or 0) + 1

    async def labels_of(self, company_id: int) -> list[int]:
        async with self._engine.connect() as conn:
            rows = await conn.execute(
                select(t.labels.c.id).where(t.labels.c.company_id == company_id)
            )
            return [int(r[0]) for r in rows]

    async def load(self, batch: Sequence[tuple[str, Sequence[dict[str, Any]]]]) -> None:
        """Insert each table's rows, in order, in one transaction; index new messages."""
        async with self._engine.begin() as conn:
            if self.postgres:  # asyncpg's transaction starts with the first statement
                await conn.execute(text("SELECT 1"))
            for table, rows in batch:
                if rows:
                    await self._insert(conn, t.metadata.tables[table], rows)
            messages = next((rows for table, rows in batch if table == "messages"), None)
            if messages and not self.postgres:
                ids = [int(r["id"]) for r in messages]
                await index_messages_txn(conn, min(ids), max(ids))

    async def _insert(
        self, conn: AsyncConnection, table: Table, rows: Sequence[dict[str, Any]]
    ) -> None:
        if self.postgres:
            await _copy(conn, table, rows)
            return
        await conn.execute(insert(table), list(rows))  # one prepared statement, executemany

    async def analyze(self) -> None:
        """Refresh the planner's statistics after a large load; on PostgreSQL also VACUUM, so
        the visibility map lets counts use index-only scans and no later reader pays for
        setting the new rows' hint bits."""
        if self.postgres:
            async with self._engine.connect() as conn:
                auto = await conn.execution_options(isolation_level="AUTOCOMMIT")
                await auto.execute(text("VACUUM (ANALYZE)"))
            return
        async with self._engine.begin() as conn:
            await conn.execute(text("ANALYZE"))


async def _copy(conn: AsyncConnection, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """PostgreSQL ``COPY`` through asyncpg, with the columns' own bind processing."""
    columns = list(rows[0])
    dialect = conn.dialect
    processors = [table.c[name].type.bind_processor(dialect) for name in columns]
    records = [
        tuple(
            proc(row[name]) if proc is not None else row[name]
            for name, proc in zip(columns, processors, strict=True)
        )
        for row in rows
    ]
    raw = await conn.get_raw_connection()
    driver = raw.driver_connection
    assert driver is not None
    await driver.copy_records_to_table(table.name, records=records, columns=columns)
