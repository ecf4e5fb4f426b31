"""The notification pipeline: tell a customer about a company's message on the channels they
chose, when they have not read it (docs/privacy.md, *Notifications*).

Two durable jobs:

1. ``notify.message`` — queued in the same transaction as every company message (an agent's
   or an integration's reply, never a private note). It decides: nothing when the customer
   read it already or the topic is not permitted; else one ``notifications`` row per chosen
   channel (unique per message and channel: never twice), due after the batching window and
   after the customer's quiet hours, and a ``notify.deliver`` job at that time.
2. ``notify.deliver`` — per conversation and channel: marks rows the customer read meanwhile
   as read, holds everything while quiet hours last, then claims *all* waiting rows of the
   conversation at once and hands them to the channel's sender as one batch (several replies,
   one mail). A sender that fails hands the rows back and the job retries with backoff; a
   worker that dies mid-send leaves a claim whose lease lapses, and the rows go out again
   (at least once).

Channels are :class:`~eyelevel.core.ports.ChannelSender` objects keyed by name, registered in
``eyelevel.jobs.channels``; the pipeline knows nothing about any one of them.
"""

from __future__ import annotations

import secrets
from collections.abc import Collection, Mapping
from datetime import datetime, timedelta

from eyelevel.core.entities import Company, Conversation, Customer, Message, MessageKind
from eyelevel.core.ids import CompanyId, ConversationId, CustomerId, MessageId
from eyelevel.core.ports import (
    ChannelSender,
    Context,
    NotificationBatch,
    NotifiedMessage,
    PendingNotification,
    UnitOfWork,
)
from eyelevel.core.rules.contact import (
    ContactPreferences,
    default_preferences,
    quiet_until,
    release_at,
    topic_permitted,
    unsubscribe_token,
)

NOTIFY = "notify.message"  # payload {"conversation_id", "message_id", "seq"}
DELIVER = "notify.deliver"  # payload {"conversation_id", "channel"}
BATCH_WINDOW = timedelta(minutes=2)  # replies within it go out as one notification
LEASE = timedelta(minutes=5)  # a claim's rows are sent again after this if never finished
NOTIFYING = frozenset({MessageKind.AGENT, MessageKind.BOT})


async def preferences_txn(
    uow: UnitOfWork, customer_id: CustomerId, company_id: CompanyId
) -> ContactPreferences:
    """The customer's stored preferences for the company, or the defaults."""
    stored = await uow.contact.preferences(customer_id, company_id)
    return stored or default_preferences(customer_id, company_id)


async def queue_notification_txn(
    uow: UnitOfWork, conversation: Conversation, message: Message, now: datetime
) -> None:
    """In the message's own transaction: nothing acknowledged is ever left untold. A customer
    who chose no channel for this company gets no job at all."""
    if message.kind in NOTIFYING:
        prefs = await preferences_txn(uow, conversation.customer_id, conversation.company_id)
        if not prefs.channels:
            return
        await uow.jobs.enqueue(
            NOTIFY,
            {
                "conversation_id": message.conversation_id,
                "message_id": message.id,
                "seq": message.seq,
            },
            now,
        )


async def _customer_read_txn(uow: UnitOfWork, conversation: Conversation) -> int:
    markers = await uow.messages.read_markers(conversation)
    return max((m.last_read_seq for m in markers if m.reader == "customer"), default=0)


async def _permitted_txn(
    uow: UnitOfWork, conversation: Conversation, prefs: ContactPreferences
) -> bool:
    """Replies in the customer's own conversations always; in one a company started, the
    topic it was started for, until the customer writes in it (then it is a dialogue)."""
    topic = await uow.contact.topic_of(conversation)
    if topic is None or topic_permitted(prefs, topic):
        return True
    return await uow.contact.customer_wrote(conversation)


async def _message_txn(uow: UnitOfWork, conversation: Conversation, seq: int) -> Message | None:
    page = await uow.messages.page(
        conversation, after_seq=seq - 1, before_seq=seq + 1, limit=1, include_notes=False
    )
    return page[0] if page and page[0].seq == seq else None


