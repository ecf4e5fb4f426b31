"""The customer's data export (docs/privacy.md, *Export*): a ZIP with ``export.json`` (schema:
docs/privacy/export.schema.json), the attachments and a README, built by a job and kept for
24 hours.

Only the customer asks for it and downloads it. The export holds exactly what the customer can
see in the messenger: their account and profile, per company what they share and their number
there, every conversation with every message they can read (never a private note, never who
owns a conversation or its labels) — with its channel (for a mail the addresses), the topic
they chose, their callbacks and the complaint case as they see it — the files of those
messages, and their consent ledger.
"""

from __future__ import annotations

import asyncio
import io
import json
import secrets
import zipfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from eyelevel.core.actions.messages import with_attachments_txn
from eyelevel.core.complaints import customer_promise
from eyelevel.core.entities import Attachment, Channel, Company, Conversation, Message
from eyelevel.core.errors import DomainError, ErrorCode, not_found
from eyelevel.core.events import iso
from eyelevel.core.ids import CompanyId, CustomerId
from eyelevel.core.ports import (
    Context,
    ConversationFilter,
    DataExport,
    ListPosition,
    UnitOfWork,
)
from eyelevel.core.principals import CustomerPrincipal, Principal
from eyelevel.core.rules.sharing import FIELDS

BUILD = "export.build"
EXPIRE = "export.expire"
KEEP = timedelta(hours=24)
PER_DAY = 3  # requests per customer in any 24 hours
BUILD_DEADLINE = timedelta(hours=1)  # a pending export older than this has failed
FORMAT_VERSION = 1
_PAGE = 200
_MAX_LEDGER = 1_000_000

README = """\
eyelevel – Export Ihrer Daten / export of your data
=====================================================

DEUTSCH

Dieses Archiv enthält alle Daten, die eyelevel zu Ihrem Konto gespeichert hat und die Sie
selbst sehen können:

- export.json: Ihr Konto (Anzeigename, E-Mail-Adresse, angelegt am), Ihre Angaben (Vorname,
  Nachname, Telefonnummer, Postanschrift), je Unternehmen Ihre Kundennummer und welche Angaben
  Sie seit wann mit ihm teilen, alle Ihre Unterhaltungen mit allen Unternehmen mit jeder
  Nachricht, die Sie sehen können (bei E-Mails mit den Adressen, dazu Ihre Rückrufe und Ihre
  Reklamation, so wie Sie sie sehen), und Ihr Einwilligungsprotokoll (jede Freigabe und jeder
  Widerruf). Der Aufbau ist als JSON Schema veröffentlicht (docs/privacy/export.schema.json).
- attachments/: die Dateien aus Ihren Unterhaltungen, benannt als <Nummer>-<Dateiname>; in
  export.json verweist jede Nachricht unter "attachments" → "file" auf ihre Dateien.

Interne Notizen der Unternehmen, deren interne Zuständigkeiten und Kulanzregeln gehören
nicht zu Ihren Daten und sind nicht enthalten. Zeitangaben sind in UTC.

ENGLISH

This archive holds all data eyelevel stores about your account that you can see yourself:

- export.json: your account (display name, email address, created), your details (first
  name, last name, phone number, postal address), per company your customer number and which
  details you share with it since when, all your conversations with all companies with every
  message you can see (for emails with the addresses, and your callbacks and your complaint
  case as you see them), and your consent ledger (every grant and revocation). Its structure
  is published as a JSON Schema (docs/privacy/export.schema.json).
- attachments/: the files of your conversations, named <number>-<file name>; in export.json
  each message's "attachments" → "file" points to its files.

Companies' private notes, who works on a conversation inside a company and their goodwill
rules are not your data and are not included. Times are in UTC.
"""


@dataclass(frozen=True, slots=True)
class ExportView:
    """An export as the customer sees it: ``state`` already accounts for time."""

    id: int
    state: str  # pending | ready | failed | expired
    created_at: datetime
    ready_at: datetime | None
    expires_at: datetime | None
    size: int | None


def state_of(export: DataExport, now: datetime) -> str:
    if export.state == "ready" and export.expires_at is not None and export.expires_at <= now:
        return "expired"
    if export.state == "pending" and export.created_at + BUILD_DEADLINE <= now:
        return "failed"
    return export.state


