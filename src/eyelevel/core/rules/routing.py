"""Routing: which team a new conversation goes to, and which agent of a team takes it next.

Pure decisions over plain values; ``core.actions.assignment`` reads the facts, calls these
and writes the outcome. docs/routing.md describes the behaviour for admins.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from eyelevel.core.ids import (
    AgentId,
    CompanyId,
    ConversationTopicId,
    RoutingRuleId,
    TeamId,
)

CHANNELS = ("messenger", "widget", "email", "api")
HOURS = ("open", "closed")  # within / outside the company's business hours


@dataclass(frozen=True, slots=True)
class ConversationTopic:
    """One entry of the company's list of conversation topics (not a notification topic)."""

    id: ConversationTopicId
    company_id: CompanyId
    name: str
    position: int
    active: bool
    # a conversation started with this topic is a complaint case from the start
    # (docs/complaints.md)
    opens_complaint: bool = False


@dataclass(frozen=True, slots=True)
class Conditions:
    """What a conversation must have for a rule to match.

    Every condition that is set must hold; inside one condition any listed value will do.
    A rule without conditions matches every conversation (a catch-all at the end).
    """

    channels: tuple[str, ...] = ()
    topic_ids: tuple[ConversationTopicId, ...] = ()
    keywords: tuple[str, ...] = ()  # in the first message, case-insensitive, whole words
    languages: tuple[str, ...] = ()  # primary language subtags, lower case ("de", "en")
    business_hours: str | None = None  # "open" | "closed" | None (any time)

    def to_json(self) -> dict[str, Any]:
        return {
            "channels": list(self.channels),
            "topic_ids": list(self.topic_ids),
            "keywords": list(self.keywords),
            "languages": list(self.languages),
            "business_hours": self.business_hours,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Conditions:
        return cls(
            channels=tuple(data.get("channels", ())),
            topic_ids=tuple(ConversationTopicId(i) for i in data.get("topic_ids", ())),
            keywords=tuple(data.get("keywords", ())),
            languages=tuple(data.get("languages", ())),
            business_hours=data.get("business_hours"),
        )


@dataclass(frozen=True, slots=True)
class RoutingRule:
    id: RoutingRuleId
    company_id: CompanyId
    name: str
    position: int
    enabled: bool
    conditions: Conditions
    team_id: TeamId


@dataclass(frozen=True, slots=True)
class RoutingSettings:
    company_id: CompanyId
    topic_required: bool = False
    default_team_id: TeamId | None = None


@dataclass(frozen=True, slots=True)
class TeamAssignment:
    """A team's auto-assignment settings and the round robin's position."""

    team_id: TeamId
    auto_assign: bool
    max_open: int
    last_assigned_agent_id: AgentId | None


@dataclass(frozen=True, slots=True)
class TeamAgent:
    team_id: TeamId
    agent_id: AgentId
    online: bool  # an active agent, active in the company, presence "online"
    max_open: int | None  # the agent's own capacity in the team


@dataclass(frozen=True, slots=True)
class Facts:
    """What routing knows about a conversation when it starts (or its topic changes)."""

    channel: str
    topic_id: ConversationTopicId | None
    text: str  # the first message
    language: str | None
    open_now: bool  # within the company's business hours at that moment


def primary_language(tag: str | None) -> str | None:
    """``"de-AT"`` → ``"de"``; None for nothing usable."""
    if not tag:
        return None
    primary = tag.split("-", 1)[0].split("_", 1)[0].strip().lower()
    return primary or None


@lru_cache(maxsize=512)
def _word(keyword: str) -> re.Pattern[str]:
    # whole words: no letter, digit or underscore may touch the keyword on either side
    return re.compile(rf"(?<!\w){re.escape(keyword.casefold())}(?!\w)")


def keyword_in(keyword: str, text: str) -> bool:
    """Whether ``keyword`` (one or more words) occurs in ``text`` as whole words, ignoring
    case: "Rechnung" matches "meine rechnung!" but not "Rechnungsadresse"."""
    return bool(keyword.strip()) and _word(keyword.strip()).search(text.casefold()) is not None


def matches(conditions: Conditions, facts: Facts) -> bool:
    if conditions.channels and facts.channel not in conditions.channels:
        return False
    if conditions.topic_ids and facts.topic_id not in conditions.topic_ids:
        return False
    if conditions.languages and primary_language(facts.language) not in conditions.languages:
        return False
    if conditions.business_hours is not None and facts.open_now != (
        conditions.business_hours == "open"
    ):
        return False
    return not conditions.keywords or any(keyword_in(k, facts.text) for k in conditions.keywords)


def first_match(rules: Sequence[RoutingRule], facts: Facts) -> RoutingRule | None:
    """The first enabled rule, in the company's order, whose conditions all hold."""
    for rule in sorted(rules, key=lambda r: (r.position, r.id)):
        if rule.enabled and matches(rule.conditions, facts):
            return rule
    return None


@dataclass(frozen=True, slots=True)
class Candidate:
    """An agent of a team as auto-assignment sees them."""

    agent_id: AgentId
    online: bool
    open_count: int  # conversations they own in the company that are not resolved
    capacity: int  # the team's max_open, or the agent's own in that team

    @property
    def available(self) -> bool:
        return self.online and self.open_count < self.capacity


@dataclass(slots=True)
class RoundRobin:
    """The order in which a team's agents take conversations: ascending agent id, starting
    after the one who took the last, skipping whoever is offline or full."""

    candidates: list[Candidate]
    last: AgentId | None
    taken: dict[AgentId, int] = field(default_factory=dict)

    def next(self) -> AgentId | None:
        """The next available agent (counting what this round already gave them), or None
        when nobody can take another conversation."""
        ordered = sorted(self.candidates, key=lambda c: c.agent_id)
        if not ordered:
            return None
        start = 0
        if self.last is not None:
            start = next((i for i, c in enumerate(ordered) if c.agent_id > self.last), 0)
        for i in range(len(ordered)):
            c = ordered[(start + i) % len(ordered)]
            extra = self.taken.get(c.agent_id, 0)
            if c.online and c.open_count + extra < c.capacity:
                self.taken[c.agent_id] = extra + 1
                self.last = c.agent_id
                return c.agent_id
        return None
