"""Which database and bus the suite runs on, and what happens when they are missing.

``EYELEVEL_TEST_BACKEND=sqlite`` (default) or ``postgres`` (PostgreSQL + Redis at
``EYELEVEL_TEST_DATABASE_URL`` / ``EYELEVEL_TEST_REDIS_URL``). With ``CI=true`` an unreachable
service fails the run; elsewhere the PostgreSQL run is skipped with a one-line reason.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from eyelevel.storage.migrate import upgrade
from eyelevel.storage.schema import metadata

BACKEND = os.environ.get("EYELEVEL_TEST_BACKEND", "sqlite")
PG_URL = os.environ.get(
    "EYELEVEL_TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("EYELEVEL_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def requirement_failure(what: str, error: Exception) -> str:
    return (
        f"{what} is required for EYELEVEL_TEST_BACKEND={BACKEND} but unreachable: "
        f"{type(error).__name__}: {error}"
    )


async def _check_postgres(url: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
    finally:
        await engine.dispose()


async def _check_redis(url: str) -> None:
    import redis.asyncio as aioredis

    client = aioredis.from_url(url)
    try:
        await client.ping()
    finally:
        await client.aclose()


def check_services() -> str | None:
    """None when the chosen backend's services answer, else the reason."""
    if BACKEND == "sqlite":
        return None
    try:
        asyncio.run(_check_postgres(PG_URL))
    except Exception as exc:  # noqa: BLE001
        return requirement_failure("PostgreSQL", exc)
    try:
        asyncio.run(_check_redis(REDIS_URL))
    except Exception as exc:  # noqa: BLE001
        return requirement_failure("Redis", exc)
    return None


@dataclass
class TestDatabase:
    """A migrated database for one xdist worker, reset before each test."""

    url: str
    template: Path | None = None  # SQLite: a migrated file copied for each test

    async def fresh(self, directory: Path) -> str:
        if self.template is not None:
            target = directory / "eyelevel.db"
            shutil.copyfile(self.template, target)
            return f"sqlite+aiosqlite:///{target}"
        await _truncate(self.url)
        return self.url


async def _truncate(url: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as conn:
            names = ", ".join(t.name for t in metadata.sorted_tables)
            await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    finally:
        await engine.dispose()


async def _recreate(admin_url: str, name: str) -> None:
    await _drop(admin_url, name)
    engine = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        await engine.dispose()


def prepare(worker: str, workdir: Path) -> TestDatabase:
    if BACKEND == "sqlite":
        template = workdir / f"template-{worker}.db"
        upgrade(f"sqlite+aiosqlite:///{template}")
        return TestDatabase(url="", template=template)
    name = f"eyelevel_test_{worker}_{os.getpid()}"  # unique per process: parallel runs coexist
    asyncio.run(_recreate(PG_URL, name))
    url = PG_URL.rsplit("/", 1)[0] + "/" + name
    upgrade(url)
    return TestDatabase(url=url)


def drop(db: TestDatabase) -> None:
    if db.template is None:
        asyncio.run(_drop(PG_URL, db.url.rsplit("/", 1)[1]))


async def _drop(admin_url: str, name: str) -> None:
    engine = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        await engine.dispose()


def redis_channel() -> str:
    return f"eyelevel:test:{uuid.uuid4().hex}"
