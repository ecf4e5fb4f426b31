"""Erasure: the customer deletes their account; a company's legal holds on conversations
(docs/privacy.md, *Erasure*)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from pydantic import Field

from eyelevel.core.actions import erasure
from eyelevel.core.entities import Scope
from eyelevel.core.errors import not_found
from eyelevel.core.ids import ConversationId
from eyelevel.core.ports import LegalHold
from eyelevel.web.api.companies import Slug
from eyelevel.web.auth import CurrentPrincipal, Svc, clear_session_cookies
from eyelevel.web.ratelimit import sign_in_attempt
from eyelevel.web.schemas import ERRORS, In, Out, problem_response
from eyelevel.web.scopes import needs

router = APIRouter(prefix="/api/v1", tags=["privacy"], responses=ERRORS)
ConvId = Annotated[int, Path(ge=1, le=2**62, description="conversation id")]


class ErasureIn(In):
    password: str | None = Field(
        default=None,
        max_length=256,
        description="the account's password (a website visitor without one leaves it out)",
        examples=["correct horse battery staple"],
    )


class ErasureOut(Out):
    erased_conversations: int = Field(description="conversations deleted, with every company")
    held_conversations: int = Field(
        description="conversations companies keep under legal hold (restricted; deleted when "
        "the hold ends)"
    )


@router.post(
    "/me/erasure",
    summary="Delete my account and my data (customers)",
    responses={
        401: problem_response("the password is wrong (invalid_credentials), or not signed in"),
        429: problem_response("too many wrong passwords (rate_limited)"),
    },
)
async def erase_me(
    body: ErasureIn, svc: Svc, principal: CurrentPrincipal, request: Request, response: Response
) -> ErasureOut:
    """Irreversible. Every conversation with every company is deleted (except those a company
    keeps under legal hold: restricted, and deleted when the hold ends), with the profile,
    customer numbers, shares, exports and sessions; the account keeps no email, password or
    name. The session ends (its cookies are cleared) and every open socket closes. Companies
    receive ``customer.erased``."""
    async with sign_in_attempt(request):
        result = await erasure.check_erase_account(svc.ctx, principal, password=body.password)
    clear_session_cookies(response)
    return ErasureOut(erased_conversations=result.erased, held_conversations=result.held)


class LegalHoldIn(In):
    reason: str = Field(
        max_length=1000,
        description="why the company must keep it (shown to its leads and admins, audited)",
        examples=["Pending court case 12 O 345/26"],
    )


class LegalHoldOut(Out):
    conversation_id: int
    reason: str
    created_by: str = Field(description='"agent:<id>" or "token:<id>"')
    created_at: datetime
    restricted: bool = Field(
        description="the customer was erased: only admins may open it; lifting the hold deletes it"
    )

    @classmethod
    def of(cls, h: LegalHold) -> LegalHoldOut:
        return cls(
            conversation_id=h.conversation_id,
            reason=h.reason,
            created_by=h.created_by,
            created_at=h.created_at,
            restricted=h.restricted,
        )


class LiftedOut(Out):
    erased: bool = Field(
        description="the customer had been erased: the conversation was deleted now"
    )


@router.get(
    "/conversations/{conversation_id}/legal-hold",
    summary="A conversation's legal hold (company members)",
    responses={404: problem_response("no such conversation, or it is not held (not_found)")},
    openapi_extra=needs(Scope.CONVERSATIONS_READ),
)
async def get_legal_hold(
    conversation_id: ConvId, svc: Svc, principal: CurrentPrincipal
) -> LegalHoldOut:
    hold = await erasure.get_hold(svc.ctx, principal, ConversationId(conversation_id))
    if hold is None:
        raise not_found("legal hold")
    return LegalHoldOut.of(hold)


@router.put(
    "/conversations/{conversation_id}/legal-hold",
    summary="Put a conversation under legal hold (leads and admins)",
    openapi_extra=needs(Scope.CONVERSATIONS_WRITE),
)
async def set_legal_hold(
    conversation_id: ConvId, body: LegalHoldIn, svc: Svc, principal: CurrentPrincipal
) -> LegalHoldOut:
    """While held, the conversation survives its customer's erasure (restricted: out of every
    list and search, readable by admins only) and retention. Setting it again changes the
    reason."""
    hold = await erasure.check_set_hold(
        svc.ctx, principal, ConversationId(conversation_id), reason=body.reason
    )
    return LegalHoldOut.of(hold)


@router.delete(
    "/conversations/{conversation_id}/legal-hold",
    summary="Lift a conversation's legal hold (leads and admins)",
    responses={404: problem_response("no such conversation, or it is not held (not_found)")},
    openapi_extra=needs(Scope.CONVERSATIONS_WRITE),
)
async def lift_legal_hold(
    conversation_id: ConvId, svc: Svc, principal: CurrentPrincipal
) -> LiftedOut:
    """When the customer was erased meanwhile, the conversation is deleted now."""
    erased = await erasure.check_lift_hold(svc.ctx, principal, ConversationId(conversation_id))
    return LiftedOut(erased=erased)


@router.get(
    "/companies/{slug}/legal-holds",
    summary="The company's conversations under legal hold (leads and admins)",
    openapi_extra=needs(Scope.CONVERSATIONS_READ),
)
async def list_legal_holds(slug: Slug, svc: Svc, principal: CurrentPrincipal) -> list[LegalHoldOut]:
    """Newest first; restricted ones (their customer was erased) only for admins."""
    return [LegalHoldOut.of(h) for h in await erasure.list_holds(svc.ctx, principal, slug)]
