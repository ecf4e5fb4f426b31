"""Sending messages and notes, read markers, typing."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from eyelevel.core.actions import sla
from eyelevel.core.actions.access import access_conversation_txn
from eyelevel.core.actions.assignment import after_status_txn
from eyelevel.core.actions.mail_outbound import queue_reply_txn
from eyelevel.core.actions.notifications import queue_notification_txn
from eyelevel.core.entities import (
    MAX_BODY_CHARS,
    MAX_CLIENT_ID_CHARS,
    Channel,
    Conversation,
    Event,
    Message,
    MessageKind,
    NewEvent,
    Status,
)
from eyelevel.core.errors import DomainError, ErrorCode
from eyelevel.core.events import EventType, message_data, status_changed
from eyelevel.core.ids import AgentId, ConversationId, EventPos
from eyelevel.core.ports import Context, StoredFile, UnitOfWork
from eyelevel.core.principals import (
    AgentPrincipal,
    CustomerPrincipal,
    Principal,
    TokenPrincipal,
)

_CLIENT_ID = re.compile(rf"^[A-Za-z0-9_.:\-]{{1,{MAX_CLIENT_ID_CHARS}}}$")
MAX_MENTIONS = 20


@dataclass(frozen=True, slots=True)
class Sent:
    message: Message
    created: bool  # False when the client_id was seen before and the stored message is returned


def check_body(body: str) -> str:
    if len(body) > MAX_BODY_CHARS:
        raise DomainError(
            ErrorCode.BODY_TOO_LONG,
            f"body is longer than {MAX_BODY_CHARS} characters",
            field="body",
        )
    if not body.strip():
        raise DomainError(ErrorCode.BODY_EMPTY, "body is empty", field="body")
    if "\x00" in body:
        raise DomainError(ErrorCode.VALIDATION, "body contains a NUL character", field="body")
    return body


def check_client_id(client_id: str | None) -> str | None:
    if client_id is not None and not _CLIENT_ID.fullmatch(client_id):
        raise DomainError(
            ErrorCode.VALIDATION,
            f"client_id must be 1-{MAX_CLIENT_ID_CHARS} characters of A-Z a-z 0-9 _ . : -",
            field="client_id",
        )
    return client_id


def check_mentions(mentions: Sequence[int], kind: MessageKind) -> tuple[AgentId, ...]:
    """The mentioned agents, ascending and without repeats; only private notes mention."""
    if not mentions:
        return ()
    if kind != MessageKind.NOTE:
        raise DomainError(
            ErrorCode.VALIDATION, "only private notes can mention agents", field="mentions"
        )
    unique = sorted(set(mentions))
    if len(unique) > MAX_MENTIONS:
        raise DomainError(
            ErrorCode.VALIDATION,
            f"a note mentions at most {MAX_MENTIONS} agents",
            field="mentions",
        )
    return tuple(AgentId(a) for a in unique)


def kind_and_author(
    principal: Principal, *, note: bool
) -> tuple[MessageKind, str, int | None, int | None]:
    """(kind, author name, author agent id, author customer id) for a send by ``principal``."""
    match principal:
        case CustomerPrincipal(customer_id=customer_id, display_name=name):
            if note:
                raise DomainError(ErrorCode.FORBIDDEN, "customers cannot write private notes")
            return MessageKind.CUSTOMER, name, None, customer_id
        case AgentPrincipal(agent_id=agent_id):
            kind = MessageKind.NOTE if note else MessageKind.AGENT
            return kind, principal.first_name, agent_id, None
        case TokenPrincipal(name=name):
            return (MessageKind.NOTE if note else MessageKind.BOT), name, None, None


async def check_send_message(
    ctx: Context,
    principal: Principal,
    conversation_id: ConversationId,
    *,
    body: str,
    client_id: str | None,
    note: bool = False,
    mentions: Sequence[int] = (),
) -> Sent:
    """Validate and send a message (or, for company principals, a private note that may
    mention colleagues: active agents of the conversation's company).

    Idempotent by ``client_id``: a repeat with the same body returns the stored message; a
    repeat with a different body is refused with ``idempotency_conflict``.
    """
    check_body(body)
    check_client_id(client_id)
    kind, author_name, agent_id, customer_id = kind_and_author(principal, note=note)
    mentioned = check_mentions(mentions, kind)

    async def txn(uow: UnitOfWork) -> Sent:
        conversation = await access_conversation_txn(
            uow, principal, conversation_id, for_update=True
        )
        return await do_send_message_txn(
            uow,
            ctx,
            conversation,
            kind=kind,
            body=body,
            client_id=client_id,
            author_name=author_name,
            author_agent_id=agent_id,
            author_customer_id=customer_id,
            mentions=mentioned,
        )

    return await ctx.db.write("send_message", txn)


async def do_send_message_txn(
    uow: UnitOfWork,
    ctx: Context,
    conversation: Conversation,
    *,
    kind: MessageKind,
    body: str,
    client_id: str | None,
    author_name: str,
    author_agent_id: int | None,
    author_customer_id: int | None,
    files: Sequence[StoredFile] = (),
    mentions: tuple[AgentId, ...] = (),
) -> Sent:
    """Append a message (with the files already stored for it) to a locked conversation and
    emit its events.

    ``mentions`` (checked by :func:`check_mentions`) must be active agents of the company.
    The message also moves ``waiting_since`` (see :func:`waiting_since_after`), in the same
    statement that takes its seq.
    """
    if client_id is not None:
        existing = await uow.messages.get_by_client_id(conversation, client_id)
        if existing is not None:
            existing = (await with_attachments_txn(uow, [existing]))[0]
            existing = (await with_mentions_txn(uow, [existing]))[0]
            if (
                existing.body != body
                or existing.kind != kind
                or len(existing.attachments) != len(files)
                or existing.mentions != mentions
            ):
                raise DomainError(
                    ErrorCode.IDEMPOTENCY_CONFLICT,
                    "this client_id was already used for a different message",
                    field="client_id",
                )
            return Sent(existing, created=False)
    if mentions:
        known = await uow.inbox.active_agents(conversation.company_id, mentions)
        if len(known) != len(mentions):
            raise DomainError(
                ErrorCode.INVALID_MENTION, "no such agent in this company", field="mentions"
            )
    now = ctx.clock.now()
    status = conversation.status
    if kind == MessageKind.CUSTOMER and status != Status.OPEN:
        status = Status.OPEN  # a customer writing again reopens the conversation
    seq = await uow.conversations.advance_seq(
        conversation,
        status=status,
        now=now,
        activity=kind != MessageKind.NOTE,
        waiting_since=waiting_since_after(conversation.waiting_since, kind, now),
    )
    message = await uow.messages.insert(
        conversation=conversation,
        seq=seq,
        kind=kind,
        body=body,
        author_agent_id=author_agent_id,  # type: ignore[arg-type]
        author_customer_id=author_customer_id,  # type: ignore[arg-type]
        author_name=author_name,
        client_id=client_id,
        now=now,
    )
    if files:
        stored = [await uow.attachments.insert(message, f, now) for f in files]
        message = replace(message, attachments=tuple(stored))
    if mentions:
        await uow.inbox.add_mentions(message, mentions, now)
        message = replace(message, mentions=mentions)
    customer_audience = None if kind == MessageKind.NOTE else conversation.customer_id
    await uow.emit(
        NewEvent(
            type=EventType.MESSAGE_CREATED,
            company_id=conversation.company_id,
            conversation_id=conversation.id,
            customer_id=customer_audience,
            data=message_data(message),
        ),
        now,
    )
    if status != conversation.status:
        await uow.emit(status_changed(conversation, status, None), now)
        await after_status_txn(uow, conversation, status, now=now)
    if sla.needs_update(conversation, kind, status != conversation.status):
        after = replace(
            conversation,
            status=status,
            snoozed_until=None if status != conversation.status else conversation.snoozed_until,
            last_seq=seq,
            waiting_since=waiting_since_after(conversation.waiting_since, kind, now),
        )
        await sla.update_clocks_txn(uow, ctx, after, message=kind, first_message=seq == 1)
    if conversation.channel == Channel.EMAIL:
        # agents' answers go out by mail: that mail is the notification
        await queue_reply_txn(uow, ctx, conversation, message)
    else:
        await queue_notification_txn(uow, conversation, message, now)
    return Sent(message, created=True)


def waiting_since_after(
    waiting_since: datetime | None, kind: MessageKind, now: datetime
) -> datetime | None:
    """Since when the customer waits, after a message of ``kind``: from their oldest message
    nobody answered; an answer from the company (an agent or an integration) ends the wait,
    a private note or a system message does not."""
    if kind == MessageKind.CUSTOMER:
        return waiting_since or now
    if kind in (MessageKind.AGENT, MessageKind.BOT):
        return None
    return waiting_since


async def with_attachments_txn(uow: UnitOfWork, messages: Sequence[Message]) -> list[Message]:
    """The messages with their attachments filled in (one query for all of them)."""
    found = await uow.attachments.of_messages(messages)
    return [replace(m, attachments=found[m.id]) if m.id in found else m for m in messages]


async def with_mentions_txn(uow: UnitOfWork, messages: Sequence[Message]) -> list[Message]:
    """The messages with the agents their notes mention (a query only when there are notes)."""
    notes = [m for m in messages if m.kind == MessageKind.NOTE]
    found = await uow.inbox.mentions_of(notes) if notes else {}
    return [replace(m, mentions=found[m.id]) if m.id in found else m for m in messages]


def reader_key(principal: Principal) -> str:
    match principal:
        case CustomerPrincipal():
            return "customer"
        case AgentPrincipal(agent_id=agent_id):
            return f"agent:{agent_id}"
        case TokenPrincipal(token_id=token_id):
            return f"token:{token_id}"


async def check_mark_read(
    ctx: Context, principal: Principal, conversation_id: ConversationId, *, seq: int
) -> bool:
    """Move the principal's read marker forward; tells the other side (customer ↔ company)."""
    if seq < 0:
        raise DomainError(ErrorCode.VALIDATION, "seq must not be negative", field="seq")
    reader = reader_key(principal)

    async def txn(uow: UnitOfWork) -> bool:
        conversation = await access_conversation_txn(uow, principal, conversation_id)
        upto = min(seq, conversation.last_seq)
        now = ctx.clock.now()
        moved = await uow.messages.set_read(conversation, reader, upto, now)
        if moved:
            await uow.emit(
                NewEvent(
                    type=EventType.MESSAGE_READ,
                    company_id=conversation.company_id,
                    conversation_id=conversation.id,
                    customer_id=conversation.customer_id,
                    data={
                        "conversation_id": conversation.id,
                        "reader": "customer" if reader == "customer" else "company",
                        "seq": upto,
                    },
                ),
                now,
            )
        return moved

    return await ctx.db.write("mark_read", txn)


async def check_typing(
    ctx: Context, principal: Principal, conversation_id: ConversationId, *, private: bool = False
) -> None:
    """Ephemeral: published on the bus, never stored. Typing a note never reaches the customer."""
    if private and isinstance(principal, CustomerPrincipal):
        raise DomainError(ErrorCode.FORBIDDEN, "customers cannot write private notes")

    async def read(uow: UnitOfWork) -> Conversation:
        return await access_conversation_txn(uow, principal, conversation_id)

    conversation = await ctx.db.read(read)
    who = "customer" if isinstance(principal, CustomerPrincipal) else "company"
    name = (
        principal.first_name
        if isinstance(principal, AgentPrincipal)
        else principal.display_name
        if isinstance(principal, CustomerPrincipal)
        else principal.name
    )
    await ctx.bus.publish_ephemeral(
        Event(
            pos=EventPos(0),
            type=EventType.TYPING,
            company_id=conversation.company_id,
            conversation_id=conversation.id,
            customer_id=None if private else conversation.customer_id,
            data={"conversation_id": conversation.id, "who": who, "name": name},
            created_at=ctx.clock.now(),
        )
    )
