"""Conversations and their messages, assignment, status and read markers."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response, status

from eyelevel.core import queries
from eyelevel.core.actions import conversations as conv_actions
from eyelevel.core.actions import messages as msg_actions
from eyelevel.core.entities import Scope, Status
from eyelevel.core.errors import DomainError, ErrorCode
from eyelevel.core.ids import (
    AgentId,
    CompanyId,
    ConversationId,
    ConversationTopicId,
    CustomerId,
    LabelId,
    TeamId,
)
from eyelevel.core.ports import ConversationFilter, ListSort
from eyelevel.core.principals import AgentPrincipal
from eyelevel.core.rules.audience import sees_internals
from eyelevel.web.auth import CurrentPrincipal, Svc
from eyelevel.web.cursors import decode_position, encode_position
from eyelevel.web.schemas import (
    ERRORS,
    AssignIn,
    ConversationOut,
    ConversationPage,
    MessageOut,
    MessagePage,
    ReadIn,
    ReadOut,
    SendIn,
    StartConversationIn,
    StartedOut,
    StatusIn,
)
from eyelevel.web.scopes import customer_data, needs

router = APIRouter(prefix="/api/v1/conversations", tags=["conversations"], responses=ERRORS)
ConvId = Annotated[int, Path(ge=1, le=2**62, description="conversation id")]
Seq = Annotated[int | None, Query(ge=0, le=2**31 - 1)]  # a 32-bit column on PostgreSQL


@router.get(
    "",
    summary="List conversations (the inbox's views)",
    openapi_extra=needs(Scope.CONVERSATIONS_READ),
)
async def list_conversations(
    svc: Svc,
    principal: CurrentPrincipal,
    company_id: Annotated[int | None, Query(ge=1, le=2**62)] = None,
    status_: Annotated[Status | None, Query(alias="status")] = None,
    owner: Annotated[
        str | None,
        Query(
            max_length=40,
            pattern=r"^(me|unassigned|agent:\d{1,18}|team:\d{1,18})$",
            description="me | unassigned | agent:<id> | team:<id> (company members)",
        ),
    ] = None,
    sort: Annotated[
        ListSort,
        Query(
            description="newest: newest activity first; waiting (company members): the "
            "customer waiting longest first, then those nobody waits for, newest first; due "
            "(company members): the earliest SLA due time first, then those without one, "
            "newest first"
        ),
    ] = ListSort.NEWEST,
    mentions: Annotated[
        bool,
        Query(
            description="company members: only conversations with a private note that "
            "mentions me, newest mention first (whatever the sort)"
        ),
    ] = False,
    label: Annotated[int | None, Query(ge=1, le=2**62, description="a label id")] = None,
    topic: Annotated[
        int | None, Query(ge=1, le=2**62, description="a conversation topic id")
    ] = None,
    customer_id: Annotated[
        int | None,
        Query(ge=1, le=2**62, description="company members: that customer's conversations"),
    ] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> ConversationPage:
    flt = ConversationFilter(
        company_ids=frozenset({CompanyId(company_id)}) if company_id else None,
        status=status_,
        customer_id=CustomerId(customer_id) if customer_id else None,
        label_id=LabelId(label) if label else None,
        topic_id=ConversationTopicId(topic) if topic else None,
        sort=sort,
        after=decode_position(cursor) if cursor else None,
        limit=limit,
    )
    internals = sees_internals(principal)
    if owner is not None and not internals:
        raise DomainError(
            ErrorCode.VALIDATION, "the owner filter is for company members", field="owner"
        )
    if mentions:
        if not isinstance(principal, AgentPrincipal):
            field = "mentions"
            raise DomainError(ErrorCode.VALIDATION, "mentions=true is for agents", field=field)
        flt = replace(flt, mentioning=principal.agent_id)
    if owner == "me":
        if not isinstance(principal, AgentPrincipal):
            raise DomainError(ErrorCode.VALIDATION, "owner=me is for agents", field="owner")
        flt = replace(flt, owner_agent_id=principal.agent_id)
    elif owner == "unassigned":
        flt = replace(flt, unassigned=True)
    elif owner is not None:
        kind, _, raw = owner.partition(":")
        if kind == "agent":
            flt = replace(flt, owner_agent_id=AgentId(int(raw)))
        else:
            flt = replace(flt, owner_team_id=TeamId(int(raw)))
    rows = await queries.list_conversations(svc.ctx, principal, flt)
    items = [
        ConversationOut.of(
            r.conversation,
            last=r.last_message,
            internals=internals,
            company=r.company,
            unread=r.unread,
            customer=customer_data(principal, r.customer),
            labels=r.labels,
        )
        for r in rows
    ]
    next_cursor = None
    if len(rows) == flt.limit and rows[-1].position is not None:
        next_cursor = encode_position(rows[-1].position)
    return ConversationPage(items=items, next_cursor=next_cursor)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    summary="Start a conversation (customers)",
    responses={200: {"model": StartedOut, "description": "a repeat of an earlier client_id"}},
)
async def start(
    body: StartConversationIn, svc: Svc, principal: CurrentPrincipal, response: Response
) -> StartedOut:
    """With a ``client_id``, a repeated start (an offline client retrying) returns the
    conversation it started the first time (200) instead of a second one."""
    started = await conv_actions.check_start_conversation(
        svc.ctx,
        principal,
        company_slug=body.company,
        subject=body.subject,
        body=body.body,
        client_id=body.client_id,
        topic_id=body.topic_id,
        channel=body.channel,
        language=body.language,
    )
    if started.created:
        svc.metrics.messages.labels(kind=started.message.kind.value).inc()
    else:
        response.status_code = status.HTTP_200_OK
    return StartedOut(
        conversation=ConversationOut.of(
            started.conversation, last=started.message, internals=False, company=started.company
        ),
        message=MessageOut.of(started.message),
    )


@router.get(
    "/{conversation_id}", summary="One conversation", openapi_extra=needs(Scope.CONVERSATIONS_READ)
)
async def get(conversation_id: ConvId, svc: Svc, principal: CurrentPrincipal) -> ConversationOut:
    row, markers = await queries.get_conversation_row(
        svc.ctx, principal, ConversationId(conversation_id)
    )
    return ConversationOut.of(
        row.conversation,
        last=row.last_message,
        markers=markers,
        internals=sees_internals(principal),
        company=row.company,
        unread=row.unread,
        customer=customer_data(principal, row.customer),
        labels=row.labels,
    )


@router.get(
    "/{conversation_id}/messages",
    summary="Messages in seq order, paged",
    openapi_extra=needs(Scope.CONVERSATIONS_READ),
)
async def messages(
    conversation_id: ConvId,
    svc: Svc,
    principal: CurrentPrincipal,
    after_seq: Seq = None,
    before_seq: Seq = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> MessagePage:
    """Without cursors, the first page; ``before_seq`` pages backwards (newest page first)."""
    items = await queries.list_messages(
        svc.ctx,
        principal,
        ConversationId(conversation_id),
        after_seq=after_seq,
        before_seq=before_seq,
        limit=limit,
    )
    return MessagePage(items=[MessageOut.of(m) for m in items])


@router.post(
    "/{conversation_id}/messages",
    status_code=status.HTTP_201_CREATED,
    summary="Send a message or a private note",
    responses={200: {"model": MessageOut, "description": "a repeat of an earlier client_id"}},
    openapi_extra=needs(Scope.MESSAGES_WRITE),
)
async def send(
    conversation_id: ConvId,
    body: SendIn,
    svc: Svc,
    principal: CurrentPrincipal,
    response: Response,
) -> MessageOut:
    sent = await msg_actions.check_send_message(
        svc.ctx,
        principal,
        ConversationId(conversation_id),
        body=body.body,
        client_id=body.client_id,
        note=body.note,
        mentions=body.mentions,
    )
    if sent.created:
        svc.metrics.messages.labels(kind=sent.message.kind.value).inc()
    else:
        response.status_code = status.HTTP_200_OK
    return MessageOut.of(sent.message)


@router.post(
    "/{conversation_id}/assignment",
    summary="Assign to an agent or a team",
    openapi_extra=needs(Scope.CONVERSATIONS_WRITE),
)
async def assign(
    conversation_id: ConvId, body: AssignIn, svc: Svc, principal: CurrentPrincipal
) -> ConversationOut:
    conversation = await conv_actions.check_assign(
        svc.ctx,
        principal,
        ConversationId(conversation_id),
        agent_id=AgentId(body.agent_id) if body.agent_id else None,
        team_id=TeamId(body.team_id) if body.team_id else None,
    )
    return ConversationOut.of(conversation, internals=sees_internals(principal))


@router.post(
    "/{conversation_id}/status",
    summary="Change the status (snooze until a time)",
    openapi_extra=needs(Scope.CONVERSATIONS_WRITE),
)
async def change_status(
    conversation_id: ConvId, body: StatusIn, svc: Svc, principal: CurrentPrincipal
) -> ConversationOut:
    conversation = await conv_actions.check_change_status(
        svc.ctx,
        principal,
        ConversationId(conversation_id),
        status=body.status,
        snoozed_until=body.snoozed_until,
    )
    return ConversationOut.of(conversation, internals=sees_internals(principal))


@router.post(
    "/{conversation_id}/read",
    summary="Mark messages read up to a seq",
    openapi_extra=needs(Scope.CONVERSATIONS_WRITE),
)
async def mark_read(
    conversation_id: ConvId, body: ReadIn, svc: Svc, principal: CurrentPrincipal
) -> ReadOut:
    moved = await msg_actions.check_mark_read(
        svc.ctx, principal, ConversationId(conversation_id), seq=body.seq
    )
    return ReadOut(moved=moved)
