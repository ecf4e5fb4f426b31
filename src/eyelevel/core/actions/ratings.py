"""Customer satisfaction (CSAT): the customer rates a resolved conversation, 1 to 5 and an
optional comment — only when they opted into feedback requests from that company (the contact
topic ``feedback``, docs/privacy.md). A later rating replaces the earlier one; the rating is
counted for the agent and team who owned the conversation when it was given (docs/reports.md).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from eyelevel.core.actions.access import access_conversation_txn
from eyelevel.core.actions.notifications import preferences_txn
from eyelevel.core.entities import Conversation, Rating, Status
from eyelevel.core.errors import DomainError, ErrorCode
from eyelevel.core.events import conversation_rated
from eyelevel.core.ids import ConversationId
from eyelevel.core.ports import Context, UnitOfWork
from eyelevel.core.principals import CustomerPrincipal, Principal
from eyelevel.core.rules.contact import FEEDBACK, topic_permitted

MAX_COMMENT = 2000


@dataclass(frozen=True, slots=True)
class RatingView:
    """The conversation's rating (None: none yet) and, for its customer, whether a rating is
    asked for now (resolved, and feedback requests allowed)."""

    rating: Rating | None
    requested: bool


async def _requested_txn(uow: UnitOfWork, conversation: Conversation) -> bool:
    if conversation.status != Status.RESOLVED:
        return False
    prefs = await preferences_txn(uow, conversation.customer_id, conversation.company_id)
    return topic_permitted(prefs, FEEDBACK)


async def view_rating(
    ctx: Context, principal: Principal, conversation_id: ConversationId
) -> RatingView:
    async def read(uow: UnitOfWork) -> RatingView:
        conversation = await access_conversation_txn(uow, principal, conversation_id)
        rating = await uow.ratings.get(conversation.company_id, conversation.id)
        requested = isinstance(principal, CustomerPrincipal) and await _requested_txn(
            uow, conversation
        )
        return RatingView(rating, requested)

    return await ctx.db.read(read)


async def check_rate(
    ctx: Context,
    principal: Principal,
    conversation_id: ConversationId,
    *,
    score: int,
    comment: str,
) -> RatingView:
    """The customer rates the conversation (or changes their rating). Refused with
    ``conversation_not_resolved`` unless it is resolved, and ``feedback_not_requested``
    unless the customer allows feedback requests from this company."""
    if not 1 <= score <= 5:
        raise DomainError(ErrorCode.VALIDATION, "score must be 1 to 5", field="score")
    comment = comment.strip()
    if len(comment) > MAX_COMMENT:
        raise DomainError(
            ErrorCode.VALIDATION,
            f"comment must have at most {MAX_COMMENT} characters",
            field="comment",
        )

    async def txn(uow: UnitOfWork) -> RatingView:
        conversation = await access_conversation_txn(
            uow, principal, conversation_id, for_update=True
        )
        if not isinstance(principal, CustomerPrincipal):
            raise DomainError(ErrorCode.FORBIDDEN, "only the customer rates a conversation")
        if conversation.status != Status.RESOLVED:
            raise DomainError(
                ErrorCode.CONVERSATION_NOT_RESOLVED, "a conversation is rated once resolved"
            )
        if not await _requested_txn(uow, conversation):
            raise DomainError(
                ErrorCode.FEEDBACK_NOT_REQUESTED,
                "feedback requests from this company are switched off",
            )
        now = ctx.clock.now()
        earlier = await uow.ratings.get(conversation.company_id, conversation.id)
        rating = Rating(
            company_id=conversation.company_id,
            conversation_id=conversation.id,
            customer_id=conversation.customer_id,
            score=score,
            comment=comment,
            agent_id=conversation.owner_agent_id,
            team_id=conversation.owner_team_id,
            created_at=now,
            updated_at=now,
        )
        if earlier is not None:
            if (earlier.score, earlier.comment) == (score, comment):
                return RatingView(earlier, True)
            rating = replace(rating, created_at=earlier.created_at)
        await uow.ratings.save(rating, new=earlier is None)
        await uow.emit(
            conversation_rated(
                conversation.company_id, conversation.id, conversation.customer_id, score
            ),
            now,
        )
        return RatingView(rating, True)

    return await ctx.db.write("rate_conversation", txn)
