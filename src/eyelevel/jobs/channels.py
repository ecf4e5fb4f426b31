"""Notification channels: the one place where a channel is registered.

:func:`channel_senders` maps a channel's name (as customers choose it: ``email``, ``push``) to
a :class:`~eyelevel.core.ports.ChannelSender`. The pipeline (``core.actions.notifications``)
plans a notification only for a channel registered here and hands each batch to its sender.
To add a channel, write a sender (``async send(batch) -> bool``: False when there is nowhere
to deliver, raise to retry) and add it to the dict below.
"""

from __future__ import annotations

from html import escape

from eyelevel.core.actions import push
from eyelevel.core.ports import ChannelSender, Context, Mailer, NotificationBatch, OutgoingMail

_TEXT = {
    "de": {
        "subject": "Neue Antwort von {company}",
        "subject_n": "{n} neue Antworten von {company}",
        "intro": "{company} hat dir in deinem Anliegen geantwortet.",
        "intro_n": "{company} hat dir {n} Nachrichten in deinem Anliegen geschrieben.",
        "topic": "Anliegen: {subject}",
        "read": "Lies und antworte im Messenger:",
        "why": "Du bekommst diese E-Mail, weil du Benachrichtigungen von {company} per E-Mail "
        "erlaubt hast. Keine E-Mails mehr von {company}:",
        "stop": "Abmelden",
    },
    "en": {
        "subject": "New reply from {company}",
        "subject_n": "{n} new replies from {company}",
        "intro": "{company} replied in your conversation.",
        "intro_n": "{company} wrote {n} messages in your conversation.",
        "topic": "Conversation: {subject}",
        "read": "Read and reply in the messenger:",
        "why": "You get this email because you allowed notifications from {company} by email. "
        "No more emails from {company}:",
        "stop": "Unsubscribe",
    },
}


def _part(lang: str, batch: NotificationBatch) -> tuple[str, str, str]:
    """(subject, plain text, HTML) in one language."""
    t = _TEXT[lang]
    n = len(batch.messages)
    fill = {"company": batch.company_name, "n": n, "subject": batch.subject or ""}
    subject = (t["subject"] if n == 1 else t["subject_n"]).format(**fill)
    lines = [(t["intro"] if n == 1 else t["intro_n"]).format(**fill), ""]
    html = [f"<p>{escape(lines[0])}</p>"]
    if batch.subject:
        lines += [t["topic"].format(**fill), ""]
        html.append(f"<p>{escape(t['topic'].format(**fill))}</p>")
    for m in batch.messages:
        if m.body is not None:
            lines += [f"{m.author_name}:", *(f"> {line}" for line in m.body.splitlines()), ""]
            html.append(
                f"<p><strong>{escape(m.author_name)}:</strong><br>"
                + "<br>".join(escape(line) for line in m.body.splitlines())
                + "</p>"
            )
    lines += [t["read"], batch.link, "", "--", t["why"].format(**fill), batch.unsubscribe_url]
    html.append(f'<p><a href="{escape(batch.link)}">{escape(t["read"])}</a></p>')
    html.append(
        f"<p><small>{escape(t['why'].format(**fill))} "
        f'<a href="{escape(batch.unsubscribe_url)}">{escape(t["stop"])}</a></small></p>'
    )
    return subject, "\n".join(lines), "\n".join(html)


def notification_mail(batch: NotificationBatch, to: str) -> OutgoingMail:
    """In the customer's language, or German and English when it is not known. The text of
    the messages only when the customer chose so; always the one-click unsubscribe
    (RFC 8058: ``List-Unsubscribe`` with ``List-Unsubscribe-Post``)."""
    langs = [batch.language] if batch.language in _TEXT else ["de", "en"]
    parts = [_part(lang, batch) for lang in langs if lang is not None]
    subject = " / ".join(p[0] for p in parts)
    text = "\n\n".join(p[1] for p in parts) + "\n"
    html = (
        "<!doctype html>\n<html><body>\n"
        + "\n<hr>\n".join(p[2] for p in parts)
        + "\n</body></html>\n"
    )
    return OutgoingMail(
        to,
        subject,
        text,
        html=html,
        headers=(
            ("List-Unsubscribe", f"<{batch.unsubscribe_url}>"),
            ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
            ("Auto-Submitted", "auto-generated"),
        ),
    )


class EmailChannel:
    """Notifications by email through the configured :class:`Mailer` (SMTP in production)."""

    def __init__(self, mailer: Mailer) -> None:
        self._mailer = mailer

    async def send(self, batch: NotificationBatch) -> bool:
        if batch.email is None or not batch.messages:
            return False  # no verified address: nowhere to send
        await self._mailer.send(notification_mail(batch, batch.email))
        return True


class PushChannel:
    """Web push: one encrypted notification per device of the customer, queued as ``push.send``
    jobs (``core/actions/push.py``); False when the customer has no device."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    async def send(self, batch: NotificationBatch) -> bool:
        return await push.check_push_batch(self._ctx, batch)


def channel_senders(mailer: Mailer, ctx: Context) -> dict[str, ChannelSender]:
    """Every notification channel this server delivers on, by the name customers choose."""
    return {"email": EmailChannel(mailer), "push": PushChannel(ctx)}
