"""The Alembic migrations and ``storage/schema.py`` describe the same database."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.ext.asyncio import create_async_engine

from eyelevel.storage.schema import metadata
from eyelevel.storage.search import include_name


def _diff(connection: Any) -> list[Any]:
    # the full-text index (FTS5 tables on SQLite, a generated column and its GIN index on
    # PostgreSQL) exists on one engine each and is not in schema.py: the same filter as env.py
    ctx = MigrationContext.configure(
        connection, opts={"compare_type": True, "include_name": include_name}
    )
    return list(compare_metadata(ctx, metadata))


async def test_migrated_database_matches_schema(db_url: str) -> None:
    engine = create_async_engine(db_url)
    try:
        async with engine.connect() as conn:
            diff = await conn.run_sync(_diff)
    finally:
        await engine.dispose()
    assert diff == []
