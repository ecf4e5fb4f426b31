"""The agent inbox's sidebar counts (members of a company)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import Field

from eyelevel.core import queries
from eyelevel.core.entities import Scope, Status
from eyelevel.web.auth import CurrentPrincipal, Svc
from eyelevel.web.schemas import ERRORS, Out
from eyelevel.web.scopes import needs

router = APIRouter(prefix="/api/v1/companies", tags=["inbox"], responses=ERRORS)
Slug = Annotated[str, Path(max_length=50, pattern=r"^[a-z0-9-]+$")]


class StatusCountsOut(Out):
    open: int
    pending: int
    snoozed: int
    resolved: int


class InboxCountsOut(Out):
    mine: int = Field(description="owned by me (0 for an API token)")
    unassigned: int = Field(description="no agent owns them (team queues included)")
    all: int | None = Field(description="every one; leads and admins (null for agents)")
    mentions: int = Field(description="with a private note that mentions me")
    teams: dict[str, int] = Field(description="team id → owned by that team's queue")
    status: StatusCountsOut = Field(description="all of the company's, per status")


@router.get(
    "/{slug}/inbox",
    summary="The inbox's counts for one status (members)",
    openapi_extra=needs(Scope.REPORTS_READ),
)
async def inbox_counts(
    slug: Slug,
    svc: Svc,
    principal: CurrentPrincipal,
    status: Annotated[Status, Query(description="the status the views count")] = Status.OPEN,
) -> InboxCountsOut:
    """Every number except ``status`` counts conversations in the given status."""
    found = await queries.inbox_counts(svc.ctx, principal, slug, status)
    c = found.counts
    return InboxCountsOut(
        mine=c.mine,
        unassigned=c.unassigned,
        all=c.all if found.all_visible else None,
        mentions=c.mentions,
        teams={str(t): c.teams.get(t, 0) for t in found.team_ids},
        status=StatusCountsOut(**{s.value: n for s, n in c.statuses.items()}),
    )