def _view(export: DataExport, now: datetime) -> ExportView:
    state = state_of(export, now)
    ready = state == "ready"
    return ExportView(
        id=export.id,
        state=state,
        created_at=export.created_at,
        ready_at=export.ready_at,
        expires_at=export.expires_at,
        size=export.size if ready else None,
    )


def _customer(principal: Principal) -> CustomerPrincipal:
    if not isinstance(principal, CustomerPrincipal):
        raise DomainError(ErrorCode.FORBIDDEN, "only the customer exports their data")
    return principal


async def check_request_export(ctx: Context, principal: Principal) -> ExportView:
    """Queue an export: at most one pending at a time and ``PER_DAY`` in any 24 hours."""
    customer = _customer(principal)
    now = ctx.clock.now()

    async def txn(uow: UnitOfWork) -> ExportView:
        cid = customer.customer_id
        await uow.exports.lock_customer(cid)
        recent = await uow.exports.of_customer(cid, PER_DAY + 1)
        if any(state_of(e, now) == "pending" for e in recent):
            raise DomainError(ErrorCode.EXPORT_PENDING, "an export is already being prepared")
        if await uow.exports.count_since(cid, now - timedelta(hours=24)) >= PER_DAY:
            raise DomainError(
                ErrorCode.EXPORT_LIMIT, f"at most {PER_DAY} exports in 24 hours; try again later"
            )
        export = await uow.exports.create(cid, now)
        await uow.jobs.enqueue(BUILD, {"export_id": export.id}, now)
        return _view(export, now)

    return await ctx.db.write("request_export", txn)


async def my_exports(ctx: Context, principal: Principal, limit: int = 20) -> list[ExportView]:
    """The customer's exports, newest first."""
    customer = _customer(principal)
    now = ctx.clock.now()

    async def read(uow: UnitOfWork) -> list[DataExport]:
        return await uow.exports.of_customer(customer.customer_id, limit)

    return [_view(e, now) for e in await ctx.db.read(read)]


async def fetch_export(ctx: Context, principal: Principal, export_id: int) -> bytes:
    """The ZIP, while it is ready; another customer's export reads like a missing one."""
    customer = _customer(principal)
    now = ctx.clock.now()

    async def read(uow: UnitOfWork) -> DataExport | None:
        return await uow.exports.get(export_id)

    export = await ctx.db.read(read)
    if export is None or export.customer_id != customer.customer_id:
        raise not_found("export")
    state = state_of(export, now)
    if state == "expired":
        raise DomainError(ErrorCode.EXPORT_EXPIRED, "the export has expired; request a new one")
    if state != "ready" or export.storage_key is None:
        raise DomainError(ErrorCode.EXPORT_NOT_READY, f"the export is {state}")
    data = await ctx.files.get(export.storage_key)
    if data is None:
        raise DomainError(ErrorCode.EXPORT_EXPIRED, "the export has expired; request a new one")
    return data


# -- the jobs ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Gathered:
    document: dict[str, Any]
    # the attachment, and its entry in ``document`` ("file": its path in the ZIP, or None
    # when the stored file is missing)
    files: list[tuple[Attachment, dict[str, Any]]]


async def check_build_export(ctx: Context, export_id: int) -> None:
    """The job: gather, zip, store, mark ready and schedule the deletion. Idempotent: an
    export that is no longer pending is left alone; one past its deadline is marked failed."""
    now = ctx.clock.now()

    async def look(uow: UnitOfWork) -> DataExport | None:
        return await uow.exports.get(export_id)

    export = await ctx.db.read(look)
    if export is None or export.state != "pending":
        return
    if state_of(export, now) == "failed":

        async def fail(uow: UnitOfWork) -> None:
            await uow.exports.set_state(export_id, "failed")

        await ctx.db.write("fail_export", fail)
        return

    async def gather(uow: UnitOfWork) -> _Gathered:
        return await _gather_txn(uow, export.customer_id, now)

    gathered = await ctx.db.read(gather)
    contents: list[tuple[str, bytes]] = []
    for attachment, entry in gathered.files:
        data = await ctx.files.get(attachment.storage_key)
        if data is None:
            entry["file"] = None
        else:
            contents.append((entry["file"], data))
    archive = await asyncio.to_thread(_zip, gathered.document, contents)
    key = f"exports/{secrets.token_hex(16)}.zip"
    await ctx.files.put(key, archive)
    expires_at = now + KEEP

    async def ready(uow: UnitOfWork) -> bool:
        done = await uow.exports.set_ready(
            export_id, storage_key=key, size=len(archive), now=now, expires_at=expires_at
        )
        if done:
            await uow.jobs.enqueue(EXPIRE, {"export_id": export_id}, expires_at)
        return done

    try:
        done = await ctx.db.write("export_ready", ready)
    except BaseException:
        await ctx.files.delete(key)
        raise
    if not done:  # built twice (a lease ran out): the first one counts
        await ctx.files.delete(key)


