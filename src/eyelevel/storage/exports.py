"""The customer's data exports: one row each, the ZIP itself lives in the file store."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update

from eyelevel.core.ids import CompanyId, CustomerId
from eyelevel.core.ports import DataExport
from eyelevel.storage import schema as t
from eyelevel.storage.rows import Repo

_e = t.data_exports.c


def _export_from(r: Any) -> DataExport:
    return DataExport(
        id=int(r.id),
        customer_id=CustomerId(r.customer_id),
        state=r.state,
        storage_key=r.storage_key,
        size=r.size,
        created_at=r.created_at,
        ready_at=r.ready_at,
        expires_at=r.expires_at,
    )


class SqlExports(Repo):
    async def lock_customer(self, customer_id: CustomerId) -> None:
        if self._c.dialect.name == "postgresql":  # SQLite: writes are serialized anyway
            c = t.customers.c
            await self._c.execute(select(c.id).where(c.id == customer_id).with_for_update())

    async def create(self, customer_id: CustomerId, now: datetime) -> DataExport:
        values = {"customer_id": customer_id, "state": "pending", "created_at": now}
        export_id = await self._insert_id(t.data_exports, values)
        return DataExport(export_id, customer_id, "pending", None, None, now, None, None)

    async def get(self, export_id: int) -> DataExport | None:
        r = await self._one(select(t.data_exports).where(_e.id == export_id))
        return _export_from(r) if r else None

    async def of_customer(self, customer_id: CustomerId, limit: int) -> list[DataExport]:
        rows = await self._all(
            select(t.data_exports)
            .where(_e.customer_id == customer_id)
            .order_by(_e.id.desc())
            .limit(limit)
        )
        return [_export_from(r) for r in rows]

    async def count_since(self, customer_id: CustomerId, since: datetime) -> int:
        r = await self._one(
            select(func.count())
            .select_from(t.data_exports)
            .where(_e.customer_id == customer_id, _e.created_at > since)
        )
        return int(r[0]) if r else 0

    async def set_ready(
        self, export_id: int, *, storage_key: str, size: int, now: datetime, expires_at: datetime
    ) -> bool:
        done = await self._c.execute(
            update(t.data_exports)
            .where(_e.id == export_id, _e.state == "pending")
            .values(
                state="ready",
                storage_key=storage_key,
                size=size,
                ready_at=now,
                expires_at=expires_at,
            )
        )
        return bool(done.rowcount)

    async def set_state(self, export_id: int, state: str) -> None:
        await self._c.execute(
            update(t.data_exports).where(_e.id == export_id).values(state=state, storage_key=None)
        )

    async def numbers(self, customer_id: CustomerId) -> dict[CompanyId, str]:
        n = t.customer_numbers.c
        rows = await self._all(select(n.company_id, n.number).where(n.customer_id == customer_id))
        return {CompanyId(r.company_id): str(r.number) for r in rows}
