"""A company's conversation topics, routing rules and settings, and teams' auto-assignment
settings, kept by its admins; changing a conversation's topic (which routes it again).

docs/routing.md describes the behaviour; ``core.rules.routing`` decides, ``core.actions.
assignment`` applies.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from eyelevel.core.actions.access import (
    access_company_txn,
    access_conversation_txn,
    require_role,
)
from eyelevel.core.actions.assignment import fill_teams_txn, first_text_txn, route_txn
from eyelevel.core.actions.audit import audit_txn
from eyelevel.core.entities import Company, Conversation, Role
from eyelevel.core.errors import DomainError, ErrorCode, not_found
from eyelevel.core.ids import (
    AgentId,
    CompanyId,
    ConversationId,
    ConversationTopicId,
    RoutingRuleId,
    TeamId,
)
from eyelevel.core.ports import Context, UnitOfWork
from eyelevel.core.principals import CustomerPrincipal, Principal, role_in
from eyelevel.core.rules.routing import (
    CHANNELS,
    HOURS,
    Conditions,
    ConversationTopic,
    RoutingRule,
    RoutingSettings,
    TeamAssignment,
)

MAX_TOPIC_NAME = 60
MAX_TOPICS = 50
MAX_RULE_NAME = 100
MAX_RULES = 100
MAX_KEYWORDS = 50
MAX_KEYWORD_CHARS = 60
MAX_OPEN = 1000


@dataclass(frozen=True, slots=True)
class TopicList:
    required: bool
    topics: list[ConversationTopic]


@dataclass(frozen=True, slots=True)
class TeamAssignmentView:
    assignment: TeamAssignment
    members: list[AgentId]
    overrides: dict[AgentId, int]


def _name(value: str, field: str, limit: int) -> str:
    value = " ".join(value.split())
    if not value or len(value) > limit:
        raise DomainError(
            ErrorCode.VALIDATION, f"{field} must have 1 to {limit} characters", field=field
        )
    return value


def _max_open(value: int, field: str) -> int:
    if not 1 <= value <= MAX_OPEN:
        raise DomainError(ErrorCode.VALIDATION, f"{field} is 1 to {MAX_OPEN}", field=field)
    return value


def check_conditions(raw: Mapping[str, Any]) -> Conditions:
    """Validated conditions (topics and teams are checked against the company later)."""
    channels = list(dict.fromkeys(raw.get("channels") or []))
    if any(c not in CHANNELS for c in channels):
        raise DomainError(
            ErrorCode.VALIDATION,
            f"channels are {', '.join(CHANNELS)}",
            field="conditions.channels",
        )
    keywords: list[str] = []
    for k in raw.get("keywords") or []:
        k = " ".join(str(k).split())
        if not k or len(k) > MAX_KEYWORD_CHARS:
            raise DomainError(
                ErrorCode.VALIDATION,
                f"a keyword has 1 to {MAX_KEYWORD_CHARS} characters",
                field="conditions.keywords",
            )
        if k.casefold() not in (x.casefold() for x in keywords):
            keywords.append(k)
    if len(keywords) > MAX_KEYWORDS:
        raise DomainError(
            ErrorCode.VALIDATION,
            f"a rule has at most {MAX_KEYWORDS} keywords",
            field="conditions.keywords",
        )
    languages: list[str] = []
    for lang in raw.get("languages") or []:
        lang = str(lang).strip().lower()
        if not (2 <= len(lang) <= 8 and lang.isascii() and lang.isalpha()):
            raise DomainError(
                ErrorCode.VALIDATION,
                "languages are primary language tags such as de or en",
                field="conditions.languages",
            )
        if lang not in languages:
            languages.append(lang)
    hours = raw.get("business_hours")
    if hours is not None and hours not in HOURS:
        raise DomainError(
            ErrorCode.VALIDATION,
            "business_hours is open, closed or null",
            field="conditions.business_hours",
        )
    topic_ids = [ConversationTopicId(int(i)) for i in dict.fromkeys(raw.get("topic_ids") or [])]
    return Conditions(
        channels=tuple(channels),
        topic_ids=tuple(topic_ids),
        keywords=tuple(keywords),
        languages=tuple(languages),
        business_hours=hours,
    )


async def _check_rule_refs_txn(
    uow: UnitOfWork, company: Company, conditions: Conditions, team_id: TeamId
) -> None:
    if await uow.companies.get_team(company.id, team_id) is None:
        raise DomainError(ErrorCode.INVALID_TEAM, "no such team in this company", field="team_id")
    known = {t.id for t in await uow.routing.topics_of(company.id)}
    if set(conditions.topic_ids) - known:
        raise DomainError(
            ErrorCode.INVALID_CONVERSATION_TOPIC,
            "no such topic at this company",
            field="conditions.topic_ids",
        )


def _order(ids: Sequence[int], existing: Sequence[int], field: str) -> list[int]:
    if sorted(ids) != sorted(existing) or len(set(ids)) != len(ids):
        raise DomainError(
            ErrorCode.VALIDATION,
            "the order must name every one exactly once",
            field=field,
        )
    return list(ids)


# -- conversation topics -----------------------------------------------------------------------


async def list_topics(ctx: Context, principal: Principal | None, slug: str) -> TopicList:
    """The company's conversation topics: the active ones for everybody (the messenger asks
    a customer to choose one); with the inactive ones for its members."""

    async def read(uow: UnitOfWork) -> TopicList:
        company = await uow.companies.get_by_slug(slug)
        if company is None:
            raise not_found("company")
        topics = await uow.routing.topics_of(company.id)
        member = principal is not None and role_in(principal, company.id) is not None
        if not member:
            topics = [t for t in topics if t.active]
        settings = await uow.routing.settings(company.id)
        return TopicList(settings.topic_required, topics)

    return await ctx.db.read(read)


async def check_create_topic(
    ctx: Context,
    principal: Principal,
    slug: str,
    *,
    name: str,
    active: bool = True,
    opens_complaint: bool = False,
) -> ConversationTopic:
    name = _name(name, "name", MAX_TOPIC_NAME)

    async def txn(uow: UnitOfWork) -> ConversationTopic:
        company = await access_company_txn(uow, principal, slug, Role.ADMIN)
        if await uow.routing.get_topic_by_name(company.id, name) is not None:
            raise _topic_taken()
        if len(await uow.routing.topics_of(company.id)) >= MAX_TOPICS:
            raise DomainError(
                ErrorCode.VALIDATION, f"a company has at most {MAX_TOPICS} topics", field="name"
            )
        now = ctx.clock.now()
        topic = await uow.routing.create_topic(
            company.id, name=name, active=active, opens_complaint=opens_complaint, now=now
        )
        await audit_txn(
            uow,
            principal,
            company.id,
            "conversation_topic.created",
            target=f"conversation_topic:{topic.id}",
            data={"name": name, "active": active, "opens_complaint": opens_complaint},
            now=now,
        )
        return topic

    return await ctx.db.write("create_conversation_topic", txn)


def _topic_taken() -> DomainError:
    return DomainError(
        ErrorCode.CONVERSATION_TOPIC_TAKEN,
        "the company already has a topic with this name",
        field="name",
    )


async def check_update_topic(
    ctx: Context,
    principal: Principal,
    slug: str,
    topic_id: ConversationTopicId,
    *,
    name: str | None = None,
    active: bool | None = None,
    opens_complaint: bool | None = None,
) -> ConversationTopic:
    """Rename, or switch on and off: an inactive topic is no longer offered to customers;
    conversations that carry it keep it. ``opens_complaint``: conversations started with it
    from now on are complaint cases from the start."""
    name = None if name is None else _name(name, "name", MAX_TOPIC_NAME)

    async def txn(uow: UnitOfWork) -> ConversationTopic:
        company = await access_company_txn(uow, principal, slug, Role.ADMIN)
        topic = await uow.routing.get_topic(company.id, topic_id)
        if topic is None:
            raise not_found("topic")
        new = replace(
            topic,
            name=topic.name if name is None else name,
            active=topic.active if active is None else active,
            opens_complaint=topic.opens_complaint if opens_complaint is None else opens_complaint,
        )
        if new == topic:
            return topic
        if new.name.lower() != topic.name.lower():
            other = await uow.routing.get_topic_by_name(company.id, new.name)
            if other is not None and other.id != topic.id:
                raise _topic_taken()
        await uow.routing.update_topic(
            company.id,
            topic.id,
            name=new.name,
            active=new.active,
            opens_complaint=new.opens_complaint,
        )
        await audit_txn(
            uow,
            principal,
            company.id,
            "conversation_topic.updated",
            target=f"conversation_topic:{topic.id}",
            data={
                "name": new.name,
                "active": new.active,
                "opens_complaint": new.opens_complaint,
            },
            now=ctx.clock.now(),
        )
        return new

    return await ctx.db.write("update_conversation_topic", txn)


async def check_order_topics(
    ctx: Context, principal: Principal, slug: str, topic_ids: Sequence[int]
) -> list[ConversationTopic]:
    async def txn(uow: UnitOfWork) -> list[ConversationTopic]:
        company = await access_company_txn(uow, principal, slug, Role.ADMIN)
        topics = await uow.routing.topics_of(company.id)
        order = _order(topic_ids, [t.id for t in topics], "ids")
        await uow.routing.order_topics(company.id, [ConversationTopicId(i) for i in order])
        return await uow.routing.topics_of(company.id)

    return await ctx.db.write("order_conversation_topics", txn)


async def check_delete_topic(
    ctx: Context, principal: Principal, slug: str, topic_id: ConversationTopicId
) -> None:
    """Only a topic no conversation and no rule uses can go; switch others off instead."""

    async def txn(uow: UnitOfWork) -> None:
        company = await access_company_txn(uow, principal, slug, Role.ADMIN)
        topic = await uow.routing.get_topic(company.id, topic_id)
        if topic is None:
            raise not_found("topic")
        in_rules = any(
            topic.id in r.conditions.topic_ids for r in await uow.routing.rules_of(company.id)
        )
        if in_rules or await uow.routing.topic_used_by_conversations(company.id, topic.id):
            raise DomainError(
                ErrorCode.CONVERSATION_TOPIC_IN_USE,
                "conversations or routing rules use this topic; switch it off instead",
            )
        await uow.routing.delete_topic(company.id, topic.id)
        await audit_txn(
            uow,
            principal,
            company.id,
            "conversation_topic.deleted",
            target=f"conversation_topic:{topic.id}",
            data={"name": topic.name},
            now=ctx.clock.now(),
        )

    await ctx.db.write("delete_conversation_topic", txn)


# -- routing rules and settings ----------------------------------------------------------------


async def list_rules(
    ctx: Context, principal: Principal, slug: str
) -> tuple[list[RoutingRule], RoutingSettings]:
    """The company's rules in order, and its settings; for its members."""

    async def read(uow: UnitOfWork) -> tuple[list[RoutingRule], RoutingSettings]:
        company = await access_company_txn(uow, principal, slug, Role.AGENT)
        return await uow.routing.rules_of(company.id), await uow.routing.settings(company.id)

    return await ctx.db.read(read)