async def check_plan(
    ctx: Context,
    conversation_id: ConversationId,
    message_id: MessageId,
    seq: int,
    *,
    channels: Collection[str],
    window: timedelta = BATCH_WINDOW,
) -> list[str]:
    """The ``notify.message`` job; returns the channels a notification was queued on."""

    async def read(uow: UnitOfWork) -> tuple[Message, ContactPreferences] | None:
        conversation = await uow.conversations.get(conversation_id)
        if conversation is None or await _customer_read_txn(uow, conversation) >= seq:
            return None
        message = await _message_txn(uow, conversation, seq)
        if message is None or message.id != message_id or message.kind not in NOTIFYING:
            return None
        prefs = await preferences_txn(uow, conversation.customer_id, conversation.company_id)
        if not await _permitted_txn(uow, conversation, prefs):
            return None
        return message, prefs

    # reads first, on a snapshot; the write below touches only notifications and jobs
    found = await ctx.db.read(read)
    if found is None:
        return []
    message, prefs = found
    chosen = [c for c in sorted(prefs.channels) if c in channels]
    if not chosen:
        return []
    due = release_at(prefs, ctx.clock.now(), window)

    async def txn(uow: UnitOfWork) -> list[str]:
        queued = []
        for channel in chosen:
            if await uow.contact.add_notification(message, prefs.customer_id, channel, due_at=due):
                await uow.jobs.enqueue(
                    DELIVER, {"conversation_id": conversation_id, "channel": channel}, due
                )
                queued.append(channel)
        return queued

    return await ctx.db.write("plan_notification", txn)


async def check_deliver(
    ctx: Context,
    senders: Mapping[str, ChannelSender],
    conversation_id: ConversationId,
    channel: str,
) -> int:
    """The ``notify.deliver`` job; returns how many messages the batch it sent told about."""

    async def read(
        uow: UnitOfWork,
    ) -> tuple[Conversation, Company, Customer, ContactPreferences, int, bool] | None:
        conversation = await uow.conversations.get(conversation_id)
        if conversation is None:
            return None
        company = await uow.companies.get(conversation.company_id)
        customer = await uow.accounts.get_customer(conversation.customer_id)
        if company is None or customer is None:
            return None
        prefs = await preferences_txn(uow, customer.id, company.id)
        permitted = await _permitted_txn(uow, conversation, prefs)
        return (
            conversation,
            company,
            customer,
            prefs,
            await _customer_read_txn(uow, conversation),
            permitted,
        )

    found = await ctx.db.read(read)
    if found is None:
        return 0
    conversation, company, customer, prefs, read_seq, permitted = found
    sender = senders.get(channel)
    now = ctx.clock.now()
    claim = secrets.token_hex(16)

    async def take(uow: UnitOfWork) -> list[PendingNotification]:
        await uow.contact.settle_read(conversation, channel, read_seq)
        if sender is None or channel not in prefs.channels or not permitted:
            await uow.contact.drop_waiting(conversation, channel)
            return []
        first = await uow.contact.first_due(conversation, channel)
        if first is None or first > now:
            return []  # nothing waiting, or its own job comes later
        held = quiet_until(prefs.quiet_hours, now)
        if held is not None:
            await uow.jobs.enqueue(
                DELIVER, {"conversation_id": conversation_id, "channel": channel}, held
            )
            return []
        rows = await uow.contact.claim(
            conversation, channel, claim=claim, now=now, lease_until=now + LEASE
        )
        if not rows:  # another worker holds them: look again when its lease lapses
            await uow.jobs.enqueue(
                DELIVER, {"conversation_id": conversation_id, "channel": channel}, now + LEASE
            )
        return rows

    rows = await ctx.db.write("claim_notifications", take)
    if not rows or sender is None:
        return 0

    async def messages(uow: UnitOfWork) -> list[Message]:
        page = await uow.messages.page(
            conversation,
            after_seq=rows[0].seq - 1,
            before_seq=rows[-1].seq + 1,
            limit=len(rows) + 200,
            include_notes=False,
        )
        wanted = {r.message_id for r in rows}
        return [m for m in page if m.id in wanted]

    told = await ctx.db.read(messages)
    token = unsubscribe_token(ctx.secret_key, customer.id, company.id)
    batch = NotificationBatch(
        channel=channel,
        customer_id=customer.id,
        email=customer.email if customer.email_verified else None,
        language=prefs.language,
        company_id=company.id,
        company_name=company.name,
        conversation_id=conversation.id,
        subject=conversation.subject if prefs.include_text else None,
        messages=tuple(
            NotifiedMessage(m.author_name, m.body if prefs.include_text else None, m.created_at)
            for m in told
        ),
        link=f"{ctx.public_url}/#/chat/{conversation.id}",
        unsubscribe_url=f"{ctx.public_url}/unsubscribe/{token}",
    )

    async def finish(state: str) -> None:
        async def txn(uow: UnitOfWork) -> None:
            await uow.contact.finish(claim, state, ctx.clock.now())

        await ctx.db.write("finish_notifications", txn)

    try:
        delivered = await sender.send(batch)
    except Exception:
        await finish("pending")  # handed back: the job's retry sends them
        raise
    await finish("sent" if delivered else "dropped")
    return len(told) if delivered else 0
