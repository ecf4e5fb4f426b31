"""An admin changes an agent's role in the company, or deactivates and reactivates them.

Deactivation ends what the agent holds: without another active membership its sessions are
deleted (the cookie stops working at once), and its open sockets close on every process; its
open conversations in the company go back to their team queue or to *Unassigned*. A company
always keeps an active admin.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from eyelevel.core.actions.access import access_company_txn
from eyelevel.core.actions.audit import audit_txn
from eyelevel.core.entities import Agent, Membership, Role
from eyelevel.core.errors import DomainError, ErrorCode, not_found
from eyelevel.core.events import assigned
from eyelevel.core.ids import AgentId, CompanyId
from eyelevel.core.ports import Context, UnitOfWork
from eyelevel.core.principals import Principal
from eyelevel.core.revocation import Revocation, revocation_event


@dataclass(frozen=True, slots=True)
class MemberChange:
    agent: Agent
    membership: Membership  # as it is now
    deactivated: bool
    sessions_ended: int


async def check_update_member(
    ctx: Context,
    principal: Principal,
    *,
    company_slug: str,
    agent_id: AgentId,
    role: Role | None,
    active: bool | None,
) -> MemberChange:
    if role is None and active is None:
        raise DomainError(ErrorCode.VALIDATION, "send role, active or both")

    async def txn(uow: UnitOfWork) -> MemberChange:
        company = await access_company_txn(uow, principal, company_slug, Role.ADMIN)
        before = await uow.accounts.get_membership(company.id, agent_id)
        agent = await uow.accounts.get_agent(agent_id)
        if before is None or agent is None:
            raise not_found("agent")
        after = Membership(
            company.id,
            agent_id,
            role if role is not None else before.role,
            active if active is not None else before.active,
        )
        if after == before:
            return MemberChange(agent, before, deactivated=False, sessions_ended=0)
        was_admin = before.role == Role.ADMIN and before.active and agent.active
        if was_admin and not (after.role == Role.ADMIN and after.active):
            others = [a for a in await uow.security.active_admins(company.id) if a != agent_id]
            if not others:
                raise DomainError(
                    ErrorCode.LAST_ADMIN, "the company needs an active admin: appoint another first"
                )
        await uow.security.set_membership(
            company.id, agent_id, role=after.role, active=after.active
        )
        now = ctx.clock.now()
        target = f"agent:{agent_id}"
        if after.role != before.role:
            await audit_txn(
                uow,
                principal,
                company.id,
                "agent.role_changed",
                target=target,
                data={"from": before.role.value, "to": after.role.value},
                now=now,
            )
        ended = 0
        if before.active and not after.active:
            still_member = any(
                m.active and m.company_id != company.id
                for m in await uow.accounts.memberships_of(agent_id)
            )
            if not still_member:
                ended = await uow.security.end_sessions("agent", agent_id)
            await _release_txn(uow, company.id, agent_id, now)
            await audit_txn(
                uow,
                principal,
                company.id,
                "agent.deactivated",
                target=target,
                data={"sessions_ended": ended},
                now=now,
            )
        elif after.active and not before.active:
            await audit_txn(uow, principal, company.id, "agent.reactivated", target=target, now=now)
        deactivated = before.active and not after.active
        return MemberChange(agent, after, deactivated=deactivated, sessions_ended=ended)

    change = await ctx.db.write("update_member", txn)
    if change.deactivated:
        # every socket of the agent: those of other companies reconnect with the roles left
        await ctx.bus.publish_ephemeral(
            revocation_event(Revocation(agent_id=agent_id), ctx.clock.now())
        )
    return change


async def _release_txn(
    uow: UnitOfWork, company_id: CompanyId, agent_id: AgentId, now: datetime
) -> None:
    """Every open conversation has an owner who can work on it: a deactivated agent's go back
    to their team queue (or to nobody, so they show in *Unassigned*); resolved ones keep the
    agent as the one who handled them."""
    for conversation in await uow.conversations.open_owned_by(company_id, agent_id):
        team_id = conversation.owner_team_id
        await uow.conversations.set_owner(conversation.id, None, team_id, now)
        owner = None if team_id is None else {"type": "team", "id": team_id}
        previous = {"type": "agent", "id": agent_id}
        await uow.emit(assigned(company_id, conversation.id, owner, previous), now)
