"""An answer in an email conversation goes out as a mail (docs/email.md).

In the transaction that stores an agent's (or an integration's) message in a conversation with
channel ``email``, :func:`queue_reply_txn` generates the mail's ``Message-ID``, stores it with
the conversation's other ids and queues one ``send_email_reply`` job: the job queue delivers it
at least once. :func:`build_reply` makes the mail; after the SMTP server accepted it,
:func:`mark_sent` records that, and a job that runs again for a mail already accepted sends
nothing. (Only a crash between the server's acceptance and that record repeats a mail, and then
with the same ``Message-ID``, which mail programs show once.) Private notes never leave.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from email.utils import formataddr
from typing import Any

from eyelevel.core.entities import Conversation, Message, MessageKind
from eyelevel.core.ids import CompanyId, ConversationId, MessageId
from eyelevel.core.ports import Context, MailAttachment, OutgoingMail, UnitOfWork
from eyelevel.core.rules.mail import html_of_text, reply_subject

SEND_REPLY = "send_email_reply"  # job kind; payload {company_id, conversation_id, message_id, seq}
MAX_REFERENCES = 20  # the first id and the newest ones (RFC 5322 §3.6.4 allows trimming)
SENT_KINDS = frozenset({MessageKind.AGENT, MessageKind.BOT})


async def queue_reply_txn(
    uow: UnitOfWork, ctx: Context, conversation: Conversation, message: Message
) -> None:
    """Queue the mail for a new company message in an email conversation (in its transaction)."""
    if message.kind not in SENT_KINDS:
        return
    thread = await uow.mail.thread(conversation.company_id, conversation.id)
    if thread is None:
        return
    domain = thread.inbound_address.rsplit("@", 1)[1]
    ref = f"{secrets.token_hex(12)}.{message.id}@{domain}"
    now = ctx.clock.now()
    await uow.mail.add_ref(
        conversation.company_id,
        conversation.id,
        ref=ref,
        message_id=message.id,
        direction="out",
        now=now,
    )
    await uow.jobs.enqueue(
        SEND_REPLY,
        {
            "company_id": conversation.company_id,
            "conversation_id": conversation.id,
            "message_id": message.id,
            "seq": message.seq,
        },
        now,
    )


@dataclass(frozen=True, slots=True)
class Reply:
    mail: OutgoingMail
    company_id: CompanyId
    ref: str


async def build_reply(ctx: Context, payload: dict[str, Any]) -> Reply | None:
    """The mail for a ``send_email_reply`` job; None when there is nothing (left) to send: it
    was sent already, or the conversation was deleted meanwhile."""
    company_id = CompanyId(int(payload["company_id"]))
    conversation_id = ConversationId(int(payload["conversation_id"]))
    message_id = MessageId(int(payload["message_id"]))
    seq = int(payload["seq"])

    async def read(uow: UnitOfWork) -> tuple[OutgoingMail, list[tuple[str, str, str]]] | None:
        out = await uow.mail.outbound_of(company_id, message_id)
        if out is None or out.sent_at is not None:
            return None
        conversation = await uow.conversations.get(conversation_id)
        thread = await uow.mail.thread(company_id, conversation_id)
        company = await uow.companies.get(company_id)
        if conversation is None or thread is None or company is None:
            return None
        page = await uow.messages.page(
            conversation, after_seq=seq - 1, before_seq=None, limit=1, include_notes=False
        )
        if not page or page[0].id != message_id:
            return None
        message = page[0]
        files = (await uow.attachments.of_messages([message])).get(message.id, ())
        refs = await uow.mail.refs_of(company_id, conversation_id)
        earlier = refs[: refs.index(out.ref)] if out.ref in refs else refs
        ours = thread.inbound_address
        if await uow.mail.address_owner(ours) != company_id:
            current = await uow.mail.addresses_of(company_id)
            ours = current[0] if current else ours
        headers: list[tuple[str, str]] = [
            ("Message-ID", f"<{out.ref}>"),
            ("Reply-To", ours),
        ]
        if earlier:
            kept = earlier[:1] + earlier[1:][-(MAX_REFERENCES - 1) :]
            headers.append(("In-Reply-To", f"<{earlier[-1]}>"))
            headers.append(("References", " ".join(f"<{r}>" for r in kept)))
        text = message.body.strip()
        signature = company.name
        if message.author_name:
            signature = f"{message.author_name} · {company.name}"
        text = f"{text}\n\n-- \n{signature}\n" if text else f"-- \n{signature}\n"
        mail = OutgoingMail(
            to=thread.address,
            subject=reply_subject(conversation.subject or company.name),
            text=text,
            html=html_of_text(text),
            headers=tuple(headers),
            sender=formataddr((company.name, ours)),
        )
        return mail, [(f.name, f.content_type, f.storage_key) for f in files]

    found = await ctx.db.read(read)
    if found is None:
        return None
    mail, files = found
    attachments = []
    for name, content_type, key in files:
        data = await ctx.files.get(key)
        if data is not None:
            attachments.append(MailAttachment(name, content_type, data))
    ref = dict(mail.headers)["Message-ID"].strip("<>")
    return Reply(
        OutgoingMail(
            mail.to,
            mail.subject,
            mail.text,
            html=mail.html,
            headers=mail.headers,
            sender=mail.sender,
            attachments=tuple(attachments),
        ),
        company_id,
        ref,
    )


async def mark_sent(ctx: Context, reply: Reply) -> None:
    async def txn(uow: UnitOfWork) -> None:
        await uow.mail.mark_sent(reply.company_id, reply.ref, ctx.clock.now())

    await ctx.db.write("mark_mail_sent", txn)
