"""Customer satisfaction: a customer's rating of a resolved conversation (docs/api.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import Field

from eyelevel.core.actions import ratings
from eyelevel.core.entities import Scope
from eyelevel.core.ids import ConversationId
from eyelevel.web.auth import CurrentPrincipal, Svc
from eyelevel.web.schemas import ERRORS, In, Out
from eyelevel.web.scopes import needs

router = APIRouter(prefix="/api/v1/conversations", tags=["ratings"], responses=ERRORS)
ConvId = Annotated[int, Path(ge=1, le=2**62, description="conversation id")]


class RatingIn(In):
    score: int = Field(ge=1, le=5, examples=[5], description="1 (poor) to 5 (excellent)")
    comment: str = Field(
        default="",
        max_length=ratings.MAX_COMMENT + 1000,
        examples=["Schnell und freundlich, danke!"],
    )


class RatingOut(Out):
    score: int | None = Field(description="null: not rated")
    comment: str
    rated_at: datetime | None
    requested: bool = Field(
        description="for the customer: a rating is asked for now (resolved, and feedback "
        "requests allowed); always false for the company"
    )

    @classmethod
    def of(cls, view: ratings.RatingView) -> RatingOut:
        r = view.rating
        return cls(
            score=r.score if r else None,
            comment=r.comment if r else "",
            rated_at=r.updated_at if r else None,
            requested=view.requested,
        )


@router.get(
    "/{conversation_id}/rating",
    summary="The conversation's rating (CSAT)",
    openapi_extra=needs(Scope.CONVERSATIONS_READ),
)
async def get_rating(conversation_id: ConvId, svc: Svc, principal: CurrentPrincipal) -> RatingOut:
    return RatingOut.of(
        await ratings.view_rating(svc.ctx, principal, ConversationId(conversation_id))
    )


@router.put("/{conversation_id}/rating", summary="Rate a resolved conversation (its customer)")
async def rate(
    conversation_id: ConvId, body: RatingIn, svc: Svc, principal: CurrentPrincipal
) -> RatingOut:
    """Only when resolved (else ``409 conversation_not_resolved``) and when the customer allows
    feedback requests from this company (else ``409 feedback_not_requested``); company members
    get ``403``. Rating again replaces the rating; ``conversation.rated`` tells the company."""
    view = await ratings.check_rate(
        svc.ctx,
        principal,
        ConversationId(conversation_id),
        score=body.score,
        comment=body.comment,
    )
    return RatingOut.of(view)