async def check_create_rule(
    ctx: Context,
    principal: Principal,
    slug: str,
    *,
    name: str,
    conditions: Mapping[str, Any],
    team_id: int,
    enabled: bool = True,
) -> RoutingRule:
    """A new rule goes to the end of the list (the last to be tried)."""
    name = _name(name, "name", MAX_RULE_NAME)
    parsed = check_conditions(conditions)

    async def txn(uow: UnitOfWork) -> RoutingRule:
        company = await access_company_txn(uow, principal, slug, Role.ADMIN)
        await _check_rule_refs_txn(uow, company, parsed, TeamId(team_id))
        if len(await uow.routing.rules_of(company.id)) >= MAX_RULES:
            raise DomainError(
                ErrorCode.VALIDATION, f"a company has at most {MAX_RULES} rules", field="name"
            )
        now = ctx.clock.now()
        rule = await uow.routing.create_rule(
            company.id,
            name=name,
            enabled=enabled,
            conditions=parsed,
            team_id=TeamId(team_id),
            now=now,
        )
        await audit_txn(
            uow,
            principal,
            company.id,
            "routing_rule.created",
            target=f"routing_rule:{rule.id}",
            data={"name": name, "team_id": team_id},
            now=now,
        )
        return rule

    return await ctx.db.write("create_routing_rule", txn)