async def check_expire_export(ctx: Context, export_id: int) -> None:
    """The job at ``expires_at``: delete the file, then mark the export expired."""
    now = ctx.clock.now()

    async def look(uow: UnitOfWork) -> DataExport | None:
        return await uow.exports.get(export_id)

    export = await ctx.db.read(look)
    if export is None or export.state != "ready":
        return
    if export.expires_at is not None and export.expires_at > now:

        async def later(uow: UnitOfWork) -> None:
            await uow.jobs.enqueue(EXPIRE, {"export_id": export_id}, export.expires_at or now)

        await ctx.db.write("export_expire_later", later)
        return
    if export.storage_key is not None:
        await ctx.files.delete(export.storage_key)

    async def expire(uow: UnitOfWork) -> None:
        await uow.exports.set_state(export_id, "expired")

    await ctx.db.write("export_expired", expire)


# -- what goes into it -------------------------------------------------------------------------


async def _conversations_txn(uow: UnitOfWork, customer_id: CustomerId) -> list[Conversation]:
    out: list[Conversation] = []
    after: ListPosition | None = None
    while True:
        page = await uow.conversations.listing(
            ConversationFilter(customer_id=customer_id, after=after, limit=_PAGE)
        )
        out += [li.conversation for li in page]
        if len(page) < _PAGE:
            return sorted(out, key=lambda c: (c.created_at, c.id))
        after = page[-1].position


async def _messages_txn(uow: UnitOfWork, conversation: Conversation) -> list[Message]:
    """Every message the customer can see: notes are never read."""
    out: list[Message] = []
    after = 0
    while True:
        page = await uow.messages.page(
            conversation, after_seq=after, before_seq=None, limit=_PAGE, include_notes=False
        )
        out += await with_attachments_txn(uow, page)
        if len(page) < _PAGE:
            return out
        after = page[-1].seq


async def _conversation_extras_txn(uow: UnitOfWork, c: Conversation) -> dict[str, Any]:
    """What else of the conversation the customer sees: where they wrote from (the channel,
    for a mail the address they wrote from and the company's), the topic they chose, their
    callbacks, and the complaint case as the customer sees it — never the company's owner,
    routing rule, call summary, goodwill policy, the case's trail or a proposal awaiting
    approval."""
    topic = await uow.routing.get_topic(c.company_id, c.topic_id) if c.topic_id else None
    thread = await uow.mail.thread(c.company_id, c.id) if c.channel == Channel.EMAIL else None
    callbacks = sorted(await uow.callbacks.of_conversation(c), key=lambda b: (b.created_at, b.id))
    case = await uow.complaints.of_conversation(c.company_id, c.id)
    complaint = None
    if case is not None:
        promise, promise_due = customer_promise(case)
        complaint = {
            "id": case.id,
            "state": case.state.value,
            "product": case.product,
            "reference": case.reference,
            "purchase_date": case.purchase_date.isoformat() if case.purchase_date else None,
            "category": case.category,
            "requested_remedy": case.requested_remedy.value if case.requested_remedy else None,
            "amount_cents": case.amount_cents,
            "granted_remedy": case.granted_remedy.value if case.granted_remedy else None,
            "granted_amount_cents": case.granted_amount_cents,
            "promise": promise,
            "promise_due": promise_due.isoformat() if promise_due else None,
            "created_at": iso(case.created_at),
            "decided_at": iso(case.decided_at),
            "fulfilled_at": iso(case.fulfilled_at),
        }
    return {
        "channel": c.channel,
        "email": None
        if thread is None
        else {"address": thread.address, "company_address": thread.inbound_address},
        "topic": topic.name if topic else None,
        "callbacks": [
            {
                "id": b.id,
                "state": b.state.value,
                "slot_start": iso(b.slot_start),
                "slot_end": iso(b.slot_end),
                "note": b.note,
                "outcome": b.outcome,
                "duration_seconds": b.duration_seconds,
                "rescheduled_from": b.rescheduled_from,
                "replaced_by": b.replaced_by,
                "created_at": iso(b.created_at),
            }
            for b in callbacks
        ],
        "complaint": complaint,
    }


