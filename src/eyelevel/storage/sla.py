"""Team SLA policies (calendars and targets) and the SLA clocks of conversations."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, insert, select, update

from eyelevel.core.entities import ClockState, SlaClock, TeamSlaPolicy
from eyelevel.core.ids import CompanyId, ConversationId, TeamId
from eyelevel.storage import schema as t
from eyelevel.storage.rows import Repo

_US = timedelta(microseconds=1)


def _policy_from(r: Any) -> TeamSlaPolicy:
    return TeamSlaPolicy(
        CompanyId(r.company_id),
        TeamId(r.team_id),
        r.business_hours,
        r.holidays,
        r.first_response_minutes,
        r.next_response_minutes,
        r.resolution_minutes,
        bool(r.reassign_on_breach),
    )


def _clock_from(r: Any) -> SlaClock:
    return SlaClock(
        id=int(r.id),
        company_id=CompanyId(r.company_id),
        conversation_id=ConversationId(r.conversation_id),
        target=r.target,
        team_id=TeamId(r.team_id) if r.team_id is not None else None,
        target_minutes=r.target_minutes,
        state=ClockState(r.state),
        started_at=r.started_at,
        running_since=r.running_since,
        elapsed=int(r.elapsed_us) * _US,
        paused_at=r.paused_at,
        paused=int(r.paused_us) * _US,
        due_at=r.due_at,
        warn_at=r.warn_at,
        warned_at=r.warned_at,
        breached_at=r.breached_at,
        met_at=r.met_at,
        closed_at=r.closed_at,
    )


def _clock_values(clock: SlaClock) -> dict[str, Any]:
    return {
        "company_id": clock.company_id,
        "conversation_id": clock.conversation_id,
        "target": clock.target,
        "team_id": clock.team_id,
        "target_minutes": clock.target_minutes,
        "state": clock.state.value,
        "started_at": clock.started_at,
        "running_since": clock.running_since,
        "elapsed_us": clock.elapsed // _US,
        "paused_at": clock.paused_at,
        "paused_us": clock.paused // _US,
        "due_at": clock.due_at,
        "warn_at": clock.warn_at,
        "warned_at": clock.warned_at,
        "breached_at": clock.breached_at,
        "met_at": clock.met_at,
        "closed_at": clock.closed_at,
    }


class SqlSla(Repo):
    async def policy(self, company_id: CompanyId, team_id: TeamId) -> TeamSlaPolicy | None:
        p = t.team_sla_policies.c
        r = await self._one(
            select(t.team_sla_policies).where(p.company_id == company_id, p.team_id == team_id)
        )
        return _policy_from(r) if r else None

    async def policies(self, company_id: CompanyId) -> list[TeamSlaPolicy]:
        p = t.team_sla_policies.c
        rows = await self._all(
            select(t.team_sla_policies).where(p.company_id == company_id).order_by(p.team_id)
        )
        return [_policy_from(r) for r in rows]

    async def save_policy(self, policy: TeamSlaPolicy, now: datetime) -> None:
        p = t.team_sla_policies.c
        await self._c.execute(
            delete(t.team_sla_policies).where(
                p.company_id == policy.company_id, p.team_id == policy.team_id
            )
        )
        await self._c.execute(
            insert(t.team_sla_policies).values(
                company_id=policy.company_id,
                team_id=policy.team_id,
                business_hours=policy.business_hours,
                holidays=policy.holidays,
                first_response_minutes=policy.first_response_minutes,
                next_response_minutes=policy.next_response_minutes,
                resolution_minutes=policy.resolution_minutes,
                reassign_on_breach=policy.reassign_on_breach,
                updated_at=now,
            )
        )

    async def delete_policy(self, company_id: CompanyId, team_id: TeamId) -> None:
        p = t.team_sla_policies.c
        await self._c.execute(
            delete(t.team_sla_policies).where(p.company_id == company_id, p.team_id == team_id)
        )

    async def clocks_of(
        self, company_id: CompanyId, conversation_id: ConversationId
    ) -> list[SlaClock]:
        k = t.sla_clocks.c
        rows = await self._all(
            select(t.sla_clocks)
            .where(k.company_id == company_id, k.conversation_id == conversation_id)
            .order_by(k.id)
        )
        return [_clock_from(r) for r in rows]

    async def get_clock(self, clock_id: int) -> SlaClock | None:
        r = await self._one(select(t.sla_clocks).where(t.sla_clocks.c.id == clock_id))
        return _clock_from(r) if r else None

    async def insert_clock(self, clock: SlaClock) -> SlaClock:
        values = _clock_values(clock)
        new_id = await self._insert_id(t.sla_clocks, values)
        return _clock_from(_Row({**values, "id": new_id}))

    async def update_clock(self, clock: SlaClock) -> None:
        k = t.sla_clocks.c
        await self._c.execute(
            update(t.sla_clocks)
            .where(k.company_id == clock.company_id, k.id == clock.id)
            .values(_clock_values(clock))
        )

    async def set_summary(
        self,
        conversation_id: ConversationId,
        summary: Sequence[dict[str, Any]] | None,
        due_at: datetime | None,
    ) -> None:
        await self._c.execute(
            update(t.conversations)
            .where(t.conversations.c.id == conversation_id)
            .values(sla=list(summary) if summary is not None else None, sla_due_at=due_at)
        )


class _Row:
    """A dict read like a row (for a clock just inserted)."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)
