"""Attachment records (the bytes live in the :class:`~eyelevel.core.ports.FileStore`)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.engine import Row

from eyelevel.core.entities import Attachment, Message, MessageKind
from eyelevel.core.ids import AttachmentId, CompanyId, ConversationId, MessageId
from eyelevel.core.ports import StoredFile
from eyelevel.storage import schema as t
from eyelevel.storage.rows import Repo


def attachment_from(r: Row[Any]) -> Attachment:
    return Attachment(
        AttachmentId(r.id),
        CompanyId(r.company_id),
        ConversationId(r.conversation_id),
        MessageId(r.message_id),
        r.name,
        r.content_type,
        r.size,
        r.width,
        r.height,
        r.storage_key,
        r.thumbnail_key,
        r.created_at,
    )


class SqlAttachments(Repo):
    async def insert(self, message: Message, file: StoredFile, now: datetime) -> Attachment:
        aid = await self._insert_id(
            t.attachments,
            {
                "company_id": message.company_id,
                "conversation_id": message.conversation_id,
                "message_id": message.id,
                "name": file.name,
                "content_type": file.content_type,
                "size": file.size,
                "width": file.width,
                "height": file.height,
                "storage_key": file.storage_key,
                "thumbnail_key": file.thumbnail_key,
                "created_at": now,
            },
        )
        return Attachment(
            AttachmentId(aid),
            message.company_id,
            message.conversation_id,
            message.id,
            file.name,
            file.content_type,
            file.size,
            file.width,
            file.height,
            file.storage_key,
            file.thumbnail_key,
            now,
        )

    async def of_messages(
        self, messages: Sequence[Message]
    ) -> dict[MessageId, tuple[Attachment, ...]]:
        if not messages:
            return {}
        c = t.attachments.c
        rows = await self._all(
            select(t.attachments)
            .where(
                c.company_id.in_(sorted({m.company_id for m in messages})),
                c.message_id.in_([m.id for m in messages]),
            )
            .order_by(c.id)
        )
        found: dict[MessageId, list[Attachment]] = {}
        for r in rows:
            found.setdefault(MessageId(r.message_id), []).append(attachment_from(r))
        return {mid: tuple(items) for mid, items in found.items()}

    async def get(self, attachment_id: AttachmentId) -> tuple[Attachment, MessageKind] | None:
        a, m = t.attachments.c, t.messages.c
        r = await self._one(
            select(t.attachments, m.kind.label("message_kind"))
            .join(t.messages, and_(m.company_id == a.company_id, m.id == a.message_id))
            .where(a.id == attachment_id)
        )
        return (attachment_from(r), MessageKind(r.message_kind)) if r else None
