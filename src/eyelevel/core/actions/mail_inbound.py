"""A mail to a company's inbound address becomes a message (docs/email.md).

The channel (``channels/email``) parses the MIME message into an :class:`InboundMail`; this
module decides where it goes:

- the company: by the recipient address (unknown ones are refused at ``RCPT`` already);
- the customer: the account that verified the sender address, else the email-only customer
  that address writes as (created on its first mail, without password; verifying the address
  later moves its conversations into the verifying account, :func:`adopt_mail_history_txn`);
- the conversation: the one whose stored ``Message-ID`` the mail names in ``In-Reply-To`` or
  ``References`` (and which belongs to that customer and is not restricted), else a new one
  with channel ``email``, routed by the company's routing rules like one started in the
  messenger (docs/routing.md).

Mails written by a machine (:func:`eyelevel.core.rules.mail.automatic_reason`) never open a
conversation and are never answered: one that names a known conversation is kept there as a
private note for the agents, any other is dropped. Mails from eyelevel's own addresses (a loop)
are dropped. A repeated delivery (a ``Message-ID`` already stored) changes nothing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from eyelevel.core.actions.assignment import route_txn
from eyelevel.core.actions.attachments import (
    EXTENSIONS,
    attachment_name,
    remove_file,
    store_file,
)
from eyelevel.core.actions.messages import do_send_message_txn
from eyelevel.core.entities import (
    MAX_ATTACHMENT_BYTES,
    MAX_BODY_CHARS,
    MAX_SUBJECT_CHARS,
    Channel,
    Conversation,
    Customer,
    MessageKind,
    NewEvent,
)
from eyelevel.core.errors import DomainError
from eyelevel.core.events import EventType, conversation_data
from eyelevel.core.ids import CompanyId, ConversationId, CustomerId, MessageId
from eyelevel.core.ports import Context, EmailThread, StoredFile, UnitOfWork
from eyelevel.core.rules.mail import normalise_address, thread_keys

MAX_FILES = 10  # per mail; further attachments are listed as not kept
MAX_NAME = 100
AUTOMATIC_AUTHOR = "E-Mail"


class Outcome(StrEnum):
    CREATED = "created"  # a new conversation
    APPENDED = "appended"  # a message in a known conversation
    NOTED = "noted"  # an automatic mail kept as a private note in its conversation
    DUPLICATE = "duplicate"  # this Message-ID was stored before
    AUTOMATIC = "automatic"  # an automatic mail that continues nothing: dropped
    LOOP = "loop"  # from one of our own addresses: dropped
    UNKNOWN = "unknown_recipient"


@dataclass(frozen=True, slots=True)
class InboundFile:
    name: str
    data: bytes


@dataclass(frozen=True, slots=True)
class InboundMail:
    """One received mail for one of our recipients, already parsed and made plain text."""

    recipient: str
    sender: str  # the From address
    sender_name: str  # the From display name ("" if none)
    subject: str
    message_id: str | None  # without <>
    in_reply_to: tuple[str, ...]
    references: tuple[str, ...]
    text: str
    files: tuple[InboundFile, ...] = ()
    automatic: str | None = None  # why a machine sent it (rules.mail.automatic_reason)


@dataclass(frozen=True, slots=True)
class Received:
    outcome: Outcome
    conversation_id: ConversationId | None = None
    message_id: MessageId | None = None


async def known_recipient(ctx: Context, address: str) -> bool:
    """Whether ``address`` is some company's inbound address (asked at ``RCPT TO``)."""
    normal = normalise_address(address)
    if normal is None:
        return False

    async def read(uow: UnitOfWork) -> bool:
        return await uow.mail.address_owner(normal) is not None

    return await ctx.db.read(read)


def _display_name(mail: InboundMail, address: str) -> str:
    name = " ".join("".join(c for c in mail.sender_name if c.isprintable()).split()).strip("\"' ")
    if not name or "@" in name:
        name = address.split("@", 1)[0]
    return name[:MAX_NAME] or "E-Mail"


