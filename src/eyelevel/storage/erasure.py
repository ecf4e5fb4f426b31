"""Erasing a customer, and legal holds (docs/privacy.md, *Erasure*).

What the customer owns is found in two ways, so a table added later is not forgotten:

- **by foreign key**: every table with a foreign key to ``customers.id`` (profiles, numbers,
  grants, data exports, push subscriptions …) loses the customer's rows — except the tables in
  :data:`KEPT_WITH_CONVERSATIONS`, whose rows go with the conversations (deleted, or kept
  restricted while under legal hold);
- **by name**: :data:`CUSTOMER_OWNED` lists the tables that name a customer without a foreign
  key (sessions, the event stream). A new such table must be added there; the consent ledger is
  deliberately absent (it is kept, pseudonymous, see docs/privacy.md).

``tests/test_erasure.py`` checks that every table with a customer column is covered by one of
these or kept on purpose (:data:`KEPT_ON_PURPOSE`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Table, and_, delete, insert, or_, select, union, update

from eyelevel.core.entities import Customer
from eyelevel.core.ids import CompanyId, ConversationId, CustomerId
from eyelevel.core.ports import CustomerConversation, LegalHold
from eyelevel.storage import schema as t
from eyelevel.storage.retention import delete_events_txn, delete_jobs_txn
from eyelevel.storage.rows import Repo, customer_from

# rows that name the customer but belong to a conversation: deleted with it, or kept while held
KEPT_WITH_CONVERSATIONS = frozenset({"conversations", "messages", "complaint_cases"})
# tables that name a customer without a foreign key: (table, column[, kind column value])
CUSTOMER_OWNED: tuple[tuple[str, str], ...] = (
    ("sessions", "principal_id"),  # kind = "customer"
    ("events", "customer_id"),
    ("notifications", "customer_id"),  # pending ones too: nothing is sent to an erased customer
)
# kept on purpose, with the reason in docs/privacy.md
KEPT_ON_PURPOSE = frozenset({"customers", "consent_ledger"})


def foreign_key_tables() -> list[tuple[Table, str]]:
    """Every (table, column) with a foreign key to ``customers.id``, children first, but the
    conversations' own tables."""
    out: list[tuple[Table, str]] = []
    for table in reversed(t.metadata.sorted_tables):
        if table.name in KEPT_WITH_CONVERSATIONS:
            continue
        for fk in table.foreign_keys:
            if fk.column.table is t.customers:
                out.append((table, fk.parent.name))
    return out


