"""Conversation topics, routing rules and settings, and what auto-assignment reads and locks.

Locks (PostgreSQL; SQLite has one writer anyway) are always taken in one order: the teams
(ascending id), then the memberships of their agents (ascending agent id), then the queued
conversations (ascending id). Two processes assigning in the same team wait for each other,
and an agent who is in two teams is counted under one lock.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, func, insert, select, update
from sqlalchemy.engine import Row

from eyelevel.core.entities import Conversation, Status
from eyelevel.core.ids import (
    AgentId,
    CompanyId,
    ConversationId,
    ConversationTopicId,
    RoutingRuleId,
    TeamId,
)
from eyelevel.core.rules.routing import (
    Conditions,
    ConversationTopic,
    RoutingRule,
    RoutingSettings,
    TeamAgent,
    TeamAssignment,
)
from eyelevel.storage import schema as t
from eyelevel.storage.rows import Repo, conversation_from


def _topic(r: Row[Any]) -> ConversationTopic:
    return ConversationTopic(
        ConversationTopicId(r.id),
        CompanyId(r.company_id),
        r.name,
        r.position,
        r.active,
        bool(r.opens_complaint),
    )


def _rule(r: Row[Any]) -> RoutingRule:
    return RoutingRule(
        RoutingRuleId(r.id),
        CompanyId(r.company_id),
        r.name,
        r.position,
        r.enabled,
        Conditions.from_json(r.conditions),
        TeamId(r.team_id),
    )


def _team_assignment(r: Row[Any]) -> TeamAssignment:
    last = r.last_assigned_agent_id
    return TeamAssignment(
        TeamId(r.id), r.auto_assign, r.max_open, AgentId(last) if last is not None else None
    )


class SqlRouting(Repo):
    # -- conversation topics -------------------------------------------------------------------

    async def topics_of(self, company_id: CompanyId) -> list[ConversationTopic]:
        c = t.conversation_topics.c
        rows = await self._all(
            select(t.conversation_topics)
            .where(c.company_id == company_id)
            .order_by(c.position, c.id)
        )
        return [_topic(r) for r in rows]

    async def get_topic(
        self, company_id: CompanyId, topic_id: ConversationTopicId
    ) -> ConversationTopic | None:
        c = t.conversation_topics.c
        r = await self._one(
            select(t.conversation_topics).where(c.company_id == company_id, c.id == topic_id)
        )
        return _topic(r) if r else None

    async def get_topic_by_name(self, company_id: CompanyId, name: str) -> ConversationTopic | None:
        c = t.conversation_topics.c
        r = await self._one(
            select(t.conversation_topics)
            .where(c.company_id == company_id, func.lower(c.name) == name.lower())
            .limit(1)
        )
        return _topic(r) if r else None

    async def create_topic(
        self,
        company_id: CompanyId,
        *,
        name: str,
        active: bool,
        opens_complaint: bool = False,
        now: datetime,
    ) -> ConversationTopic:
        c = t.conversation_topics.c
        last = (
            await self._c.execute(select(func.max(c.position)).where(c.company_id == company_id))
        ).scalar_one()
        position = 0 if last is None else int(last) + 1
        tid = await self._insert_id(
            t.conversation_topics,
            {
                "company_id": company_id,
                "name": name,
                "position": position,
                "active": active,
                "opens_complaint": opens_complaint,
                "created_at": now,
            },
        )
        return ConversationTopic(
            ConversationTopicId(tid), company_id, name, position, active, opens_complaint
        )

    async def update_topic(
        self,
        company_id: CompanyId,
        topic_id: ConversationTopicId,
        *,
        name: str,
        active: bool,
        opens_complaint: bool = False,
    ) -> None:
        c = t.conversation_topics.c
        await self._c.execute(
            update(t.conversation_topics)
            .where(c.company_id == company_id, c.id == topic_id)
            .values(name=name, active=active, opens_complaint=opens_complaint)
        )

    async def order_topics(
        self, company_id: CompanyId, topic_ids: Sequence[ConversationTopicId]
    ) -> None:
        c = t.conversation_topics.c
        for position, topic_id in enumerate(topic_ids):
            await self._c.execute(
                update(t.conversation_topics)
                .where(c.company_id == company_id, c.id == topic_id)
                .values(position=position)
            )

    async def topic_used_by_conversations(
        self, company_id: CompanyId, topic_id: ConversationTopicId
    ) -> bool:
        c = t.conversations.c
        r = await self._one(
            select(c.id).where(c.company_id == company_id, c.topic_id == topic_id).limit(1)
        )
        return r is not None

    async def delete_topic(self, company_id: CompanyId, topic_id: ConversationTopicId) -> None:
        c = t.conversation_topics.c
        await self._c.execute(
            delete(t.conversation_topics).where(c.company_id == company_id, c.id == topic_id)
        )

    # -- rules and settings --------------------------------------------------------------------

    async def rules_of(self, company_id: CompanyId) -> list[RoutingRule]:
        c = t.routing_rules.c
        rows = await self._all(
            select(t.routing_rules).where(c.company_id == company_id).order_by(c.position, c.id)
        )
        return [_rule(r) for r in rows]

    async def get_rule(self, company_id: CompanyId, rule_id: RoutingRuleId) -> RoutingRule | None:
        c = t.routing_rules.c
        r = await self._one(
            select(t.routing_rules).where(c.company_id == company_id, c.id == rule_id)
        )
        return _rule(r) if r else None

    async def create_rule(
        self,
        company_id: CompanyId,
        *,
        name: str,
        enabled: bool,
        conditions: Conditions,
        team_id: TeamId,
        now: datetime,
    ) -> RoutingRule:
        c = t.routing_rules.c
        last = (
            await self._c.execute(select(func.max(c.position)).where(c.company_id == company_id))
        ).scalar_one()
        position = 0 if last is None else int(last) + 1
        rid = await self._insert_id(
            t.routing_rules,
            {
                "company_id": company_id,
                "name": name,
                "position": position,
                "enabled": enabled,
                "conditions": conditions.to_json(),
                "team_id": team_id,
                "created_at": now,
                "updated_at": now,
            },
        )
        return RoutingRule(
            RoutingRuleId(rid), company_id, name, position, enabled, conditions, team_id
        )

    async def update_rule(self, rule: RoutingRule, now: datetime) -> None:
        c = t.routing_rules.c
        await self._c.execute(
            update(t.routing_rules)
            .where(c.company_id == rule.company_id, c.id == rule.id)
            .values(
                name=rule.name,
                enabled=rule.enabled,
                conditions=rule.conditions.to_json(),
                team_id=rule.team_id,
                updated_at=now,
            )
        )

    async def order_rules(self, company_id: CompanyId, rule_ids: Sequence[RoutingRuleId]) -> None:
        c = t.routing_rules.c
        for position, rule_id in enumerate(rule_ids):
            await self._c.execute(
                update(t.routing_rules)
                .where(c.company_id == company_id, c.id == rule_id)
                .values(position=position)
            )

    async def delete_rule(self, company_id: CompanyId, rule_id: RoutingRuleId) -> None:
        c = t.routing_rules.c
        await self._c.execute(
            delete(t.routing_rules).where(c.company_id == company_id, c.id == rule_id)
        )

    async def settings(self, company_id: CompanyId) -> RoutingSettings:
        r = await self._one(
            select(t.routing_settings).where(t.routing_settings.c.company_id == company_id)
        )
        if r is None:
            return RoutingSettings(company_id)
        team = r.default_team_id
        return RoutingSettings(
            company_id, r.topic_required, TeamId(team) if team is not None else None
        )

    async def put_settings(self, settings: RoutingSettings) -> None:
        c = t.routing_settings.c
        values = {
            "topic_required": settings.topic_required,
            "default_team_id": settings.default_team_id,
        }
        done = await self._c.execute(
            update(t.routing_settings).where(c.company_id == settings.company_id).values(values)
        )
        if not done.rowcount:
            await self._c.execute(
                insert(t.routing_settings).values(company_id=settings.company_id, **values)
            )

    async def team_referenced(self, company_id: CompanyId, team_id: TeamId) -> bool:
        """Whether a routing rule or the default-team setting names the team."""
        r = await self._one(
            select(t.routing_rules.c.id)
            .where(t.routing_rules.c.company_id == company_id, t.routing_rules.c.team_id == team_id)
            .limit(1)
        )
        if r is not None:
            return True
        s = await self.settings(company_id)
        return s.default_team_id == team_id

    # -- conversations -------------------------------------------------------------------------

    async def set_conversation_topic(
        self, conversation_id: ConversationId, topic_id: ConversationTopicId | None, now: datetime
    ) -> None:
        await self._c.execute(
            update(t.conversations)
            .where(t.conversations.c.id == conversation_id)
            .values(topic_id=topic_id, updated_at=now)
        )

    async def set_routed(
        self,
        conversation_id: ConversationId,
        team_id: TeamId | None,
        rule_id: RoutingRuleId | None,
        now: datetime,
    ) -> None:
        """Put the conversation into a team's queue (no agent), naming the rule that did."""
        await self._c.execute(
            update(t.conversations)
            .where(t.conversations.c.id == conversation_id)
            .values(
                owner_agent_id=None,
                owner_team_id=team_id,
                routing_rule_id=rule_id,
                updated_at=now,
            )
        )

    async def rule_names(
        self, company_id: CompanyId, rule_ids: Sequence[RoutingRuleId]
    ) -> dict[RoutingRuleId, str]:
        if not rule_ids:
            return {}
        c = t.routing_rules.c
        rows = await self._all(
            select(c.id, c.name).where(c.company_id == company_id, c.id.in_(sorted(set(rule_ids))))
        )
        return {RoutingRuleId(r.id): r.name for r in rows}

    # -- auto-assignment -----------------------------------------------------------------------

    async def team_assignment(self, company_id: CompanyId, team_id: TeamId) -> TeamAssignment:
        c = t.teams.c
        r = await self._one(select(t.teams).where(c.company_id == company_id, c.id == team_id))
        assert r is not None
        return _team_assignment(r)

    async def assignments_of(self, company_id: CompanyId) -> dict[TeamId, TeamAssignment]:
        c = t.teams.c
        rows = await self._all(select(t.teams).where(c.company_id == company_id))
        return {TeamId(r.id): _team_assignment(r) for r in rows}

    async def overrides_of(self, company_id: CompanyId) -> dict[TeamId, dict[AgentId, int]]:
        c = t.team_members.c
        rows = await self._all(
            select(c.team_id, c.agent_id, c.max_open).where(
                c.company_id == company_id, c.max_open.is_not(None)
            )
        )
        out: dict[TeamId, dict[AgentId, int]] = {}
        for r in rows:
            out.setdefault(TeamId(r.team_id), {})[AgentId(r.agent_id)] = r.max_open
        return out

    async def set_team_assignment(
        self,
        company_id: CompanyId,
        team_id: TeamId,
        *,
        auto_assign: bool,
        max_open: int,
        overrides: dict[AgentId, int | None],
    ) -> None:
        await self._c.execute(
            update(t.teams)
            .where(t.teams.c.company_id == company_id, t.teams.c.id == team_id)
            .values(auto_assign=auto_assign, max_open=max_open)
        )
        c = t.team_members.c
        for agent_id, value in sorted(overrides.items()):
            await self._c.execute(
                update(t.team_members)
                .where(c.company_id == company_id, c.team_id == team_id, c.agent_id == agent_id)
                .values(max_open=value)
            )

    async def lock_teams(
        self, company_id: CompanyId, team_ids: Sequence[TeamId]
    ) -> list[TeamAssignment]:
        """The teams' rows, locked in ascending id until the transaction ends."""
        if not team_ids:
            return []
        c = t.teams.c
        rows = await self._all(
            select(t.teams)
            .where(c.company_id == company_id, c.id.in_(sorted(set(team_ids))))
            .order_by(c.id)
            .with_for_update()
        )
        return [_team_assignment(r) for r in rows]

    async def lock_team_agents(
        self, company_id: CompanyId, team_ids: Sequence[TeamId]
    ) -> list[TeamAgent]:
        """The teams' members with their presence; their memberships locked (ascending agent
        id), so an agent in two teams is never filled by two transactions at once."""
        if not team_ids:
            return []
        tm, m, a = t.team_members.c, t.memberships.c, t.agents.c
        rows = await self._all(
            select(
                tm.team_id,
                tm.agent_id,
                tm.max_open,
                a.presence,
                a.active.label("agent_active"),
                m.active.label("member_active"),
            )
            .select_from(
                t.team_members.join(
                    t.memberships,
                    and_(m.company_id == tm.company_id, m.agent_id == tm.agent_id),
                ).join(t.agents, a.id == tm.agent_id)
            )
            .where(tm.company_id == company_id, tm.team_id.in_(sorted(set(team_ids))))
            .order_by(tm.agent_id, tm.team_id)
        )
        agent_ids = sorted({AgentId(r.agent_id) for r in rows})
        if agent_ids:
            await self._c.execute(
                select(m.agent_id)
                .where(m.company_id == company_id, m.agent_id.in_(agent_ids))
                .order_by(m.agent_id)
                .with_for_update()
            )
        return [
            TeamAgent(
                TeamId(r.team_id),
                AgentId(r.agent_id),
                bool(r.agent_active and r.member_active and r.presence == "online"),
                r.max_open,
            )
            for r in rows
        ]

    async def open_counts(
        self, company_id: CompanyId, agent_ids: Sequence[AgentId]
    ) -> dict[AgentId, int]:
        """How many conversations each agent owns in the company that are not resolved. A
        restricted one (its customer erased under legal hold: nobody works on it, and only
        admins can even read it) takes no capacity."""
        if not agent_ids:
            return {}
        c = t.conversations.c
        rows = await self._all(
            select(c.owner_agent_id, func.count().label("n"))
            .where(
                c.company_id == company_id,
                c.status != Status.RESOLVED.value,
                c.owner_agent_id.in_(sorted(set(agent_ids))),
                c.restricted_at.is_(None),
            )
            .group_by(c.owner_agent_id)
        )
        return {AgentId(r.owner_agent_id): int(r.n) for r in rows}

    async def queue(self, company_id: CompanyId, team_id: TeamId, limit: int) -> list[Conversation]:
        """The team's oldest conversations without an agent that are not resolved, locked;
        never a restricted one (read-only: nobody is given it)."""
        c = t.conversations.c
        rows = await self._all(
            select(t.conversations)
            .where(
                c.company_id == company_id,
                c.owner_team_id == team_id,
                c.status != Status.RESOLVED.value,
                c.owner_agent_id.is_(None),
                c.restricted_at.is_(None),
            )
            .order_by(c.id)
            .limit(limit)
            .with_for_update()
        )
        return [conversation_from(r) for r in rows]

    async def set_last_assigned(
        self, company_id: CompanyId, team_id: TeamId, agent_id: AgentId
    ) -> None:
        await self._c.execute(
            update(t.teams)
            .where(t.teams.c.company_id == company_id, t.teams.c.id == team_id)
            .values(last_assigned_agent_id=agent_id)
        )

    async def auto_teams_of_agent(self, company_id: CompanyId, agent_id: AgentId) -> list[TeamId]:
        """The agent's teams in the company that assign automatically."""
        tm, tt = t.team_members.c, t.teams.c
        rows = await self._all(
            select(tm.team_id)
            .join(t.teams, and_(tt.company_id == tm.company_id, tt.id == tm.team_id))
            .where(tm.company_id == company_id, tm.agent_id == agent_id, tt.auto_assign)
            .order_by(tm.team_id)
        )
        return [TeamId(r.team_id) for r in rows]