async def check_update_rule(
    ctx: Context,
    principal: Principal,
    slug: str,
    rule_id: RoutingRuleId,
    *,
    name: str | None = None,
    conditions: Mapping[str, Any] | None = None,
    team_id: int | None = None,
    enabled: bool | None = None,
) -> RoutingRule:
    """Change what is given; ``conditions`` replaces all of them. Conversations already
    routed stay where they are."""
    name = None if name is None else _name(name, "name", MAX_RULE_NAME)
    parsed = None if conditions is None else check_conditions(conditions)

    async def txn(uow: UnitOfWork) -> RoutingRule:
        company = await access_company_txn(uow, principal, slug, Role.ADMIN)
        rule = await uow.routing.get_rule(company.id, rule_id)
        if rule is None:
            raise not_found("routing rule")
        new = replace(
            rule,
            name=rule.name if name is None else name,
            conditions=rule.conditions if parsed is None else parsed,
            team_id=rule.team_id if team_id is None else TeamId(team_id),
            enabled=rule.enabled if enabled is None else enabled,
        )
        if new == rule:
            return rule
        await _check_rule_refs_txn(uow, company, new.conditions, new.team_id)
        now = ctx.clock.now()
        await uow.routing.update_rule(new, now)
        await audit_txn(
            uow,
            principal,
            company.id,
            "routing_rule.updated",
            target=f"routing_rule:{rule.id}",
            data={"name": new.name, "team_id": new.team_id, "enabled": new.enabled},
            now=now,
        )
        return new

    return await ctx.db.write("update_routing_rule", txn)


