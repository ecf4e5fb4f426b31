"""Company reports for leads and admins (docs/reports.md): share of promises kept, first
response and resolution times (median and p90), volume by topic and channel, grouped by ISO
week, team or agent over a period of company-local dates.

Nothing is stored: every number is computed on read from the conversations, their messages,
their ``conversation.status_changed`` events, the ``sla_clocks`` rows and the customers'
ratings (``conversation_ratings``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from eyelevel.core.actions.access import access_company_txn
from eyelevel.core.entities import Company, Role, Status
from eyelevel.core.errors import DomainError, ErrorCode
from eyelevel.core.ids import ConversationId
from eyelevel.core.ports import (
    Context,
    ReportClock,
    ReportConversation,
    ReportRating,
    UnitOfWork,
)
from eyelevel.core.principals import Principal
from eyelevel.core.rules.routing import CHANNELS

MAX_DAYS = 366
NONE_KEY = "none"


class Group(StrEnum):
    WEEK = "week"
    TEAM = "team"
    AGENT = "agent"


@dataclass(frozen=True, slots=True)
class Durations:
    """How many durations were counted, their median and 90th percentile (nearest rank)."""

    count: int
    median: timedelta | None
    p90: timedelta | None

    @classmethod
    def of(cls, values: Iterable[timedelta]) -> Durations:
        ordered = sorted(values)
        return cls(len(ordered), percentile(ordered, 50), percentile(ordered, 90))


def percentile(ordered: list[timedelta], p: int) -> timedelta | None:
    """Nearest rank: the value at 1-based rank ``ceil(p / 100 * n)`` of the sorted values."""
    if not ordered:
        return None
    return ordered[max(1, math.ceil(p * len(ordered) / 100)) - 1]


@dataclass(frozen=True, slots=True)
class TopicCount:
    topic_id: int | None
    name: str | None
    conversations: int


@dataclass(frozen=True, slots=True)
class ReportRow:
    """One group (a week, a team, an agent) or the period's total (``key`` "total")."""

    key: str
    label: str
    conversations: int
    promises_counted: int
    promises_kept: int
    first_response: Durations
    first_response_business: Durations
    resolution: Durations
    by_channel: dict[str, int]
    by_topic: list[TopicCount]
    # CSAT: the customers' ratings given in the period (1-5) and their average
    ratings: int = 0
    csat_average: float | None = None

    @property
    def kept_share(self) -> float | None:
        if not self.promises_counted:
            return None
        return self.promises_kept / self.promises_counted


@dataclass(frozen=True, slots=True)
class Report:
    company: Company
    start: date
    end: date
    group: Group
    generated_at: datetime
    topics: list[TopicCount]  # every topic of the company, with the period's totals
    rows: list[ReportRow]
    total: ReportRow


@dataclass(slots=True)
class _Bucket:
    conversations: list[ReportConversation] = field(default_factory=list)
    clocks: list[ReportClock] = field(default_factory=list)
    ratings: list[ReportRating] = field(default_factory=list)


def check_range(start: date, end: date) -> None:
    if end < start:
        raise DomainError(ErrorCode.INVALID_REPORT_RANGE, "'to' is before 'from'", field="to")
    if (end - start).days + 1 > MAX_DAYS:
        raise DomainError(
            ErrorCode.INVALID_REPORT_RANGE,
            f"a report covers at most {MAX_DAYS} days",
            field="to",
        )