def _body(text: str, skipped: Sequence[str], subject: str, has_files: bool) -> str:
    body = text.replace("\x00", "").strip()
    if skipped:
        body += "\n\n" + "\n".join(f"[not kept: {s}]" for s in skipped)
    if len(body) > MAX_BODY_CHARS:
        body = body[: MAX_BODY_CHARS - 2].rstrip() + "\n…"
    if not body.strip() and not has_files:
        body = subject or "(no text)"
    return body.strip()


async def _process_files(
    ctx: Context, company_id: CompanyId, files: Sequence[InboundFile]
) -> tuple[list[StoredFile], list[str]]:
    """Files through the upload pipeline (type allow-list, size limit, images re-encoded
    without metadata); returns the stored ones and a line for each one not kept."""
    stored: list[StoredFile] = []
    skipped: list[str] = []
    for i, file in enumerate(files):
        label = attachment_name(file.name or "file", "").rstrip(".") or "file"
        if i >= MAX_FILES:
            skipped.append(f"{label} (more than {MAX_FILES} files)")
            continue
        if not file.data:
            continue
        if len(file.data) > MAX_ATTACHMENT_BYTES:
            skipped.append(f"{label} (larger than {MAX_ATTACHMENT_BYTES // (1024 * 1024)} MB)")
            continue
        try:
            processed = await asyncio.to_thread(ctx.media.process, file.data, filename=file.name)
        except DomainError as exc:
            skipped.append(f"{label} ({exc.code.value})")
            continue
        name = attachment_name(file.name or "file", EXTENSIONS[processed.content_type])
        stored.append(await store_file(ctx, company_id, processed, name))
    return stored, skipped


async def _customer_txn(uow: UnitOfWork, address: str, name: str, ctx: Context) -> Customer:
    account = await uow.accounts.get_customer_by_email(address)
    if account is not None and account.email_verified:
        return account
    known = await uow.mail.sender(address)
    if known is not None:
        customer = await uow.accounts.get_customer(known)
        if customer is not None:
            return customer
        await uow.mail.forget_sender(address)
    now = ctx.clock.now()
    customer = await uow.accounts.create_customer(
        email=None, display_name=name, password_hash="", now=now
    )
    await uow.mail.add_sender(address, customer.id, now)
    return customer


async def _thread_txn(
    uow: UnitOfWork, company_id: CompanyId, mail: InboundMail, customer_id: CustomerId | None
) -> Conversation | None:
    """The conversation the mail continues: the first of its thread keys that is stored in the
    company, if that conversation belongs to ``customer_id`` (None: to anyone)."""
    keys = thread_keys(mail.in_reply_to, mail.references)
    found = await uow.mail.find_thread(company_id, keys)
    for key in keys:
        if key in found:
            conversation = await uow.conversations.get_for_update(found[key])
            if conversation is None or conversation.restricted:
                return None  # a restricted one (customer erased, legal hold) is read-only
            if customer_id is not None and conversation.customer_id != customer_id:
                return None  # someone else's thread: a person's mail never joins it
            return conversation
    return None


