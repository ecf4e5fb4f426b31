"""An agent's second factor and recovery codes, presence, sessions by owner, membership changes.

The newest TOTP time step an agent has used is kept with the secret in ``agents.totp_secret``
as ``<base32 secret>:<step>`` (base32 has no colon); a pending secret has no step. Spending a
step is a compare-and-set on that column, so two requests with the same code cannot both win.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, insert, select, update

from eyelevel.core.entities import Role
from eyelevel.core.ids import AgentId, CompanyId
from eyelevel.core.ports import SessionInfo, TotpState
from eyelevel.storage import schema as t
from eyelevel.storage.rows import Repo

_a = t.agents.c
_m = t.memberships.c
_r = t.recovery_codes.c
_s = t.sessions.c


def _join(secret: str, step: int) -> str:
    return f"{secret}:{step}"


def _split(stored: str | None) -> tuple[str | None, int]:
    if stored is None:
        return None, 0
    secret, _, step = stored.partition(":")
    return secret, int(step) if step.isdigit() else 0


class SqlAgentSecurity(Repo):
    async def totp_state(self, agent_id: AgentId) -> TotpState | None:
        r = await self._one(select(_a.totp_secret, _a.totp_enabled_at).where(_a.id == agent_id))
        if r is None:
            return None
        secret, step = _split(r.totp_secret)
        return TotpState(secret, r.totp_enabled_at is not None, step)

    async def start_totp(self, agent_id: AgentId, secret: str) -> None:
        await self._c.execute(
            update(t.agents)
            .where(_a.id == agent_id, _a.totp_enabled_at.is_(None))
            .values(totp_secret=secret)
        )

    async def enable_totp(
        self, agent_id: AgentId, *, secret: str, step: int, now: datetime
    ) -> bool:
        done = await self._c.execute(
            update(t.agents)
            .where(_a.id == agent_id, _a.totp_secret == secret, _a.totp_enabled_at.is_(None))
            .values(totp_secret=_join(secret, step), totp_enabled_at=now)
        )
        return bool(done.rowcount)

    async def spend_totp_step(self, agent_id: AgentId, *, state: TotpState, step: int) -> bool:
        if state.secret is None or not state.enabled or step <= state.last_step:
            return False
        done = await self._c.execute(
            update(t.agents)
            .where(
                _a.id == agent_id,
                _a.totp_secret == _join(state.secret, state.last_step),
                _a.totp_enabled_at.is_not(None),
            )
            .values(totp_secret=_join(state.secret, step))
        )
        return bool(done.rowcount)

    async def disable_totp(self, agent_id: AgentId) -> None:
        await self._c.execute(
            update(t.agents).where(_a.id == agent_id).values(totp_secret=None, totp_enabled_at=None)
        )
        await self._c.execute(delete(t.recovery_codes).where(_r.agent_id == agent_id))

    async def replace_recovery_codes(self, agent_id: AgentId, code_hashes: Sequence[str]) -> None:
        await self._c.execute(delete(t.recovery_codes).where(_r.agent_id == agent_id))
        if code_hashes:
            await self._c.execute(
                insert(t.recovery_codes),
                [{"agent_id": agent_id, "code_hash": h, "used_at": None} for h in code_hashes],
            )

    async def spend_recovery_code(self, agent_id: AgentId, code_hash: str, now: datetime) -> bool:
        done = await self._c.execute(
            update(t.recovery_codes)
            .where(_r.agent_id == agent_id, _r.code_hash == code_hash, _r.used_at.is_(None))
            .values(used_at=now)
        )
        return bool(done.rowcount)

    async def set_presence(self, agent_id: AgentId, presence: str, now: datetime) -> None:
        await self._c.execute(
            update(t.agents).where(_a.id == agent_id).values(presence=presence, presence_at=now)
        )

    async def sessions_of(self, kind: str, principal_id: int, now: datetime) -> list[SessionInfo]:
        rows = await self._all(
            select(_s.id_hash, _s.created_at, _s.expires_at, _s.user_agent)
            .where(_s.kind == kind, _s.principal_id == principal_id, _s.expires_at > now)
            .order_by(_s.created_at.desc(), _s.id_hash)
        )
        return [SessionInfo(r.id_hash, r.created_at, r.expires_at, r.user_agent) for r in rows]

    async def end_sessions(self, kind: str, principal_id: int) -> int:
        done = await self._c.execute(
            delete(t.sessions).where(_s.kind == kind, _s.principal_id == principal_id)
        )
        return int(done.rowcount)

    async def active_admins(self, company_id: CompanyId) -> list[AgentId]:
        rows = await self._all(
            select(_m.agent_id)
            .join(t.agents, _a.id == _m.agent_id)
            .where(
                _m.company_id == company_id,
                _m.role == Role.ADMIN.value,
                _m.active.is_(True),
                _a.active.is_(True),
            )
            .order_by(_m.agent_id)
            .with_for_update(of=t.memberships)  # SQLite: writes are serialized anyway
        )
        return [AgentId(r.agent_id) for r in rows]

    async def set_membership(
        self, company_id: CompanyId, agent_id: AgentId, *, role: Role, active: bool
    ) -> None:
        await self._c.execute(
            update(t.memberships)
            .where(_m.company_id == company_id, _m.agent_id == agent_id)
            .values(role=role.value, active=active)
        )