def _author_type(m: Message) -> str:
    if m.author_customer_id is not None:
        return "customer"
    if m.author_agent_id is not None:
        return "agent"
    return "system" if m.kind.value == "system" else "bot"


async def _gather_txn(uow: UnitOfWork, customer_id: CustomerId, now: datetime) -> _Gathered:
    customer = await uow.accounts.get_customer(customer_id)
    if customer is None:
        raise not_found("customer")
    profile = await uow.sharing.profile(customer_id)
    numbers = await uow.exports.numbers(customer_id)
    conversations = await _conversations_txn(uow, customer_id)
    ledger = list(reversed(await uow.sharing.ledger(customer_id, _MAX_LEDGER)))  # oldest first
    granted = await uow.sharing.companies_granted(customer_id, FIELDS)
    company_ids = sorted(
        {*numbers, *granted, *(c.company_id for c in conversations)}
        | {e.company_id for e in ledger}
    )
    companies: dict[CompanyId, Company] = (
        {c.id: c for c in await uow.companies.get_many(company_ids)} if company_ids else {}
    )
    files: list[tuple[Attachment, dict[str, Any]]] = []
    conversations_out: list[dict[str, Any]] = []
    for c in conversations:
        messages_out = []
        for m in await _messages_txn(uow, c):
            attachments_out = []
            for a in m.attachments:
                entry = {
                    "id": a.id,
                    "name": a.name,
                    "content_type": a.content_type,
                    "size": a.size,
                    "created_at": iso(a.created_at),
                    "file": f"attachments/{a.id}-{a.name}",
                }
                files.append((a, entry))
                attachments_out.append(entry)
            messages_out.append(
                {
                    "id": m.id,
                    "seq": m.seq,
                    "kind": m.kind.value,
                    "author": {"type": _author_type(m), "name": m.author_name},
                    "body": m.body,
                    "created_at": iso(m.created_at),
                    "attachments": attachments_out,
                }
            )
        conversations_out.append(
            {
                "id": c.id,
                "company_id": c.company_id,
                "subject": c.subject,
                "status": c.status.value,
                "created_at": iso(c.created_at),
                "updated_at": iso(c.updated_at),
                "last_message_at": iso(c.last_message_at),
                "messages": messages_out,
                **await _conversation_extras_txn(uow, c),
            }
        )
    companies_out = []
    for company_id in company_ids:
        company = companies.get(company_id)
        grants = await uow.sharing.grants(customer_id, company_id)
        companies_out.append(
            {
                "id": company_id,
                "slug": company.slug if company else None,
                "name": company.name if company else None,
                "customer_number": numbers.get(company_id),
                "shared": [{"field": f, "since": iso(grants[f])} for f in FIELDS if f in grants],
            }
        )
    document = {
        "format": "eyelevel-export",
        "version": FORMAT_VERSION,
        "generated_at": iso(now),
        "account": {
            "id": customer.id,
            "display_name": customer.display_name,
            "email": customer.email,
            "email_verified": customer.email_verified,
            "created_at": iso(customer.created_at),
        },
        "profile": {
            "first_name": profile.first_name if profile else None,
            "last_name": profile.last_name if profile else None,
            "phone": profile.phone if profile else None,
            "address": profile.address if profile else None,
        },
        "companies": companies_out,
        "conversations": conversations_out,
        "consent_ledger": [
            {
                "id": e.id,
                "company_id": e.company_id,
                "action": e.action,
                "field": e.field,
                "screen": e.screen,
                "text_version": e.text_version,
                "created_at": iso(e.created_at),
            }
            for e in ledger
        ],
    }
    return _Gathered(document, files)


def _zip(document: dict[str, Any], files: list[tuple[str, bytes]]) -> bytes:
    """CPU-bound: callers run it in a thread. Files are stored as they are (mostly JPEG/PDF,
    compressed already); the text is deflated."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("README.txt", README)
        text = json.dumps(document, ensure_ascii=False, indent=2)
        z.writestr("export.json", text)
        for path, data in files:
            z.writestr(path, data, compress_type=zipfile.ZIP_STORED)
    return buf.getvalue()
