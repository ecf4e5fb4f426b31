"""Sending a file (a photo, a PDF) as a message, and fetching one for whoever may see it."""

from __future__ import annotations

import asyncio
import secrets

from eyelevel.core.actions.access import access_conversation_txn
from eyelevel.core.actions.messages import (
    Sent,
    check_body,
    check_client_id,
    do_send_message_txn,
    kind_and_author,
    with_attachments_txn,
)
from eyelevel.core.entities import MAX_ATTACHMENT_BYTES, Attachment, MessageKind
from eyelevel.core.errors import DomainError, ErrorCode, not_found
from eyelevel.core.ids import AttachmentId, CompanyId, ConversationId
from eyelevel.core.ports import Context, ProcessedFile, StoredFile, UnitOfWork
from eyelevel.core.principals import Principal
from eyelevel.core.rules.audience import sees_internals

EXTENSIONS = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
    "application/pdf": "pdf",
}


def check_size(size: int) -> None:
    if size > MAX_ATTACHMENT_BYTES:
        raise DomainError(
            ErrorCode.ATTACHMENT_TOO_LARGE,
            f"a file may have at most {MAX_ATTACHMENT_BYTES // (1024 * 1024)} MB",
            field="file",
        )
    if size == 0:
        raise DomainError(ErrorCode.INVALID_FILE, "the file is empty", field="file")


async def check_send_attachment(
    ctx: Context,
    principal: Principal,
    conversation_id: ConversationId,
    *,
    data: bytes,
    filename: str,
    body: str,
    client_id: str | None,
    note: bool = False,
) -> Sent:
    """Check, clean and store a file, then send it as a message with ``body`` as its caption.

    The bytes are written before the transaction and removed again if it does not commit, so a
    message never points to a missing file. Idempotent by ``client_id`` like a text message.
    """
    check_size(len(data))
    if body.strip():
        check_body(body)
    elif body:
        body = ""
    check_client_id(client_id)
    kind, author_name, agent_id, customer_id = kind_and_author(principal, note=note)

    async def look(uow: UnitOfWork) -> tuple[CompanyId, Sent | None]:
        conversation = await access_conversation_txn(uow, principal, conversation_id)
        found = await uow.messages.get_by_client_id(conversation, client_id) if client_id else None
        if found is None:
            return conversation.company_id, None
        return conversation.company_id, Sent((await with_attachments_txn(uow, [found]))[0], False)

    # authorizes before any CPU is spent on decoding; a repeated upload is answered at once
    company_id, repeat = await ctx.db.read(look)
    if repeat is not None and repeat.message.attachments and repeat.message.body == body:
        return repeat
    processed = await asyncio.to_thread(ctx.media.process, data, filename=filename)
    stored = await _store(ctx, company_id, processed)

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
            files=[stored],
        )

    try:
        sent = await ctx.db.write("send_attachment", txn)
    except BaseException:
        await _remove(ctx, stored)
        raise
    if not sent.created:
        await _remove(ctx, stored)
    return sent


async def _store(ctx: Context, company_id: CompanyId, processed: ProcessedFile) -> StoredFile:
    base = f"{company_id}/{secrets.token_hex(16)}"
    key = f"{base}.{EXTENSIONS[processed.content_type]}"
    await ctx.files.put(key, processed.data)
    thumbnail_key = None
    if processed.thumbnail is not None:
        thumbnail_key = f"{base}.thumb.jpg"
        await ctx.files.put(thumbnail_key, processed.thumbnail)
    return StoredFile(
        name=processed.name,
        content_type=processed.content_type,
        size=len(processed.data),
        width=processed.width,
        height=processed.height,
        storage_key=key,
        thumbnail_key=thumbnail_key,
    )


async def _remove(ctx: Context, stored: StoredFile) -> None:
    await ctx.files.delete(stored.storage_key)
    if stored.thumbnail_key is not None:
        await ctx.files.delete(stored.thumbnail_key)


async def fetch_attachment(
    ctx: Context, principal: Principal, attachment_id: AttachmentId, *, thumbnail: bool
) -> tuple[Attachment, bytes]:
    """The file (or its thumbnail) for a principal who may see the message it belongs to."""

    async def read(uow: UnitOfWork) -> Attachment:
        found = await uow.attachments.get(attachment_id)
        if found is None:
            raise not_found("attachment")
        attachment, kind = found
        try:
            await access_conversation_txn(uow, principal, attachment.conversation_id)
        except DomainError:  # another tenant's file must read exactly like a missing one
            raise not_found("attachment") from None
        if kind == MessageKind.NOTE and not sees_internals(principal):
            raise not_found("attachment")
        return attachment

    attachment = await ctx.db.read(read)
    key = attachment.thumbnail_key if thumbnail else attachment.storage_key
    if key is None:
        raise not_found("thumbnail")
    data = await ctx.files.get(key)
    if data is None:
        raise not_found("attachment")
    return attachment, data
