"""Routing: a company's conversation topics, routing rules and settings, a team's
auto-assignment, and a conversation's topic (docs/routing.md)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, status
from pydantic import Field

from eyelevel.core.actions import routing
from eyelevel.core.entities import Scope
from eyelevel.core.ids import ConversationId, ConversationTopicId, RoutingRuleId, TeamId
from eyelevel.core.rules.routing import (
    Conditions,
    ConversationTopic,
    RoutingRule,
    RoutingSettings,
)
from eyelevel.web.api import conversations
from eyelevel.web.api.companies import Slug
from eyelevel.web.auth import CurrentCaller, CurrentPrincipal, Svc
from eyelevel.web.schemas import ERRORS, ConversationOut, In, Out
from eyelevel.web.scopes import needs

router = APIRouter(prefix="/api/v1", tags=["routing"], responses=ERRORS)
TopicPath = Annotated[int, Path(ge=1, le=2**62, description="conversation topic id")]
RulePath = Annotated[int, Path(ge=1, le=2**62, description="routing rule id")]
TeamPath = Annotated[int, Path(ge=1, le=2**62, description="team id")]
ConvId = Annotated[int, Path(ge=1, le=2**62, description="conversation id")]
Id = Annotated[int, Field(ge=1, le=2**62)]


# -- shapes ------------------------------------------------------------------------------------


class TopicIn(In):
    name: str = Field(max_length=200, examples=["Rechnung"], description="1-60 characters")
    active: bool = Field(default=True, description="offered to customers")
    opens_complaint: bool = Field(
        default=False,
        description="a conversation started with this topic is a complaint case from the start",
    )


class TopicPatchIn(In):
    name: str | None = Field(default=None, max_length=200, examples=["Technik"])
    active: bool | None = None
    opens_complaint: bool | None = None


class OrderIn(In):
    ids: list[Id] = Field(
        max_length=200, examples=[[3, 1, 2]], description="every id of the list, each once"
    )


class TopicOut(Out):
    id: int
    name: str
    position: int
    active: bool
    opens_complaint: bool

    @classmethod
    def of(cls, t: ConversationTopic) -> TopicOut:
        return cls(
            id=t.id,
            name=t.name,
            position=t.position,
            active=t.active,
            opens_complaint=t.opens_complaint,
        )


class TopicListOut(Out):
    required: bool = Field(description="a customer must choose a topic to start a conversation")
    items: list[TopicOut] = Field(description="in the company's order")


class ConditionsIn(In):
    channels: list[Literal["messenger", "widget", "email", "api"]] = Field(
        default_factory=list, max_length=4, description="any of these channels ([]: any)"
    )
    topic_ids: list[Id] = Field(
        default_factory=list, max_length=50, description="any of these topics ([]: any)"
    )
    keywords: list[Annotated[str, Field(max_length=200)]] = Field(
        default_factory=list,
        max_length=50,
        examples=[["Rechnung", "Mahnung"]],
        description="any of these in the first message, whole words, ignoring case ([]: any)",
    )
    languages: list[Annotated[str, Field(max_length=20)]] = Field(
        default_factory=list,
        max_length=20,
        examples=[["de"]],
        description="primary language tags of the customer's messenger ([]: any)",
    )
    business_hours: Literal["open", "closed"] | None = Field(
        default=None, description="within (open) or outside (closed) business hours; null: any"
    )


class ConditionsOut(Out):
    channels: list[str]
    topic_ids: list[int]
    keywords: list[str]
    languages: list[str]
    business_hours: str | None

    @classmethod
    def of(cls, c: Conditions) -> ConditionsOut:
        return cls.model_validate(c.to_json())


class RuleIn(In):
    name: str = Field(max_length=200, examples=["Rechnungsfragen"])
    conditions: ConditionsIn = Field(default_factory=ConditionsIn)
    team_id: int = Field(ge=1, le=2**62, description="the team the conversation goes to")
    enabled: bool = True


class RulePatchIn(In):
    name: str | None = Field(default=None, max_length=200, examples=["Rechnungen an Buchhaltung"])
    conditions: ConditionsIn | None = Field(default=None, description="replaces all conditions")
    team_id: int | None = Field(default=None, ge=1, le=2**62)
    enabled: bool | None = None


class RuleOut(Out):
    id: int
    name: str
    position: int = Field(description="rules are tried in ascending position; first match wins")
    enabled: bool
    conditions: ConditionsOut
    team_id: int

    @classmethod
    def of(cls, r: RoutingRule) -> RuleOut:
        return cls(
            id=r.id,
            name=r.name,
            position=r.position,
            enabled=r.enabled,
            conditions=ConditionsOut.of(r.conditions),
            team_id=r.team_id,
        )


class SettingsIn(In):
    topic_required: bool = Field(description="customers must choose a topic", examples=[True])
    default_team_id: int | None = Field(
        default=None, ge=1, le=2**62, description="where a conversation goes when no rule matches"
    )


class SettingsOut(Out):
    topic_required: bool
    default_team_id: int | None

    @classmethod
    def of(cls, s: RoutingSettings) -> SettingsOut:
        return cls(topic_required=s.topic_required, default_team_id=s.default_team_id)


class RulesOut(Out):
    items: list[RuleOut]
    settings: SettingsOut


class OverrideIo(In):
    agent_id: int = Field(ge=1, le=2**62)
    max_open: int | None = Field(
        ge=1, le=1000, description="the agent's own capacity in this team; null: the team's"
    )


class TeamAssignmentIn(In):
    auto_assign: bool = Field(description="give queued conversations to online agents")
    max_open: int = Field(
        ge=1, le=1000, examples=[5], description="open conversations per agent (capacity)"
    )
    overrides: list[OverrideIo] = Field(default_factory=list, max_length=1000)


class OverrideOut(Out):
    agent_id: int
    max_open: int


class TeamAssignmentOut(Out):
    team_id: int
    auto_assign: bool
    max_open: int
    overrides: list[OverrideOut] = Field(description="agents with their own capacity")


class ConversationTopicIn(In):
    topic_id: int | None = Field(ge=1, le=2**62, description="null clears the topic", examples=[3])


def _team_out(view: routing.TeamAssignmentView) -> TeamAssignmentOut:
    return TeamAssignmentOut(
        team_id=view.assignment.team_id,
        auto_assign=view.assignment.auto_assign,
        max_open=view.assignment.max_open,
        overrides=[OverrideOut(agent_id=a, max_open=n) for a, n in sorted(view.overrides.items())],
    )


# -- conversation topics -----------------------------------------------------------------------


@router.get(
    "/companies/{slug}/conversation-topics",
    summary="The company's conversation topics (public; members also see inactive ones)",
)
async def list_topics(slug: Slug, svc: Svc, caller: CurrentCaller) -> TopicListOut:
    found = await routing.list_topics(svc.ctx, caller.principal, slug)
    return TopicListOut(required=found.required, items=[TopicOut.of(t) for t in found.topics])


@router.post(
    "/companies/{slug}/conversation-topics",
    status_code=status.HTTP_201_CREATED,
    summary="Add a conversation topic at the end (admins)",
)
async def create_topic(
    slug: Slug, body: TopicIn, svc: Svc, principal: CurrentPrincipal
) -> TopicOut:
    """A name the company already uses (ignoring case) is refused with
    ``conversation_topic_taken``."""
    topic = await routing.check_create_topic(
        svc.ctx,
        principal,
        slug,
        name=body.name,
        active=body.active,
        opens_complaint=body.opens_complaint,
    )
    return TopicOut.of(topic)


@router.put(
    "/companies/{slug}/conversation-topics/order",
    summary="Put the conversation topics in an order (admins)",
)
async def order_topics(
    slug: Slug, body: OrderIn, svc: Svc, principal: CurrentPrincipal
) -> list[TopicOut]:
    topics = await routing.check_order_topics(svc.ctx, principal, slug, body.ids)
    return [TopicOut.of(t) for t in topics]


@router.patch(
    "/companies/{slug}/conversation-topics/{topic_id}",
    summary="Rename a conversation topic or switch it on or off (admins)",
)
async def update_topic(
    slug: Slug, topic_id: TopicPath, body: TopicPatchIn, svc: Svc, principal: CurrentPrincipal
) -> TopicOut:
    topic = await routing.check_update_topic(
        svc.ctx,
        principal,
        slug,
        ConversationTopicId(topic_id),
        name=body.name,
        active=body.active,
        opens_complaint=body.opens_complaint,
    )
    return TopicOut.of(topic)


@router.delete(
    "/companies/{slug}/conversation-topics/{topic_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete an unused conversation topic (admins)",
)
async def delete_topic(
    slug: Slug, topic_id: TopicPath, svc: Svc, principal: CurrentPrincipal
) -> None:
    """A topic that conversations or rules use is refused with
    ``conversation_topic_in_use``: switch it off instead."""
    await routing.check_delete_topic(svc.ctx, principal, slug, ConversationTopicId(topic_id))


# -- routing rules and settings ----------------------------------------------------------------


@router.get("/companies/{slug}/routing-rules", summary="Routing rules in order (members)")
async def list_rules(slug: Slug, svc: Svc, principal: CurrentPrincipal) -> RulesOut:
    rules, settings = await routing.list_rules(svc.ctx, principal, slug)
    return RulesOut(items=[RuleOut.of(r) for r in rules], settings=SettingsOut.of(settings))


@router.post(
    "/companies/{slug}/routing-rules",
    status_code=status.HTTP_201_CREATED,
    summary="Add a routing rule at the end (admins)",
)
async def create_rule(slug: Slug, body: RuleIn, svc: Svc, principal: CurrentPrincipal) -> RuleOut:
    """A team or topic that is not the company's is refused with ``invalid_team`` or
    ``invalid_conversation_topic``."""
    rule = await routing.check_create_rule(
        svc.ctx,
        principal,
        slug,
        name=body.name,
        conditions=body.conditions.model_dump(),
        team_id=body.team_id,
        enabled=body.enabled,
    )
    return RuleOut.of(rule)


@router.put("/companies/{slug}/routing-rules/order", summary="Reorder routing rules (admins)")
async def order_rules(
    slug: Slug, body: OrderIn, svc: Svc, principal: CurrentPrincipal
) -> list[RuleOut]:
    rules = await routing.check_order_rules(svc.ctx, principal, slug, body.ids)
    return [RuleOut.of(r) for r in rules]


@router.patch("/companies/{slug}/routing-rules/{rule_id}", summary="Change a rule (admins)")
async def update_rule(
    slug: Slug, rule_id: RulePath, body: RulePatchIn, svc: Svc, principal: CurrentPrincipal
) -> RuleOut:
    rule = await routing.check_update_rule(
        svc.ctx,
        principal,
        slug,
        RoutingRuleId(rule_id),
        name=body.name,
        conditions=None if body.conditions is None else body.conditions.model_dump(),
        team_id=body.team_id,
        enabled=body.enabled,
    )
    return RuleOut.of(rule)


@router.delete(
    "/companies/{slug}/routing-rules/{rule_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a routing rule (admins)",
)
async def delete_rule(slug: Slug, rule_id: RulePath, svc: Svc, principal: CurrentPrincipal) -> None:
    await routing.check_delete_rule(svc.ctx, principal, slug, RoutingRuleId(rule_id))


@router.put(
    "/companies/{slug}/routing-settings",
    summary="Whether a topic is required, and the default team (admins)",
)
async def put_settings(
    slug: Slug, body: SettingsIn, svc: Svc, principal: CurrentPrincipal
) -> SettingsOut:
    settings = await routing.check_put_settings(
        svc.ctx,
        principal,
        slug,
        topic_required=body.topic_required,
        default_team_id=body.default_team_id,
    )
    return SettingsOut.of(settings)


# -- a team's auto-assignment ------------------------------------------------------------------


@router.get(
    "/companies/{slug}/teams/{team_id}/assignment",
    summary="A team's auto-assignment and capacity (members)",
)
async def get_team_assignment(
    slug: Slug, team_id: TeamPath, svc: Svc, principal: CurrentPrincipal
) -> TeamAssignmentOut:
    view = await routing.get_team_assignment(svc.ctx, principal, slug, TeamId(team_id))
    return _team_out(view)


@router.put(
    "/companies/{slug}/teams/{team_id}/assignment",
    summary="Set a team's auto-assignment and capacity (admins)",
)
async def put_team_assignment(
    slug: Slug,
    team_id: TeamPath,
    body: TeamAssignmentIn,
    svc: Svc,
    principal: CurrentPrincipal,
) -> TeamAssignmentOut:
    """An override for an agent who is not in the team is refused with ``invalid_owner``.
    Switching auto-assignment on assigns what waits in the team's queue at once."""
    view = await routing.check_set_team_assignment(
        svc.ctx,
        principal,
        slug,
        TeamId(team_id),
        auto_assign=body.auto_assign,
        max_open=body.max_open,
        overrides={o.agent_id: o.max_open for o in body.overrides},
    )
    return _team_out(view)


# -- a conversation's topic --------------------------------------------------------------------


@router.put(
    "/conversations/{conversation_id}/topic",
    summary="Set a conversation's topic; without an agent it is routed again (members)",
    openapi_extra=needs(Scope.CONVERSATIONS_WRITE),
)
async def set_topic(
    conversation_id: ConvId, body: ConversationTopicIn, svc: Svc, principal: CurrentPrincipal
) -> ConversationOut:
    """A topic that is not the conversation's company's is refused with
    ``invalid_conversation_topic``. Returns the conversation as ``GET`` shows it."""
    await routing.check_set_topic(
        svc.ctx, principal, ConversationId(conversation_id), body.topic_id
    )
    return await conversations.get(conversation_id, svc, principal)
