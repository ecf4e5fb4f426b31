"""PostgreSQL picks a victim when two transactions deadlock: ``Database.write`` runs it again,
so both writes commit and the caller sees only a short delay."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from eyelevel.core.ports import UnitOfWork
from eyelevel.storage import schema
from tests import backends
from tests.harness import start_server


async def test_a_deadlock_victim_runs_again_and_both_writes_commit(
    db_url: str, tmp_path: Path
) -> None:
    if backends.BACKEND != "postgres":
        # not a missing service: SQLite has one writer, two transactions never interleave
        pytest.skip("REQUIRE: PostgreSQL backend (EYELEVEL_TEST_BACKEND=postgres)")
    async with start_server(db_url, tmp_path) as srv:
        acme, bolt = await srv.company("acme", "Acme"), await srv.company("bolt", "Bolt")
        db = srv.runtime.db
        c = schema.companies.c
        first_locked = {"one": asyncio.Event(), "two": asyncio.Event()}
        runs = {"one": 0, "two": 0}

        def write(me: str, other: str, first: int, second: int) -> Any:
            async def txn(uow: UnitOfWork) -> None:
                runs[me] += 1
                conn = uow.companies._c  # type: ignore[attr-defined]
                await conn.execute(
                    update(schema.companies).where(c.id == first).values(description=me)
                )
                if runs[me] == 1:  # the first run of each waits until both hold a row lock
                    first_locked[me].set()
                    await first_locked[other].wait()
                await conn.execute(update(schema.companies).where(c.id == second).values(phone=me))

            return db.write(f"deadlock_{me}", txn)

        await asyncio.wait_for(
            asyncio.gather(
                write("one", "two", acme.id, bolt.id), write("two", "one", bolt.id, acme.id)
            ),
            timeout=15,
        )
        assert sorted(runs.values()) == [1, 2]  # exactly one was the victim and ran again
        async with db.read_engine.connect() as conn:
            rows = (await conn.execute(select(c.id, c.description, c.phone))).all()
        state = {r.id: (r.description, r.phone) for r in rows}
        # both transactions committed whole, whichever was the victim
        assert state == {acme.id: ("one", "two"), bolt.id: ("two", "one")}