def local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The instant the local date begins (a DST gap at midnight: the first instant after it)."""
    return datetime.combine(day, time(), zone).astimezone(UTC)


def iso_week(at: datetime, zone: ZoneInfo) -> str:
    year, week, _ = at.astimezone(zone).isocalendar()
    return f"{year}-W{week:02d}"


def is_kept(clock: ReportClock, now: datetime) -> bool | None:
    """True: met by its due time; False: broken; None: not counted (still running or paused
    and not yet due, or cancelled without a breach)."""
    if clock.breached_at is not None:
        return False
    if clock.met_at is not None:
        return clock.due_at is None or clock.met_at <= clock.due_at
    if clock.state in ("running", "paused") and clock.due_at is not None and clock.due_at <= now:
        return False
    return None


def first_response(c: ReportConversation) -> timedelta | None:
    """Start to the first answer, for conversations the customer started (their first message
    came before any answer); None: unanswered or started by the company."""
    if c.first_reply_at is None or c.first_customer_at is None:
        return None
    if c.first_reply_at < c.first_customer_at:
        return None
    return c.first_reply_at - c.created_at


def _row(
    key: str,
    label: str,
    bucket: _Bucket,
    *,
    now: datetime,
    topic_names: dict[int, str],
    business: dict[ConversationId, timedelta],
) -> ReportRow:
    verdicts = [v for v in (is_kept(k, now) for k in bucket.clocks) if v is not None]
    channels = dict.fromkeys(CHANNELS, 0)
    topics: dict[int | None, int] = {}
    for c in bucket.conversations:
        channels[c.channel] = channels.get(c.channel, 0) + 1
        topics[c.topic_id] = topics.get(c.topic_id, 0) + 1
    return ReportRow(
        key=key,
        label=label,
        conversations=len(bucket.conversations),
        promises_counted=len(verdicts),
        promises_kept=sum(verdicts),
        first_response=Durations.of(
            d for d in (first_response(c) for c in bucket.conversations) if d is not None
        ),
        first_response_business=Durations.of(
            business[c.id] for c in bucket.conversations if c.id in business
        ),
        resolution=Durations.of(
            c.resolved_at - c.created_at
            for c in bucket.conversations
            if c.resolved_at is not None and c.status == Status.RESOLVED
        ),
        ratings=len(bucket.ratings),
        csat_average=round(sum(r.score for r in bucket.ratings) / len(bucket.ratings), 2)
        if bucket.ratings
        else None,
        by_channel=channels,
        by_topic=[
            TopicCount(tid, topic_names.get(tid) if tid is not None else None, n)
            for tid, n in sorted(topics.items(), key=lambda kv: (kv[0] is None, kv[0] or 0))
        ],
    )


def _weeks(start: date, end: date) -> list[tuple[str, str]]:
    monday = start - timedelta(days=start.weekday())
    out = []
    while monday <= end:
        year, week, _ = monday.isocalendar()
        out.append((f"{year}-W{week:02d}", monday.isoformat()))
        monday += timedelta(days=7)
    return out


async def company_report(
    ctx: Context, principal: Principal, slug: str, *, start: date, end: date, group: Group
) -> Report:
    """The report over the company-local dates ``start``..``end`` (both included), for the
    company's leads and admins (and tokens acting for them)."""
    check_range(start, end)

    async def read(uow: UnitOfWork) -> Report:
        company = await access_company_txn(uow, principal, slug, Role.LEAD)
        zone = ZoneInfo(company.timezone)
        since = local_midnight(start, zone)
        until = local_midnight(end + timedelta(days=1), zone)
        conversations = await uow.reports.conversations_started(company.id, since, until)
        clocks = await uow.reports.clocks_started(company.id, since, until)
        topics = await uow.routing.topics_of(company.id)
        topic_names = {int(x.id): x.name for x in topics}
        if group == Group.WEEK:
            labels = dict(_weeks(start, end))
            conv_key: Callable[[ReportConversation], str] = lambda c: iso_week(c.created_at, zone)  # noqa: E731
            clock_key: Callable[[ReportClock], str] = lambda k: iso_week(k.started_at, zone)  # noqa: E731
            rating_key: Callable[[ReportRating], str] = lambda r: iso_week(r.rated_at, zone)  # noqa: E731
        elif group == Group.TEAM:
            labels = {str(x.id): x.name for x in await uow.companies.teams_of(company.id)}
            conv_key = lambda c: str(c.team_id) if c.team_id is not None else NONE_KEY  # noqa: E731
            clock_key = lambda k: str(k.team_id) if k.team_id is not None else NONE_KEY  # noqa: E731
            rating_key = lambda r: str(r.team_id) if r.team_id is not None else NONE_KEY  # noqa: E731
        else:
            labels = {str(a.id): a.name for a, _ in await uow.companies.members(company.id)}
            conv_key = lambda c: str(c.agent_id) if c.agent_id is not None else NONE_KEY  # noqa: E731
            clock_key = lambda k: str(k.agent_id) if k.agent_id is not None else NONE_KEY  # noqa: E731
            rating_key = lambda r: str(r.agent_id) if r.agent_id is not None else NONE_KEY  # noqa: E731
        buckets = {key: _Bucket() for key in labels}
        total = _Bucket()
        for c in conversations:
            buckets.setdefault(conv_key(c), _Bucket()).conversations.append(c)
            total.conversations.append(c)
        for k in clocks:
            buckets.setdefault(clock_key(k), _Bucket()).clocks.append(k)
            total.clocks.append(k)
        for rating in await uow.reports.ratings_given(company.id, since, until):
            buckets.setdefault(rating_key(rating), _Bucket()).ratings.append(rating)
            total.ratings.append(rating)
        business = {
            k.conversation_id: k.elapsed
            for k in clocks
            if k.target == "first_response" and k.met_at is not None
        }
        now = ctx.clock.now()
        none_label = {Group.WEEK: "", Group.TEAM: "No team", Group.AGENT: "Unassigned"}[group]
        rows = [
            _row(
                key,
                labels.get(key, none_label if key == NONE_KEY else key),
                bucket,
                now=now,
                topic_names=topic_names,
                business=business,
            )
            for key, bucket in _ordered(buckets, group, labels)
        ]
        total_row = _row(
            "total", "Total", total, now=now, topic_names=topic_names, business=business
        )
        counts = {t.topic_id: t.conversations for t in total_row.by_topic}
        all_topics = [TopicCount(int(x.id), x.name, counts.get(int(x.id), 0)) for x in topics]
        all_topics.append(TopicCount(None, None, counts.get(None, 0)))
        return Report(company, start, end, group, now, all_topics, rows, total_row)

    return await ctx.db.read(read)


def _ordered(
    buckets: dict[str, _Bucket], group: Group, labels: dict[str, str]
) -> list[tuple[str, _Bucket]]:
    if group == Group.WEEK:
        return sorted(buckets.items())
    return sorted(
        buckets.items(),
        key=lambda kv: (kv[0] == NONE_KEY, labels.get(kv[0], kv[0]).casefold(), kv[0]),
    )