class SqlErasure(Repo):
    async def lock_customer(self, customer_id: CustomerId) -> Customer | None:
        stmt = select(t.customers).where(t.customers.c.id == customer_id)
        if self._c.dialect.name == "postgresql":
            stmt = stmt.with_for_update()
        r = await self._one(stmt)
        return customer_from(r) if r else None

    async def conversations_of(self, customer_id: CustomerId) -> list[CustomerConversation]:
        c, h = t.conversations.c, t.legal_holds.c
        rows = await self._all(
            select(c.company_id, c.id, h.conversation_id.label("held"))
            .outerjoin(t.legal_holds, and_(h.company_id == c.company_id, h.conversation_id == c.id))
            .where(c.customer_id == customer_id)
            .order_by(c.company_id, c.id)
        )
        return [
            CustomerConversation(CompanyId(r.company_id), ConversationId(r.id), r.held is not None)
            for r in rows
        ]

    async def companies_of(self, customer_id: CustomerId) -> list[CompanyId]:
        sources = [
            select(tbl.c.company_id).where(tbl.c.customer_id == customer_id)
            for tbl in (t.conversations, t.sharing_grants, t.customer_numbers)
        ]
        rows = await self._all(union(*sources))
        return sorted(CompanyId(r[0]) for r in rows)

    async def restrict(
        self, company_id: CompanyId, conversation_ids: Sequence[ConversationId], now: datetime
    ) -> None:
        if not conversation_ids:
            return
        ids = sorted(conversation_ids)
        c = t.conversations.c
        await self._c.execute(
            update(t.conversations)
            .where(c.company_id == company_id, c.id.in_(ids), c.restricted_at.is_(None))
            .values(restricted_at=now)
        )
        await delete_events_txn(self._c, company_id, t.events.c.conversation_id.in_(ids))
        # read-only from now on: no pending job may act on it (a snooze wake-up, a reply by
        # mail to the erased address, a callback's reminder or missed-slot check)
        await delete_jobs_txn(self._c, company_id, ids)

    async def erase_customer(self, customer: Customer, now: datetime) -> list[str]:
        cid = customer.id
        x = t.data_exports.c
        keys = [
            r.storage_key
            for r in await self._all(
                select(x.storage_key).where(x.customer_id == cid, x.storage_key.is_not(None))
            )
        ]
        exports = [r.id for r in await self._all(select(x.id).where(x.customer_id == cid))]

        # jobs that would still act for the customer: mail to the address, export jobs, and
        # anything whose payload names the customer
        j = t.jobs.c
        callbacks = select(t.callbacks.c.id).where(t.callbacks.c.customer_id == cid)
        named = [
            j.payload["customer_id"].as_integer() == cid,
            j.payload["callback_id"].as_integer().in_(callbacks),
        ]
        if customer.email:
            named.append(j.payload["to"].as_string() == customer.email)
        if exports:
            named.append(j.payload["export_id"].as_integer().in_(exports))
        await self._c.execute(delete(t.jobs).where(or_(*named)))

        # the customer's own events (customer.shared_fields_changed …) in every company; the
        # events of their conversations went with the conversations (or with restrict())
        e = t.events.c
        companies = await self._all(
            select(e.company_id).where(e.customer_id == cid).group_by(e.company_id)
        )
        for row in companies:
            await delete_events_txn(self._c, CompanyId(row.company_id), e.customer_id == cid)

        s = t.sessions.c
        await self._c.execute(delete(t.sessions).where(s.kind == "customer", s.principal_id == cid))
        for table, column in foreign_key_tables():
            await self._c.execute(delete(table).where(table.c[column] == cid))

        await self._c.execute(
            update(t.customers)
            .where(t.customers.c.id == cid)
            .values(
                email=None,
                display_name="",
                password_hash="",
                email_verified_at=None,
                erased_at=now,
            )
        )
        return keys

    async def hold(
        self, company_id: CompanyId, conversation_id: ConversationId
    ) -> LegalHold | None:
        rows = await self._holds(
            t.legal_holds.c.company_id == company_id,
            t.legal_holds.c.conversation_id == conversation_id,
        )
        return rows[0] if rows else None

    async def holds_of(self, company_id: CompanyId, limit: int) -> list[LegalHold]:
        return await self._holds(t.legal_holds.c.company_id == company_id, limit=limit)

    async def _holds(self, *where: object, limit: int | None = None) -> list[LegalHold]:
        h, c = t.legal_holds.c, t.conversations.c
        stmt = (
            select(t.legal_holds, c.restricted_at)
            .join(t.conversations, c.id == h.conversation_id)
            .where(*where)  # type: ignore[arg-type]
            .order_by(h.created_at.desc(), h.conversation_id.desc())
        )
        if limit is not None:
            stmt = stmt.limit(limit)
        return [
            LegalHold(
                CompanyId(r.company_id),
                ConversationId(r.conversation_id),
                r.reason,
                r.created_by,
                r.created_at,
                r.restricted_at is not None,
            )
            for r in await self._all(stmt)
        ]

    async def set_hold(
        self,
        company_id: CompanyId,
        conversation_id: ConversationId,
        *,
        reason: str,
        created_by: str,
        now: datetime,
    ) -> None:
        h = t.legal_holds.c
        changed = await self._c.execute(
            update(t.legal_holds)
            .where(h.company_id == company_id, h.conversation_id == conversation_id)
            .values(reason=reason)
        )
        if changed.rowcount == 0:
            await self._c.execute(
                insert(t.legal_holds).values(
                    company_id=company_id,
                    conversation_id=conversation_id,
                    reason=reason,
                    created_by=created_by,
                    created_at=now,
                )
            )

    async def lift_hold(self, company_id: CompanyId, conversation_id: ConversationId) -> None:
        h = t.legal_holds.c
        await self._c.execute(
            delete(t.legal_holds).where(
                h.company_id == company_id, h.conversation_id == conversation_id
            )
        )
