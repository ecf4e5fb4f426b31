"""The audit log table: appended to, read back newest first, never updated or deleted."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select

from eyelevel.core.entities import AuditEntry
from eyelevel.core.ids import CompanyId
from eyelevel.storage import schema as t
from eyelevel.storage.rows import Repo


class SqlAudit(Repo):
    async def append(
        self,
        *,
        company_id: CompanyId,
        actor: str,
        action: str,
        target: str,
        data: dict[str, Any],
        now: datetime,
    ) -> None:
        await self._c.execute(
            insert(t.audit_log).values(
                company_id=company_id,
                actor=actor,
                action=action,
                target=target,
                data=data,
                created_at=now,
            )
        )

    async def page(
        self, company_id: CompanyId, *, before_id: int | None, limit: int
    ) -> list[AuditEntry]:
        c = t.audit_log.c
        stmt = select(t.audit_log).where(c.company_id == company_id)
        if before_id is not None:
            stmt = stmt.where(c.id < before_id)
        rows = await self._all(stmt.order_by(c.id.desc()).limit(limit))
        return [
            AuditEntry(
                r.id, CompanyId(r.company_id), r.actor, r.action, r.target, r.data, r.created_at
            )
            for r in rows
        ]
