"""The audit log: every admin change, appended in the transaction that makes it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from eyelevel.core.actions.access import access_company_txn
from eyelevel.core.entities import AuditEntry, Role
from eyelevel.core.ids import CompanyId
from eyelevel.core.ports import Context, UnitOfWork
from eyelevel.core.principals import AgentPrincipal, Principal, TokenPrincipal

MAX_PAGE = 200


def actor_of(principal: Principal | None) -> str:
    match principal:
        case AgentPrincipal(agent_id=agent_id):
            return f"agent:{agent_id}"
        case TokenPrincipal(token_id=token_id):
            return f"token:{token_id}"
        case _:
            return "operator"


async def audit_txn(
    uow: UnitOfWork,
    principal: Principal | None,
    company_id: CompanyId,
    action: str,
    *,
    target: str = "",
    data: dict[str, Any] | None = None,
    now: datetime,
) -> None:
    """Append one entry; call it inside the admin action's own transaction (no change without
    its entry, no entry without its change). ``principal`` None: the operator's CLI."""
    await uow.audit.append(
        company_id=company_id,
        actor=actor_of(principal),
        action=action,
        target=target,
        data=data or {},
        now=now,
    )


async def list_audit(
    ctx: Context, principal: Principal, slug: str, *, before_id: int | None, limit: int
) -> list[AuditEntry]:
    """Newest first; admins only."""

    async def read(uow: UnitOfWork) -> list[AuditEntry]:
        company = await access_company_txn(uow, principal, slug, Role.ADMIN)
        return await uow.audit.page(company.id, before_id=before_id, limit=min(limit, MAX_PAGE))

    return await ctx.db.read(read)