async def check_order_rules(
    ctx: Context, principal: Principal, slug: str, rule_ids: Sequence[int]
) -> list[RoutingRule]:
    """Put the rules in this order (every rule of the company, each once)."""

    async def txn(uow: UnitOfWork) -> list[RoutingRule]:
        company = await access_company_txn(uow, principal, slug, Role.ADMIN)
        rules = await uow.routing.rules_of(company.id)
        order = _order(rule_ids, [r.id for r in rules], "ids")
        if order == [r.id for r in rules]:
            return rules
        await uow.routing.order_rules(company.id, [RoutingRuleId(i) for i in order])
        await audit_txn(
            uow,
            principal,
            company.id,
            "routing_rule.reordered",
            data={"ids": order},
            now=ctx.clock.now(),
        )
        return await uow.routing.rules_of(company.id)

    return await ctx.db.write("order_routing_rules", txn)


async def check_delete_rule(
    ctx: Context, principal: Principal, slug: str, rule_id: RoutingRuleId
) -> None:
    async def txn(uow: UnitOfWork) -> None:
        company = await access_company_txn(uow, principal, slug, Role.ADMIN)
        rule = await uow.routing.get_rule(company.id, rule_id)
        if rule is None:
            raise not_found("routing rule")
        await uow.routing.delete_rule(company.id, rule.id)
        await audit_txn(
            uow,
            principal,
            company.id,
            "routing_rule.deleted",
            target=f"routing_rule:{rule.id}",
            data={"name": rule.name},
            now=ctx.clock.now(),
        )

    await ctx.db.write("delete_routing_rule", txn)


async def check_put_settings(
    ctx: Context,
    principal: Principal,
    slug: str,
    *,
    topic_required: bool,
    default_team_id: int | None,
) -> RoutingSettings:
    async def txn(uow: UnitOfWork) -> RoutingSettings:
        company = await access_company_txn(uow, principal, slug, Role.ADMIN)
        team = None if default_team_id is None else TeamId(default_team_id)
        if team is not None and await uow.companies.get_team(company.id, team) is None:
            raise DomainError(
                ErrorCode.INVALID_TEAM, "no such team in this company", field="default_team_id"
            )
        new = RoutingSettings(company.id, topic_required, team)
        if new == await uow.routing.settings(company.id):
            return new
        await uow.routing.put_settings(new)
        await audit_txn(
            uow,
            principal,
            company.id,
            "routing.settings_changed",
            data={"topic_required": topic_required, "default_team_id": default_team_id},
            now=ctx.clock.now(),
        )
        return new

    return await ctx.db.write("put_routing_settings", txn)


