"""Email as a channel: inbound addresses, email threads, Message-IDs and email-only senders."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, insert, select, update

from eyelevel.core.ids import CompanyId, ConversationId, CustomerId, MessageId
from eyelevel.core.ports import EmailThread, MailRef
from eyelevel.storage import schema as t
from eyelevel.storage.rows import Repo


class SqlMail(Repo):
    async def address_owner(self, address: str) -> CompanyId | None:
        a = t.company_mail_addresses.c
        r = await self._one(select(a.company_id).where(a.address == address))
        return CompanyId(r.company_id) if r else None

    async def addresses_of(self, company_id: CompanyId) -> list[str]:
        a = t.company_mail_addresses.c
        rows = await self._all(select(a.address).where(a.company_id == company_id).order_by(a.id))
        return [r.address for r in rows]

    async def set_addresses(
        self, company_id: CompanyId, addresses: Sequence[str], now: datetime
    ) -> None:
        a = t.company_mail_addresses.c
        current = await self.addresses_of(company_id)
        gone = [x for x in current if x not in addresses]
        if gone:
            await self._c.execute(
                delete(t.company_mail_addresses).where(
                    a.company_id == company_id, a.address.in_(gone)
                )
            )
        for address in addresses:
            if address not in current:
                await self._c.execute(
                    insert(t.company_mail_addresses).values(
                        company_id=company_id, address=address, created_at=now
                    )
                )

    async def sender(self, address: str) -> CustomerId | None:
        s = t.email_senders.c
        r = await self._one(select(s.customer_id).where(s.address == address))
        return CustomerId(r.customer_id) if r else None

    async def add_sender(self, address: str, customer_id: CustomerId, now: datetime) -> None:
        await self._c.execute(
            insert(t.email_senders).values(address=address, customer_id=customer_id, created_at=now)
        )

    async def forget_sender(self, address: str) -> None:
        await self._c.execute(delete(t.email_senders).where(t.email_senders.c.address == address))

    async def find_thread(
        self, company_id: CompanyId, refs: Sequence[str]
    ) -> dict[str, ConversationId]:
        if not refs:
            return {}
        m = t.email_message_ids.c
        rows = await self._all(
            select(m.ref, m.conversation_id).where(m.company_id == company_id, m.ref.in_(refs))
        )
        return {r.ref: ConversationId(r.conversation_id) for r in rows}

    async def add_ref(
        self,
        company_id: CompanyId,
        conversation_id: ConversationId,
        *,
        ref: str,
        message_id: MessageId | None,
        direction: str,
        now: datetime,
    ) -> None:
        await self._c.execute(
            insert(t.email_message_ids).values(
                company_id=company_id,
                ref=ref,
                conversation_id=conversation_id,
                message_id=message_id,
                direction=direction,
                created_at=now,
            )
        )

    async def refs_of(self, company_id: CompanyId, conversation_id: ConversationId) -> list[str]:
        m = t.email_message_ids.c
        rows = await self._all(
            select(m.ref)
            .where(m.company_id == company_id, m.conversation_id == conversation_id)
            .order_by(m.created_at, m.message_id)
        )
        return [r.ref for r in rows]

    async def outbound_of(self, company_id: CompanyId, message_id: MessageId) -> MailRef | None:
        m = t.email_message_ids.c
        r = await self._one(
            select(t.email_message_ids).where(
                m.company_id == company_id, m.message_id == message_id, m.direction == "out"
            )
        )
        if r is None:
            return None
        return MailRef(
            r.ref,
            ConversationId(r.conversation_id),
            MessageId(r.message_id),
            r.direction,
            r.sent_at,
        )

    async def mark_sent(self, company_id: CompanyId, ref: str, now: datetime) -> None:
        m = t.email_message_ids.c
        await self._c.execute(
            update(t.email_message_ids)
            .where(m.company_id == company_id, m.ref == ref, m.sent_at.is_(None))
            .values(sent_at=now)
        )

    async def thread(
        self, company_id: CompanyId, conversation_id: ConversationId
    ) -> EmailThread | None:
        e = t.email_conversations.c
        r = await self._one(
            select(t.email_conversations).where(
                e.company_id == company_id, e.conversation_id == conversation_id
            )
        )
        if r is None:
            return None
        return EmailThread(
            CompanyId(r.company_id), ConversationId(r.conversation_id), r.address, r.inbound_address
        )

    async def create_thread(self, thread: EmailThread, now: datetime) -> None:
        await self._c.execute(
            insert(t.email_conversations).values(
                company_id=thread.company_id,
                conversation_id=thread.conversation_id,
                address=thread.address,
                inbound_address=thread.inbound_address,
                created_at=now,
            )
        )
