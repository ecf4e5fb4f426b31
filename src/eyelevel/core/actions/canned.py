"""Canned responses: company-wide ones kept by admins, personal ones kept by each agent.

An agent's personal responses are that agent's alone: colleagues (admins included) neither see
nor change them, and asking for one reads exactly like asking for one that does not exist.
Only company-wide changes are admin changes, so only those are written to the audit log.
"""

from __future__ import annotations

import re

from eyelevel.core.actions.access import access_company_txn
from eyelevel.core.actions.audit import audit_txn
from eyelevel.core.actions.messages import check_body
from eyelevel.core.entities import CannedResponse, Company, Role
from eyelevel.core.errors import DomainError, ErrorCode, not_found
from eyelevel.core.ids import AgentId, CannedResponseId
from eyelevel.core.ports import Context, UnitOfWork
from eyelevel.core.principals import AgentPrincipal, Principal, role_in
from eyelevel.core.rules.roles import at_least

MAX_SHORTCUT = 50
_SHORTCUT = re.compile(rf"^[a-z0-9_-]{{1,{MAX_SHORTCUT}}}$")


def check_shortcut(shortcut: str) -> str:
    if not _SHORTCUT.fullmatch(shortcut):
        raise DomainError(
            ErrorCode.VALIDATION,
            f"shortcut must be 1-{MAX_SHORTCUT} of a-z, 0-9, _ and -",
            field="shortcut",
        )
    return shortcut


def _agent_id(principal: Principal) -> AgentId | None:
    return principal.agent_id if isinstance(principal, AgentPrincipal) else None


def _require_admin(principal: Principal, company: Company) -> None:
    if not at_least(role_in(principal, company.id), Role.ADMIN):
        raise DomainError(ErrorCode.FORBIDDEN, "company-wide canned responses are kept by admins")


async def _access_canned_txn(
    uow: UnitOfWork, principal: Principal, company: Company, canned_id: CannedResponseId
) -> CannedResponse:
    """The response, if the principal may change it: its own personal one, or (admins) a
    company-wide one. Another agent's personal one is reported as missing."""
    canned = await uow.canned.get(company.id, canned_id)
    if canned is None or (canned.agent_id is not None and canned.agent_id != _agent_id(principal)):
        raise not_found("canned response")
    if canned.agent_id is None:
        _require_admin(principal, company)
    return canned


async def list_canned(ctx: Context, principal: Principal, slug: str) -> list[CannedResponse]:
    """Company-wide responses and the caller's own personal ones, by shortcut."""

    async def read(uow: UnitOfWork) -> list[CannedResponse]:
        company = await access_company_txn(uow, principal, slug, Role.AGENT)
        return await uow.canned.visible_to(company.id, _agent_id(principal))

    return await ctx.db.read(read)


async def check_create_canned(
    ctx: Context,
    principal: Principal,
    slug: str,
    *,
    shortcut: str,
    body: str,
    personal: bool,
) -> CannedResponse:
    check_shortcut(shortcut)
    check_body(body)
    owner = _agent_id(principal) if personal else None

    async def txn(uow: UnitOfWork) -> CannedResponse:
        company = await access_company_txn(uow, principal, slug, Role.AGENT)
        if personal and owner is None:
            raise DomainError(ErrorCode.FORBIDDEN, "personal canned responses belong to an agent")
        if not personal:
            _require_admin(principal, company)
        now = ctx.clock.now()
        canned = await uow.canned.create(
            company_id=company.id, agent_id=owner, shortcut=shortcut, body=body, now=now
        )
        if not personal:
            await audit_txn(
                uow,
                principal,
                company.id,
                "canned_response.created",
                target=f"canned_response:{canned.id}",
                data={"shortcut": shortcut},
                now=now,
            )
        return canned

    return await ctx.db.write("create_canned", txn)


async def check_update_canned(
    ctx: Context,
    principal: Principal,
    slug: str,
    canned_id: CannedResponseId,
    *,
    shortcut: str | None = None,
    body: str | None = None,
) -> CannedResponse:
    if shortcut is not None:
        check_shortcut(shortcut)
    if body is not None:
        check_body(body)

    async def txn(uow: UnitOfWork) -> CannedResponse:
        company = await access_company_txn(uow, principal, slug, Role.AGENT)
        canned = await _access_canned_txn(uow, principal, company, canned_id)
        new_shortcut = canned.shortcut if shortcut is None else shortcut
        new_body = canned.body if body is None else body
        changed = [
            f
            for f, old, new in (
                ("shortcut", canned.shortcut, new_shortcut),
                ("body", canned.body, new_body),
            )
            if old != new
        ]
        if not changed:
            return canned
        now = ctx.clock.now()
        await uow.canned.update(
            company.id, canned.id, shortcut=new_shortcut, body=new_body, now=now
        )
        if canned.agent_id is None:
            await audit_txn(
                uow,
                principal,
                company.id,
                "canned_response.updated",
                target=f"canned_response:{canned.id}",
                data={"fields": changed, "shortcut": new_shortcut},
                now=now,
            )
        updated = await uow.canned.get(company.id, canned.id)
        assert updated is not None
        return updated

    return await ctx.db.write("update_canned", txn)


async def check_delete_canned(
    ctx: Context, principal: Principal, slug: str, canned_id: CannedResponseId
) -> None:
    async def txn(uow: UnitOfWork) -> None:
        company = await access_company_txn(uow, principal, slug, Role.AGENT)
        canned = await _access_canned_txn(uow, principal, company, canned_id)
        await uow.canned.delete(company.id, canned.id)
        if canned.agent_id is None:
            await audit_txn(
                uow,
                principal,
                company.id,
                "canned_response.deleted",
                target=f"canned_response:{canned.id}",
                data={"shortcut": canned.shortcut},
                now=ctx.clock.now(),
            )

    await ctx.db.write("delete_canned", txn)
