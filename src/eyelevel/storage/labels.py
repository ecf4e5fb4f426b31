"""Labels and which conversations carry them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.engine import Row

from eyelevel.core.entities import Conversation, Label
from eyelevel.core.ids import CompanyId, ConversationId, LabelId
from eyelevel.storage import schema as t
from eyelevel.storage.rows import Repo


def _label(r: Row[Any]) -> Label:
    return Label(LabelId(r.id), CompanyId(r.company_id), r.name, r.color)


class SqlLabels(Repo):
    async def of_company(self, company_id: CompanyId) -> list[Label]:
        c = t.labels.c
        rows = await self._all(
            select(t.labels).where(c.company_id == company_id).order_by(c.name, c.id)
        )
        return [_label(r) for r in rows]

    async def get(self, company_id: CompanyId, label_id: LabelId) -> Label | None:
        c = t.labels.c
        r = await self._one(select(t.labels).where(c.company_id == company_id, c.id == label_id))
        return _label(r) if r else None

    async def get_by_name(self, company_id: CompanyId, name: str) -> Label | None:
        c = t.labels.c
        r = await self._one(
            select(t.labels)
            .where(c.company_id == company_id, func.lower(c.name) == name.lower())
            .limit(1)
        )
        return _label(r) if r else None

    async def create(self, *, company_id: CompanyId, name: str, color: str, now: datetime) -> Label:
        lid = await self._insert_id(
            t.labels, {"company_id": company_id, "name": name, "color": color, "created_at": now}
        )
        return Label(LabelId(lid), company_id, name, color)

    async def update(
        self, company_id: CompanyId, label_id: LabelId, *, name: str, color: str
    ) -> None:
        c = t.labels.c
        await self._c.execute(
            update(t.labels)
            .where(c.company_id == company_id, c.id == label_id)
            .values(name=name, color=color)
        )

    async def delete(self, company_id: CompanyId, label_id: LabelId) -> list[ConversationId]:
        cl = t.conversation_labels.c
        rows = await self._all(
            select(cl.conversation_id)
            .where(cl.company_id == company_id, cl.label_id == label_id)
            .order_by(cl.conversation_id)
        )
        await self._c.execute(
            delete(t.conversation_labels).where(
                cl.company_id == company_id, cl.label_id == label_id
            )
        )
        await self._c.execute(
            delete(t.labels).where(t.labels.c.company_id == company_id, t.labels.c.id == label_id)
        )
        return [ConversationId(r.conversation_id) for r in rows]

    async def existing(self, company_id: CompanyId, label_ids: Sequence[LabelId]) -> set[LabelId]:
        if not label_ids:
            return set()
        c = t.labels.c
        rows = await self._all(
            select(c.id).where(c.company_id == company_id, c.id.in_(sorted(set(label_ids))))
        )
        return {LabelId(r.id) for r in rows}

    async def of_conversations(
        self, company_id: CompanyId, conversation_ids: Sequence[ConversationId]
    ) -> dict[ConversationId, list[LabelId]]:
        if not conversation_ids:
            return {}
        cl = t.conversation_labels.c
        rows = await self._all(
            select(cl.conversation_id, cl.label_id)
            .where(
                cl.company_id == company_id,
                cl.conversation_id.in_(sorted(set(conversation_ids))),
            )
            .order_by(cl.conversation_id, cl.label_id)
        )
        out: dict[ConversationId, list[LabelId]] = {}
        for r in rows:
            out.setdefault(ConversationId(r.conversation_id), []).append(LabelId(r.label_id))
        return out

    async def set_for_conversation(
        self, conversation: Conversation, label_ids: Sequence[LabelId]
    ) -> None:
        cl = t.conversation_labels.c
        await self._c.execute(
            delete(t.conversation_labels).where(
                cl.company_id == conversation.company_id,
                cl.conversation_id == conversation.id,
            )
        )
        if label_ids:
            await self._c.execute(
                insert(t.conversation_labels),
                [
                    {
                        "company_id": conversation.company_id,
                        "conversation_id": conversation.id,
                        "label_id": label_id,
                    }
                    for label_id in sorted(set(label_ids))
                ],
            )