# -- a team's auto-assignment ------------------------------------------------------------------


async def _team_view_txn(
    uow: UnitOfWork, company_id: CompanyId, team_id: TeamId
) -> TeamAssignmentView:
    if await uow.companies.get_team(company_id, team_id) is None:
        raise not_found("team")
    return TeamAssignmentView(
        await uow.routing.team_assignment(company_id, team_id),
        await uow.teams.members_of(company_id, team_id),
        (await uow.routing.overrides_of(company_id)).get(team_id, {}),
    )


async def get_team_assignment(
    ctx: Context, principal: Principal, slug: str, team_id: TeamId
) -> TeamAssignmentView:
    async def read(uow: UnitOfWork) -> TeamAssignmentView:
        company = await access_company_txn(uow, principal, slug, Role.AGENT)
        return await _team_view_txn(uow, company.id, team_id)

    return await ctx.db.read(read)


async def check_set_team_assignment(
    ctx: Context,
    principal: Principal,
    slug: str,
    team_id: TeamId,
    *,
    auto_assign: bool,
    max_open: int,
    overrides: Mapping[int, int | None],
) -> TeamAssignmentView:
    """Switch auto-assignment on or off and set the capacity: ``max_open`` open conversations
    per agent, ``overrides`` an agent's own (None: the team's again). Switching it on (or
    giving room) assigns what waits in the queue at once."""
    _max_open(max_open, "max_open")
    for value in overrides.values():
        if value is not None:
            _max_open(value, "overrides")

    async def txn(uow: UnitOfWork) -> TeamAssignmentView:
        company = await access_company_txn(uow, principal, slug, Role.ADMIN)
        before = await _team_view_txn(uow, company.id, team_id)
        if set(overrides) - set(before.members):
            raise DomainError(
                ErrorCode.INVALID_OWNER, "no such agent in this team", field="overrides"
            )
        now = ctx.clock.now()
        await uow.routing.set_team_assignment(
            company.id,
            team_id,
            auto_assign=auto_assign,
            max_open=max_open,
            overrides={AgentId(k): v for k, v in overrides.items()},
        )
        await audit_txn(
            uow,
            principal,
            company.id,
            "team.assignment_changed",
            target=f"team:{team_id}",
            data={
                "auto_assign": auto_assign,
                "max_open": max_open,
                "overrides": {str(k): v for k, v in sorted(overrides.items())},
            },
            now=now,
        )
        if auto_assign:
            await fill_teams_txn(uow, company.id, [team_id], now=now)
        return await _team_view_txn(uow, company.id, team_id)

    return await ctx.db.write("set_team_assignment", txn)


# -- a conversation's topic --------------------------------------------------------------------


async def check_set_topic(
    ctx: Context,
    principal: Principal,
    conversation_id: ConversationId,
    topic_id: int | None,
) -> Conversation:
    """Company members set (or clear) a conversation's topic. One without an agent is routed
    again by the company's rules; one an agent works on stays with them."""

    async def txn(uow: UnitOfWork) -> Conversation:
        conversation = await access_conversation_txn(
            uow, principal, conversation_id, for_update=True
        )
        if isinstance(principal, CustomerPrincipal):  # may see it, so 403 reveals nothing
            raise DomainError(ErrorCode.FORBIDDEN, "only the company changes the topic")
        require_role(principal, conversation.company_id, Role.AGENT)
        topic = None
        if topic_id is not None:
            found = await uow.routing.get_topic(
                conversation.company_id, ConversationTopicId(topic_id)
            )
            if found is None:
                raise DomainError(
                    ErrorCode.INVALID_CONVERSATION_TOPIC,
                    "no such topic at this company",
                    field="topic_id",
                )
            topic = found.id
        if topic == conversation.topic_id:
            return conversation
        now = ctx.clock.now()
        await uow.routing.set_conversation_topic(conversation.id, topic, now)
        changed = replace(conversation, topic_id=topic)
        if changed.owner_agent_id is None:
            text = await first_text_txn(uow, changed)
            return await route_txn(uow, ctx, changed, text=text, now=now)
        fresh = await uow.conversations.get(conversation.id)
        assert fresh is not None
        return fresh

    return await ctx.db.write("set_conversation_topic", txn)
