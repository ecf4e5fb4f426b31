"""Contact preferences, company-started conversations' topics and notification rows."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite

from eyelevel.core.entities import Conversation, Message, MessageKind
from eyelevel.core.ids import CompanyId, CustomerId, MessageId
from eyelevel.core.ports import PendingNotification
from eyelevel.core.rules.contact import ContactPreferences, QuietHours
from eyelevel.storage import schema as t
from eyelevel.storage.rows import Repo

_WAITING = ("pending", "sending")


def _prefs_from(r: Any) -> ContactPreferences:
    quiet = (
        QuietHours(r.quiet_start, r.quiet_end, r.time_zone)
        if r.quiet_start and r.quiet_end and r.time_zone
        else None
    )
    return ContactPreferences(
        CustomerId(r.customer_id),
        CompanyId(r.company_id),
        topics=frozenset(r.topics),
        channels=frozenset(r.channels),
        quiet_hours=quiet,
        include_text=bool(r.include_text),
        language=r.language,
        updated_at=r.updated_at,
        stored=True,
    )


class SqlContact(Repo):
    async def preferences(
        self, customer_id: CustomerId, company_id: CompanyId
    ) -> ContactPreferences | None:
        p = t.contact_preferences.c
        r = await self._one(
            select(t.contact_preferences).where(
                p.company_id == company_id, p.customer_id == customer_id
            )
        )
        return _prefs_from(r) if r else None

    async def save_preferences(self, prefs: ContactPreferences, now: datetime) -> None:
        quiet = prefs.quiet_hours
        values: dict[str, Any] = {
            "topics": sorted(prefs.topics),
            "channels": sorted(prefs.channels),
            "quiet_start": quiet.start if quiet else None,
            "quiet_end": quiet.end if quiet else None,
            "time_zone": quiet.time_zone if quiet else None,
            "include_text": prefs.include_text,
            "language": prefs.language,
            "updated_at": now,
        }
        dialect = postgresql if self._c.dialect.name == "postgresql" else sqlite
        stmt = dialect.insert(t.contact_preferences).values(
            company_id=prefs.company_id, customer_id=prefs.customer_id, **values
        )
        await self._c.execute(
            stmt.on_conflict_do_update(index_elements=["company_id", "customer_id"], set_=values)
        )

    async def allowed(
        self, company_id: CompanyId, customer_ids: Sequence[CustomerId]
    ) -> dict[CustomerId, ContactPreferences]:
        if not customer_ids:
            return {}
        p = t.contact_preferences.c
        rows = await self._all(
            select(t.contact_preferences).where(
                p.company_id == company_id, p.customer_id.in_(sorted(set(customer_ids)))
            )
        )
        return {CustomerId(r.customer_id): _prefs_from(r) for r in rows}

    async def has_relationship(self, company_id: CompanyId, customer_id: CustomerId) -> bool:
        c = t.conversations.c
        r = await self._one(
            select(c.id).where(c.company_id == company_id, c.customer_id == customer_id).limit(1)
        )
        return r is not None

    async def set_topic(
        self, conversation: Conversation, topic: str, started_by: str, now: datetime
    ) -> None:
        await self._c.execute(
            insert(t.contact_starts).values(
                company_id=conversation.company_id,
                conversation_id=conversation.id,
                topic=topic,
                started_by=started_by,
                created_at=now,
            )
        )

    async def topic_of(self, conversation: Conversation) -> str | None:
        c = t.contact_starts.c
        r = await self._one(
            select(c.topic).where(
                c.company_id == conversation.company_id, c.conversation_id == conversation.id
            )
        )
        return str(r.topic) if r else None

    async def customer_wrote(self, conversation: Conversation) -> bool:
        m = t.messages.c
        r = await self._one(
            select(m.id)
            .where(
                m.company_id == conversation.company_id,
                m.conversation_id == conversation.id,
                m.kind == MessageKind.CUSTOMER.value,
            )
            .limit(1)
        )
        return r is not None

    async def add_notification(
        self, message: Message, customer_id: CustomerId, channel: str, *, due_at: datetime
    ) -> bool:
        dialect = postgresql if self._c.dialect.name == "postgresql" else sqlite
        done = await self._c.execute(
            dialect.insert(t.notifications)
            .values(
                company_id=message.company_id,
                customer_id=customer_id,
                conversation_id=message.conversation_id,
                message_id=message.id,
                seq=message.seq,
                channel=channel,
                state="pending",
                due_at=due_at,
                created_at=message.created_at,
            )
            .on_conflict_do_nothing()
        )
        return bool(done.rowcount)

    def _of(self, conversation: Conversation, channel: str) -> Any:
        n = t.notifications.c
        return and_(
            n.company_id == conversation.company_id,
            n.conversation_id == conversation.id,
            n.channel == channel,
        )

    def _waiting(self, now: datetime | None = None) -> Any:
        n = t.notifications.c
        if now is None:
            return n.state.in_(_WAITING)
        # a claim whose lease lapsed (the worker died mid-send) is waiting again
        return or_(n.state == "pending", and_(n.state == "sending", n.locked_until < now))

    async def settle_read(self, conversation: Conversation, channel: str, seq: int) -> int:
        n = t.notifications.c
        done = await self._c.execute(
            update(t.notifications)
            .where(self._of(conversation, channel), n.state == "pending", n.seq <= seq)
            .values(state="read", claim=None, locked_until=None)
        )
        return int(done.rowcount or 0)

    async def drop_waiting(self, conversation: Conversation, channel: str) -> int:
        n = t.notifications.c
        done = await self._c.execute(
            update(t.notifications)
            .where(self._of(conversation, channel), n.state == "pending")
            .values(state="dropped", claim=None, locked_until=None)
        )
        return int(done.rowcount or 0)

    async def first_due(self, conversation: Conversation, channel: str) -> datetime | None:
        n = t.notifications.c
        r = await self._one(
            select(func.min(n.due_at).label("due")).where(
                self._of(conversation, channel), self._waiting()
            )
        )
        return r.due if r is not None else None

    async def claim(
        self,
        conversation: Conversation,
        channel: str,
        *,
        claim: str,
        now: datetime,
        lease_until: datetime,
    ) -> list[PendingNotification]:
        n = t.notifications.c
        # one UPDATE: a concurrent claim (PostgreSQL re-checks the WHERE after waiting for the
        # other's row locks) finds the rows taken and gets none of them
        await self._c.execute(
            update(t.notifications)
            .where(self._of(conversation, channel), self._waiting(now))
            .values(state="sending", claim=claim, locked_until=lease_until)
        )
        rows = await self._all(
            select(n.id, n.message_id, n.seq).where(n.claim == claim).order_by(n.seq)
        )
        return [PendingNotification(r.id, MessageId(r.message_id), r.seq) for r in rows]

    async def finish(self, claim: str, state: str, now: datetime) -> None:
        n = t.notifications.c
        values: dict[str, Any] = {"state": state, "claim": None, "locked_until": None}
        if state == "sent":
            values["sent_at"] = now
        await self._c.execute(
            update(t.notifications).where(n.claim == claim, n.state == "sending").values(**values)
        )
