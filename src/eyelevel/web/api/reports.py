"""Company reports (docs/reports.md): JSON and CSV of the same numbers, for leads and admins."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from pydantic import Field

from eyelevel.core.actions import reports as actions
from eyelevel.core.actions.reports import Durations, Group, Report, ReportRow, TopicCount
from eyelevel.core.entities import Scope
from eyelevel.web.api.companies import Slug
from eyelevel.web.auth import CurrentPrincipal, Svc
from eyelevel.web.schemas import ERRORS, Out, problem_response
from eyelevel.web.scopes import needs

router = APIRouter(prefix="/api/v1/companies", tags=["reports"], responses=ERRORS)

From = Annotated[
    date,
    Query(alias="from", description="first day, YYYY-MM-DD in the company's time zone"),
]
To = Annotated[
    date,
    Query(
        alias="to",
        description=f"last day (included), at most {actions.MAX_DAYS} days after 'from'",
    ),
]
GroupQ = Annotated[Group, Query(description="one row per ISO week, team or agent")]
RANGE_ERRORS: dict[int | str, dict[str, Any]] = {
    422: problem_response(
        "a missing or malformed date (validation_error), 'to' before 'from' or more than "
        f"{actions.MAX_DAYS} days (invalid_report_range)"
    ),
    403: problem_response("not a lead or admin of the company (forbidden)"),
}


def _s(d: timedelta | None) -> float | None:
    return None if d is None else d.total_seconds()


class DurationsOut(Out):
    count: int = Field(description="how many durations were counted")
    median_s: float | None = Field(examples=[540.0], description="seconds; nearest rank")
    p90_s: float | None = Field(examples=[3600.0], description="seconds; nearest rank")

    @classmethod
    def of(cls, d: Durations) -> DurationsOut:
        return cls(count=d.count, median_s=_s(d.median), p90_s=_s(d.p90))


class TopicCountOut(Out):
    topic_id: int | None = Field(description="null: no topic")
    name: str | None = Field(examples=["Rechnung"])
    conversations: int

    @classmethod
    def of(cls, x: TopicCount) -> TopicCountOut:
        return cls(topic_id=x.topic_id, name=x.name, conversations=x.conversations)


class ReportRowOut(Out):
    key: str = Field(
        examples=["2026-W48"],
        description='ISO week "YYYY-Www", team or agent id, "none" (no team / unassigned), '
        'or "total"',
    )
    label: str = Field(examples=["2026-11-23"], description="week's Monday, team or agent name")
    conversations: int = Field(description="conversations started")
    promises_counted: int = Field(description="clocks that ended met or broken")
    promises_kept: int
    kept_share: float | None = Field(examples=[0.9], description="kept / counted; null: none")
    first_response: DurationsOut = Field(description="wall-clock, start to first answer")
    first_response_business: DurationsOut = Field(
        description="business time the first-response clock used until it was met"
    )
    resolution: DurationsOut = Field(description="wall-clock, start to the last resolution")
    by_channel: dict[str, int] = Field(examples=[{"messenger": 3, "widget": 0, "email": 1}])
    by_topic: list[TopicCountOut]
    ratings: int = Field(default=0, description="CSAT: customer ratings given in the period")
    csat_average: float | None = Field(
        default=None, description="CSAT: their average (1-5, two decimals); null without any"
    )

    @classmethod
    def of(cls, r: ReportRow) -> ReportRowOut:
        return cls(
            key=r.key,
            label=r.label,
            conversations=r.conversations,
            promises_counted=r.promises_counted,
            promises_kept=r.promises_kept,
            kept_share=r.kept_share,
            first_response=DurationsOut.of(r.first_response),
            first_response_business=DurationsOut.of(r.first_response_business),
            resolution=DurationsOut.of(r.resolution),
            by_channel=r.by_channel,
            by_topic=[TopicCountOut.of(x) for x in r.by_topic],
            ratings=r.ratings,
            csat_average=r.csat_average,
        )


class ReportOut(Out):
    from_: date = Field(alias="from", examples=["2026-11-02"])
    to: date = Field(examples=["2026-11-29"])
    group: Group
    timezone: str = Field(
        examples=["Europe/Berlin"], description="the company's: dates count in it"
    )
    generated_at: datetime
    topics: list[TopicCountOut] = Field(description="every topic with the period's count")
    rows: list[ReportRowOut]
    total: ReportRowOut

    @classmethod
    def of(cls, r: Report) -> ReportOut:
        return cls.model_validate(
            {
                "from": r.start,
                "to": r.end,
                "group": r.group,
                "timezone": r.company.timezone,
                "generated_at": r.generated_at,
                "topics": [TopicCountOut.of(x) for x in r.topics],
                "rows": [ReportRowOut.of(x) for x in r.rows],
                "total": ReportRowOut.of(r.total),
            }
        )


@router.get(
    "/{slug}/reports",
    summary="Promises kept, response and resolution times, volume (leads and admins)",
    responses=RANGE_ERRORS,
    response_model_by_alias=True,
    openapi_extra=needs(Scope.REPORTS_READ),
)
async def get_report(
    slug: Slug,
    svc: Svc,
    principal: CurrentPrincipal,
    start: From,
    end: To,
    group: GroupQ = Group.WEEK,
) -> ReportOut:
    """Computed from the conversations started and the SLA clocks started in the period; see
    docs/reports.md for what each number counts."""
    return ReportOut.of(
        await actions.company_report(svc.ctx, principal, slug, start=start, end=end, group=group)
    )


# -- CSV ---------------------------------------------------------------------------------------

CSV_MEDIA = "text/csv; charset=utf-8"


def safe_cell(value: object) -> str:
    """A spreadsheet never runs a cell as a formula: text starting with = + - @ (or a tab or
    carriage return) gets a leading apostrophe. Numbers are written by us and never negative."""
    text = "" if value is None else str(value)
    if text and text[0] in "=+-@\t\r":
        return "'" + text
    return text


def csv_rows(report: Report) -> list[list[str]]:
    channels = list(report.total.by_channel)
    header = [
        "group",
        "key",
        "label",
        "conversations",
        "promises_counted",
        "promises_kept",
        "kept_share",
        "first_response_count",
        "first_response_median_s",
        "first_response_p90_s",
        "first_response_business_count",
        "first_response_business_median_s",
        "first_response_business_p90_s",
        "resolution_count",
        "resolution_median_s",
        "resolution_p90_s",
        "csat_ratings",
        "csat_average",
        *(f"channel:{c}" for c in channels),
        *(f"topic:{x.name}" if x.topic_id is not None else "topic:(none)" for x in report.topics),
    ]
    out = [[safe_cell(h) for h in header]]
    for kind, row in [*((report.group.value, r) for r in report.rows), ("total", report.total)]:
        topics = {x.topic_id: x.conversations for x in row.by_topic}
        cells: list[object] = [
            kind,
            row.key,
            row.label,
            row.conversations,
            row.promises_counted,
            row.promises_kept,
            row.kept_share,
        ]
        for d in (row.first_response, row.first_response_business, row.resolution):
            cells += [d.count, _s(d.median), _s(d.p90)]
        cells += [row.ratings, row.csat_average]
        cells += [row.by_channel.get(c, 0) for c in channels]
        cells += [topics.get(x.topic_id, 0) for x in report.topics]
        out.append([safe_cell(c) for c in cells])
    return out


@router.get(
    "/{slug}/reports.csv",
    summary="The report as CSV (leads and admins)",
    response_class=Response,
    responses={
        **RANGE_ERRORS,
        200: {
            "content": {
                "text/csv": {
                    "example": "group,key,label,conversations,...\r\n"
                    "week,2026-W48,2026-11-23,4,...\r\n"
                }
            },
            "description": "a header row and one row per group, then the total (RFC 4180)",
        },
    },
    openapi_extra=needs(Scope.REPORTS_READ),
)
async def get_report_csv(
    slug: Slug,
    svc: Svc,
    principal: CurrentPrincipal,
    start: From,
    end: To,
    group: GroupQ = Group.WEEK,
) -> Response:
    report = await actions.company_report(
        svc.ctx, principal, slug, start=start, end=end, group=group
    )
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerows(csv_rows(report))
    name = f"eyelevel-report-{report.company.slug}-{group.value}-{start}-{end}.csv"
    return Response(
        buffer.getvalue(),
        media_type=CSV_MEDIA,
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "private, no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )
