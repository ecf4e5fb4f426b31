"""A principal's own sign-in sessions: listed, and ended one by one (sockets included).

A session is named to its owner by a short public id derived from the stored hash of its
token: the list never shows anything that would let someone use the session.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from eyelevel.core import secrets
from eyelevel.core.errors import DomainError, ErrorCode, not_found
from eyelevel.core.ports import Context, SessionInfo, UnitOfWork
from eyelevel.core.principals import AgentPrincipal, CustomerPrincipal, Principal
from eyelevel.core.revocation import Revocation, revocation_event

PUBLIC_ID_CHARS = 16


@dataclass(frozen=True, slots=True)
class SessionView:
    id: str
    created_at: datetime
    expires_at: datetime
    user_agent: str
    current: bool


def public_session_id(id_hash: str) -> str:
    return secrets.token_hash(f"session:{id_hash}")[:PUBLIC_ID_CHARS]


def session_owner(principal: Principal) -> tuple[str, int]:
    """(kind, principal id) of the sessions a principal owns; API tokens have none."""
    match principal:
        case AgentPrincipal(agent_id=agent_id):
            return "agent", agent_id
        case CustomerPrincipal(customer_id=customer_id):
            return "customer", customer_id
        case _:
            raise DomainError(ErrorCode.FORBIDDEN, "an API token has no sessions")


async def list_sessions(
    ctx: Context, principal: Principal, current_token: str | None
) -> list[SessionView]:
    """The caller's unexpired sessions, newest first; ``current`` marks the one in use."""
    kind, owner = session_owner(principal)
    current = secrets.token_hash(current_token) if current_token else None

    async def read(uow: UnitOfWork) -> list[SessionInfo]:
        return await uow.security.sessions_of(kind, owner, ctx.clock.now())

    return [
        SessionView(
            id=public_session_id(s.id_hash),
            created_at=s.created_at,
            expires_at=s.expires_at,
            user_agent=s.user_agent,
            current=s.id_hash == current,
        )
        for s in await ctx.db.read(read)
    ]


async def check_end_session(ctx: Context, principal: Principal, session_id: str) -> None:
    """End one of the caller's own sessions; its open sockets close on every process. Another
    principal's session is reported as missing."""
    kind, owner = session_owner(principal)

    async def txn(uow: UnitOfWork) -> str:
        for s in await uow.security.sessions_of(kind, owner, ctx.clock.now()):
            if secrets.same(public_session_id(s.id_hash), session_id):
                await uow.sessions.delete(s.id_hash)
                return s.id_hash
        raise not_found("session")

    id_hash = await ctx.db.write("end_session", txn)
    await ctx.bus.publish_ephemeral(
        revocation_event(Revocation(session_hash=id_hash), ctx.clock.now())
    )
