"""Sending a file (a photo, a PDF) as a message, and fetching one for whoever may see it."""

from __future__ import annotations

import asyncio
import re
import secrets
import unicodedata

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

MAX_NAME_CHARS = 100  # of the name without its extension
MAX_NAME_BYTES = 200  # the same in UTF-8: whole names stay far below file systems' 255
_NOT_IN_NAMES = re.compile(r"[^\w .,()+&'#@!~\[\]-]")
_RESERVED_NAMES = frozenset(
    ["CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(10)), *(f"LPT{i}" for i in range(10))]
)


def attachment_name(filename: str, extension: str) -> str:
    """The name an uploaded file is shown and downloaded under: ``<stem>.<extension>``.

    The extension comes from the file's content, never from its name. The stem keeps letters
    and digits of any script and a few harmless marks; it loses any directory (``/`` and
    ``\\``), control and invisible formatting characters (bidi overrides such as U+202E that
    disguise ``gpj.exe`` as ``exe.jpg``, zero-width characters), every other character (made
    ``_``), leading dots, dashes and spaces (no hidden or option-like files) and trailing dots
    and spaces; it is cut to ``MAX_NAME_CHARS`` characters and ``MAX_NAME_BYTES`` bytes, and
    is ``file`` when nothing is left. Windows device names (``CON``, ``NUL`` …) get a leading
    ``_``. Idempotent: a cleaned name stays as it is.
    """
    text = "".join(
        " " if c.isspace() else c
        for c in unicodedata.normalize("NFC", filename)
        if c.isspace() or unicodedata.category(c)[0] != "C"  # Cc, Cf (bidi), Cs, Co, Cn
    )
    base = text.replace("\\", "/").rsplit("/", 1)[-1]
    stem, dot, _ = base.rpartition(".")
    stem = stem if dot and stem.strip(" .") else base
    stem = " ".join(_NOT_IN_NAMES.sub("_", stem).split()).lstrip(" .-").rstrip(" .")
    if stem.split(".", 1)[0].upper() in _RESERVED_NAMES:
        stem = f"_{stem}"
    stem = stem[:MAX_NAME_CHARS].encode()[:MAX_NAME_BYTES].decode(errors="ignore")
    stem = stem.rstrip(" .") or "file"
    return f"{stem}.{extension}"


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
    name = attachment_name(filename, EXTENSIONS[processed.content_type])
    stored = await store_file(ctx, company_id, processed, name)

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
        await remove_file(ctx, stored)
        raise
    if not sent.created:
        await remove_file(ctx, stored)
    return sent


async def store_file(
    ctx: Context, company_id: CompanyId, processed: ProcessedFile, name: str
) -> StoredFile:
    base = f"{company_id}/{secrets.token_hex(16)}"
    key = f"{base}.{EXTENSIONS[processed.content_type]}"
    await ctx.files.put(key, processed.data)
    thumbnail_key = None
    if processed.thumbnail is not None:
        thumbnail_key = f"{base}.thumb.jpg"
        await ctx.files.put(thumbnail_key, processed.thumbnail)
    return StoredFile(
        name=name,
        content_type=processed.content_type,
        size=len(processed.data),
        width=processed.width,
        height=processed.height,
        storage_key=key,
        thumbnail_key=thumbnail_key,
    )


async def remove_file(ctx: Context, stored: StoredFile) -> None:
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
