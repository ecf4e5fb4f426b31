"""The retention job's reads and deletions (docs/privacy.md, *Retention*).

A due conversation is deleted with every row that belongs to it, children first (the foreign
keys point that way), in the caller's transaction:

- the SQLite full-text index entries of its messages (FTS5 with external content needs the
  original body to remove a row's tokens, so this goes before the messages);
- ``mentions`` (their triggers keep ``conversation_mentions`` true, migration 0005),
  ``attachments`` (their files' keys are returned: files go after the commit), its email
  thread (``email_message_ids``, ``email_conversations``: the customer's address), ``messages``,
  ``conversation_labels``, ``read_markers``;
- the webhook deliveries (and their attempts) of its events, then its ``events``: the stream
  keeps its positions, a catch-up simply no longer contains them (as a fresh read no longer
  contains the conversation);
- its complaint case with the case's trail (``complaint_steps``);
- jobs whose payload names it or one of its callbacks (a pending snooze wake-up, a reply by
  mail, a callback's reminder and missed-slot check), then its ``callbacks``;
- the conversation itself (its trigger takes it out of ``conversation_counts``); an email-only
  customer whose last conversation that was loses the address (``email_senders``) and the name
  taken from the mail.

A conversation under legal hold (``legal_holds``) is never due, nor one with a promise still
open in it: an active callback (booked, calling) or an unsettled complaint case (open,
awaiting approval, granted but not fulfilled). Erasure (storage/erasure.py)
deletes a customer's conversations with :meth:`SqlRetention.delete_conversations` too, and
events with :func:`delete_events_txn`.

Every statement leads with ``company_id`` and uses an index (migration 0009 adds the ones
retention needs).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import bindparam, delete, exists, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlalchemy.sql.elements import ColumnElement

from eyelevel.core.callbacks import ACTIVE
from eyelevel.core.complaints import UNSETTLED
from eyelevel.core.entities import Status
from eyelevel.core.ids import CompanyId, ConversationId
from eyelevel.storage import schema as t
from eyelevel.storage.rows import Repo

_SCHEDULE_LOCK = 0x72657465  # "rete": one scheduler of the retention job at a time

_fts_delete = text(
    "INSERT INTO messages_fts(messages_fts, rowid, body) "
    "SELECT 'delete', id, body FROM messages "
    "WHERE company_id = :p_company AND conversation_id IN :p_ids"
).bindparams(bindparam("p_ids", expanding=True))


class SqlRetention(Repo):
    async def lock_schedule(self) -> None:
        if self._c.dialect.name == "postgresql":
            await self._c.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _SCHEDULE_LOCK})

    async def job_scheduled(self, kind: str, *, after: datetime | None) -> bool:
        j = t.jobs.c
        cond: list[ColumnElement[bool]] = [j.kind == kind]
        if after is not None:
            cond.append(j.run_at > after)
        row = await self._one(select(exists().where(*cond)))
        return bool(row is not None and row[0])

    async def companies(self) -> list[tuple[CompanyId, int]]:
        c = t.companies.c
        rows = await self._all(
            select(c.id, c.retention_days).where(c.retention_days.is_not(None)).order_by(c.id)
        )
        return [(CompanyId(r.id), int(r.retention_days)) for r in rows]

    async def due(
        self, company_id: CompanyId, before: datetime, limit: int
    ) -> list[ConversationId]:
        c, h = t.conversations.c, t.legal_holds.c
        cb, cc = t.callbacks.c, t.complaint_cases.c
        stmt = (
            select(c.id)
            .where(
                c.company_id == company_id,
                c.status == Status.RESOLVED.value,
                c.updated_at < before,
                ~exists().where(h.company_id == c.company_id, h.conversation_id == c.id),
                # a promise still open in it: a booked callback, an unsettled complaint case
                ~exists().where(
                    cb.company_id == c.company_id,
                    cb.conversation_id == c.id,
                    cb.state.in_([s.value for s in ACTIVE]),
                ),
                ~exists().where(
                    cc.company_id == c.company_id,
                    cc.conversation_id == c.id,
                    cc.state.in_([s.value for s in UNSETTLED]),
                ),
            )
            .order_by(c.updated_at, c.id)
            .limit(limit)
        )
        if self._c.dialect.name == "postgresql":
            stmt = stmt.with_for_update(skip_locked=True)
        return [ConversationId(r.id) for r in await self._all(stmt)]

    async def delete_conversations(
        self, company_id: CompanyId, conversation_ids: Sequence[ConversationId]
    ) -> list[str]:
        if not conversation_ids:
            return []
        ids = sorted(conversation_ids)
        m, a, e = t.messages.c, t.attachments.c, t.events.c
        messages = select(m.id).where(m.company_id == company_id, m.conversation_id.in_(ids))

        files = await self._all(
            select(a.storage_key, a.thumbnail_key).where(
                a.company_id == company_id, a.message_id.in_(messages)
            )
        )
        keys = [k for r in files for k in (r.storage_key, r.thumbnail_key) if k]

        if self._c.dialect.name == "sqlite":
            await self._c.execute(_fts_delete, {"p_company": company_id, "p_ids": ids})
        await self._c.execute(
            delete(t.mentions).where(
                t.mentions.c.company_id == company_id, t.mentions.c.message_id.in_(messages)
            )
        )
        await self._c.execute(
            delete(t.attachments).where(a.company_id == company_id, a.message_id.in_(messages))
        )
        for mail_table in (t.email_message_ids, t.email_conversations):
            await self._c.execute(
                delete(mail_table).where(
                    mail_table.c.company_id == company_id,
                    mail_table.c.conversation_id.in_(ids),
                )
            )
        await self._c.execute(
            delete(t.messages).where(m.company_id == company_id, m.conversation_id.in_(ids))
        )
        for table in (
            t.conversation_labels,
            t.read_markers,
            t.contact_starts,
            t.notifications,
            t.sla_clocks,
            t.conversation_ratings,
        ):
            await self._c.execute(
                delete(table).where(
                    table.c.company_id == company_id, table.c.conversation_id.in_(ids)
                )
            )

        await delete_events_txn(self._c, company_id, e.conversation_id.in_(ids))

        cases = select(t.complaint_cases.c.id).where(
            t.complaint_cases.c.company_id == company_id,
            t.complaint_cases.c.conversation_id.in_(ids),
        )
        await self._c.execute(
            delete(t.complaint_steps).where(
                t.complaint_steps.c.company_id == company_id,
                t.complaint_steps.c.case_id.in_(cases),
            )
        )
        await self._c.execute(
            delete(t.complaint_cases).where(
                t.complaint_cases.c.company_id == company_id,
                t.complaint_cases.c.conversation_id.in_(ids),
            )
        )

        await delete_jobs_txn(self._c, company_id, ids)
        cb = t.callbacks.c
        await self._c.execute(
            delete(t.callbacks).where(cb.company_id == company_id, cb.conversation_id.in_(ids))
        )
        c = t.conversations.c
        owners = [
            r.customer_id
            for r in await self._all(
                select(c.customer_id)
                .where(c.company_id == company_id, c.id.in_(ids))
                .group_by(c.customer_id)
            )
        ]
        await self._c.execute(
            delete(t.conversations).where(c.company_id == company_id, c.id.in_(ids))
        )
        await _forget_mail_senders_txn(self._c, owners)
        return keys


async def _forget_mail_senders_txn(conn: AsyncConnection, customer_ids: Sequence[int]) -> None:
    """An email-only customer (made for an address that wrote, docs/email.md) whose last
    conversation is gone: the address and the name taken from the mail go too. The row stays,
    empty, so the ids kept elsewhere (the stream's positions, the consent ledger) still point
    somewhere; a later mail from the address makes a new one."""
    if not customer_ids:
        return
    s, c, k = t.email_senders.c, t.conversations.c, t.customers.c
    rows = await conn.execute(
        select(s.customer_id).where(
            s.customer_id.in_(sorted(customer_ids)),
            ~exists().where(c.customer_id == s.customer_id),
        )
    )
    gone = sorted({r.customer_id for r in rows})
    if not gone:
        return
    await conn.execute(delete(t.email_senders).where(s.customer_id.in_(gone)))
    await conn.execute(
        update(t.customers).where(k.id.in_(gone), k.email.is_(None)).values(display_name="")
    )


async def delete_jobs_txn(
    conn: AsyncConnection, company_id: CompanyId, conversation_ids: Sequence[ConversationId]
) -> None:
    """Delete the pending jobs that would still act on these conversations: those whose payload
    names one of them (a snooze wake-up, a reply by mail) and those naming one of their
    callbacks (the reminder and the missed-slot check carry only the callback's id)."""
    j, cb = t.jobs.c, t.callbacks.c
    callbacks = select(cb.id).where(
        cb.company_id == company_id, cb.conversation_id.in_(conversation_ids)
    )
    await conn.execute(
        delete(t.jobs).where(
            or_(
                j.payload["conversation_id"].as_integer().in_(conversation_ids),
                j.payload["callback_id"].as_integer().in_(callbacks),
            )
        )
    )


async def delete_events_txn(
    conn: AsyncConnection, company_id: CompanyId, which: ColumnElement[bool]
) -> None:
    """Delete the company's events matching ``which`` with the webhook deliveries made from
    them and their attempts (children first)."""
    e, d, w = t.events.c, t.webhook_deliveries.c, t.webhook_attempts.c
    positions = select(e.pos).where(e.company_id == company_id, which)
    deliveries = select(d.id).where(d.company_id == company_id, d.event_pos.in_(positions))
    await conn.execute(
        delete(t.webhook_attempts).where(w.company_id == company_id, w.delivery_id.in_(deliveries))
    )
    await conn.execute(
        delete(t.webhook_deliveries).where(d.company_id == company_id, d.event_pos.in_(positions))
    )
    await conn.execute(delete(t.events).where(e.company_id == company_id, which))