async def check_receive_mail(ctx: Context, mail: InboundMail) -> Received:
    """Turn one received mail into a message (or a note, or nothing); see the module doc."""
    recipient = normalise_address(mail.recipient)
    sender = normalise_address(mail.sender)

    async def look(uow: UnitOfWork) -> tuple[CompanyId | None, bool]:
        company_id = await uow.mail.address_owner(recipient) if recipient else None
        own = sender is not None and (
            sender in ctx.mail.own_addresses or await uow.mail.address_owner(sender) is not None
        )
        return company_id, own

    company_id, loop = await ctx.db.read(look)
    if company_id is None or recipient is None:
        return Received(Outcome.UNKNOWN)
    if loop:
        return Received(Outcome.LOOP)
    if mail.automatic is not None or sender is None:
        return await _receive_automatic(ctx, company_id, mail)
    stored, skipped = await _process_files(ctx, company_id, mail.files)
    body = _body(mail.text, skipped, mail.subject.strip(), bool(stored))
    name = _display_name(mail, sender)

    async def txn(uow: UnitOfWork) -> Received:
        if mail.message_id and await uow.mail.find_thread(company_id, [mail.message_id]):
            return Received(Outcome.DUPLICATE)
        customer = await _customer_txn(uow, sender, name, ctx)
        now = ctx.clock.now()
        conversation = await _thread_txn(uow, company_id, mail, customer.id)
        outcome = Outcome.APPENDED
        if conversation is None:
            outcome = Outcome.CREATED
            subject = " ".join(mail.subject.split())[:MAX_SUBJECT_CHARS]
            conversation = await uow.conversations.create(
                company_id=company_id,
                customer_id=customer.id,
                subject=subject or (body.splitlines()[0][:MAX_SUBJECT_CHARS] if body else ""),
                owner_team_id=None,
                now=now,
                channel=Channel.EMAIL.value,
            )
            await uow.mail.create_thread(
                EmailThread(company_id, conversation.id, sender, recipient), now
            )
            await uow.emit(
                NewEvent(
                    type=EventType.CONVERSATION_CREATED,
                    company_id=company_id,
                    conversation_id=conversation.id,
                    customer_id=customer.id,
                    data=conversation_data(conversation),
                ),
                now,
            )
        sent = await do_send_message_txn(
            uow,
            ctx,
            conversation,
            kind=MessageKind.CUSTOMER,
            body=body,
            client_id=None,
            author_name=customer.display_name,
            author_agent_id=None,
            author_customer_id=customer.id,
            files=stored,
        )
        if mail.message_id:
            await uow.mail.add_ref(
                company_id,
                conversation.id,
                ref=mail.message_id,
                message_id=sent.message.id,
                direction="in",
                now=now,
            )
        if outcome == Outcome.CREATED:
            # routed like a conversation started in the messenger (channel ``email``)
            fresh = await uow.conversations.get(conversation.id)
            assert fresh is not None
            await route_txn(uow, ctx, fresh, text=body, now=now)
        return Received(outcome, conversation.id, sent.message.id)

    try:
        received = await ctx.db.write("receive_mail", txn)
    except BaseException:
        for file in stored:
            await remove_file(ctx, file)
        raise
    if received.outcome == Outcome.DUPLICATE:
        for file in stored:
            await remove_file(ctx, file)
    return received


async def _receive_automatic(ctx: Context, company_id: CompanyId, mail: InboundMail) -> Received:
    """An automatic mail (or one without a usable sender): a private note in the conversation
    it names, whoever sent it (bounces come from the receiving system, not the customer);
    dropped when it names none. Never a customer message, so it neither reopens the
    conversation nor makes anyone wait, and nothing ever answers it."""
    reason = mail.automatic or "no-sender"
    text = mail.text.replace("\x00", "").strip()
    body = f"[automatic mail: {reason}]\n{mail.subject.strip()}\n\n{text}".strip()
    if len(body) > MAX_BODY_CHARS:
        body = body[: MAX_BODY_CHARS - 2].rstrip() + "\n…"

    async def txn(uow: UnitOfWork) -> Received:
        if mail.message_id and await uow.mail.find_thread(company_id, [mail.message_id]):
            return Received(Outcome.DUPLICATE)
        conversation = await _thread_txn(uow, company_id, mail, None)
        if conversation is None:
            return Received(Outcome.AUTOMATIC)
        sent = await do_send_message_txn(
            uow,
            ctx,
            conversation,
            kind=MessageKind.NOTE,
            body=body,
            client_id=None,
            author_name=AUTOMATIC_AUTHOR,
            author_agent_id=None,
            author_customer_id=None,
        )
        if mail.message_id:
            await uow.mail.add_ref(
                company_id,
                conversation.id,
                ref=mail.message_id,
                message_id=sent.message.id,
                direction="in",
                now=ctx.clock.now(),
            )
        return Received(Outcome.NOTED, conversation.id, sent.message.id)

    return await ctx.db.write("receive_automatic_mail", txn)


async def adopt_mail_history_txn(uow: UnitOfWork, customer_id: CustomerId, email: str) -> int:
    """The account ``customer_id`` has just verified ``email``: the conversations that address
    wrote by mail as an email-only customer move into the account (one history). Returns how
    many moved."""
    address = normalise_address(email)
    if address is None:
        return 0
    source = await uow.mail.sender(address)
    if source is None or source == customer_id:
        return 0
    moved = await uow.accounts.merge_customer(source, customer_id)
    await uow.mail.forget_sender(address)  # the verified account is found by its email now
    return moved
