"""Routing a conversation to a team, and auto-assignment inside a team.

Both run inside the transaction that caused them (a start, a topic change, a hand-back, a
resolve, an agent coming online, a team's settings changing), so what they decide commits
with it and their ``conversation.assigned`` events leave after the commit.

Concurrency: :func:`fill_teams_txn` locks the teams' rows, then the memberships of their
agents (``storage.routing`` keeps the order), and only then counts open conversations and
takes queued ones. Two processes filling the same team (or teams that share an agent) run one
after the other, so nobody is ever given more than their capacity by auto-assignment. On
SQLite there is one writer anyway.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime

from eyelevel.core.actions import sla
from eyelevel.core.entities import Conversation, MessageKind, Status
from eyelevel.core.errors import DomainError, ErrorCode
from eyelevel.core.events import assigned, owner_data
from eyelevel.core.ids import AgentId, CompanyId, ConversationTopicId, TeamId
from eyelevel.core.ports import Context, UnitOfWork
from eyelevel.core.rules.hours import is_open
from eyelevel.core.rules.routing import Candidate, Facts, RoundRobin, first_match

_LANGUAGE = re.compile(r"^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8}){0,2}$")


async def route_txn(
    uow: UnitOfWork, ctx: Context, conversation: Conversation, *, text: str, now: datetime
) -> Conversation:
    """Evaluate the company's routing rules for a conversation that has no agent: the first
    match (or the default team, or nobody) becomes its owner, with the rule recorded, and its
    response-time clocks take that team's targets; then the team's auto-assignment runs.
    Returns the conversation as it is now."""
    if conversation.owner_agent_id is not None:
        return conversation
    company = await uow.companies.get(conversation.company_id)
    assert company is not None
    settings = await uow.routing.settings(company.id)
    rules = await uow.routing.rules_of(company.id)
    facts = Facts(
        channel=conversation.channel,
        topic_id=conversation.topic_id,
        text=text,
        language=conversation.language,
        open_now=is_open(company.business_hours, company.timezone, now, company.holidays),
    )
    rule = first_match(rules, facts)
    team_id = rule.team_id if rule is not None else settings.default_team_id
    rule_id = rule.id if rule is not None else None
    if (conversation.owner_team_id, conversation.routing_rule_id) != (team_id, rule_id):
        await uow.routing.set_routed(conversation.id, team_id, rule_id, now)
        routed = await uow.conversations.get(conversation.id)
        assert routed is not None
        if conversation.owner_team_id != team_id:
            await uow.emit(
                assigned(company.id, conversation.id, owner_data(routed), owner_data(conversation)),
                now,
            )
            await sla.update_clocks_txn(uow, ctx, routed)
        conversation = routed
    if team_id is not None:
        await fill_teams_txn(uow, company.id, [team_id], now=now)
        fresh = await uow.conversations.get(conversation.id)
        assert fresh is not None
        conversation = fresh
    return conversation


async def first_text_txn(uow: UnitOfWork, conversation: Conversation) -> str:
    """The customer's first message: what keyword conditions look at."""
    page = await uow.messages.page(
        conversation, after_seq=0, before_seq=None, limit=5, include_notes=False
    )
    return next((m.body for m in page if m.kind == MessageKind.CUSTOMER), "")


async def fill_teams_txn(
    uow: UnitOfWork, company_id: CompanyId, team_ids: Iterable[TeamId], *, now: datetime
) -> int:
    """Give queued conversations of these teams (those that assign automatically) to their
    online agents under capacity, round robin, oldest conversation first. Returns how many
    were assigned."""
    wanted = sorted(set(team_ids))
    if not wanted:
        return 0
    teams = [a for a in await uow.routing.lock_teams(company_id, wanted) if a.auto_assign]
    if not teams:
        return 0
    members = await uow.routing.lock_team_agents(company_id, [a.team_id for a in teams])
    counts = await uow.routing.open_counts(company_id, sorted({m.agent_id for m in members}))
    assigned_now = 0
    for team in teams:
        own = [m for m in members if m.team_id == team.team_id]
        candidates = [
            Candidate(
                m.agent_id,
                m.online,
                counts.get(m.agent_id, 0),
                m.max_open if m.max_open is not None else team.max_open,
            )
            for m in own
        ]
        slots = sum(max(0, c.capacity - c.open_count) for c in candidates if c.online)
        if not slots:
            continue
        robin = RoundRobin(candidates, team.last_assigned_agent_id)
        for conversation in await uow.routing.queue(company_id, team.team_id, slots):
            agent_id = robin.next()
            if agent_id is None:
                break
            await _give_txn(uow, conversation, agent_id, team.team_id, now)
            counts[agent_id] = counts.get(agent_id, 0) + 1
            assigned_now += 1
        if robin.last is not None and robin.last != team.last_assigned_agent_id:
            await uow.routing.set_last_assigned(company_id, team.team_id, robin.last)
    return assigned_now


async def _give_txn(
    uow: UnitOfWork, conversation: Conversation, agent_id: AgentId, team_id: TeamId, now: datetime
) -> None:
    await uow.conversations.set_owner(conversation.id, agent_id, team_id, now)
    await uow.emit(
        assigned(
            conversation.company_id,
            conversation.id,
            {"type": "agent", "id": agent_id},
            owner_data(conversation),
        ),
        now,
    )


async def agent_freed_txn(
    uow: UnitOfWork, company_id: CompanyId, agent_id: AgentId, *, now: datetime
) -> int:
    """An agent has room again (resolved or handed back a conversation, came online): fill
    the queues of their teams that assign automatically."""
    teams = await uow.routing.auto_teams_of_agent(company_id, agent_id)
    return await fill_teams_txn(uow, company_id, teams, now=now)


async def after_status_txn(
    uow: UnitOfWork, conversation: Conversation, status: Status, *, now: datetime
) -> None:
    """A status change of ``conversation`` (as it was before it): resolving frees its agent's
    slot; reopening a resolved one without an agent puts it back into its team's queue."""
    if status == conversation.status:
        return
    if status == Status.RESOLVED and conversation.owner_agent_id is not None:
        await agent_freed_txn(uow, conversation.company_id, conversation.owner_agent_id, now=now)
    elif (
        conversation.status == Status.RESOLVED
        and conversation.owner_agent_id is None
        and conversation.owner_team_id is not None
    ):
        await fill_teams_txn(uow, conversation.company_id, [conversation.owner_team_id], now=now)


def check_language(language: str | None) -> str | None:
    """A BCP 47 language tag (``de``, ``de-AT``), stored in lower case; None: unknown."""
    if language is None or language == "":
        return None
    if not _LANGUAGE.fullmatch(language):
        raise DomainError(
            ErrorCode.VALIDATION, "language is a tag such as de or de-AT", field="language"
        )
    return language.lower()


async def check_start_topic_txn(
    uow: UnitOfWork, company_id: CompanyId, topic_id: int | None
) -> ConversationTopicId | None:
    """The topic a customer chose when starting: one of the company's active ones, and one
    must be chosen when the company requires it."""
    if topic_id is None:
        if (await uow.routing.settings(company_id)).topic_required:
            raise DomainError(
                ErrorCode.CONVERSATION_TOPIC_REQUIRED,
                "this company asks you to choose a topic",
                field="topic_id",
            )
        return None
    topic = await uow.routing.get_topic(company_id, ConversationTopicId(topic_id))
    if topic is None or not topic.active:
        raise DomainError(
            ErrorCode.INVALID_CONVERSATION_TOPIC,
            "no such topic at this company",
            field="topic_id",
        )
    return topic.id
