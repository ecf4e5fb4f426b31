"""A received MIME message as an :class:`~eyelevel.core.actions.mail_inbound.InboundMail`.

The text comes from the ``text/plain`` part when there is one, else from the ``text/html``
part made plain text (:func:`eyelevel.channels.email.html.html_to_text`); a simple quoted tail
is trimmed. Every other leaf part with a file name, or that is not text, is a file (the core
decides which are kept). Headers decide whether a machine sent the mail.
"""

from __future__ import annotations

import email
import email.policy
from email.message import EmailMessage, Message
from email.utils import getaddresses

from eyelevel.channels.email.html import html_to_text
from eyelevel.core.actions.mail_inbound import InboundFile, InboundMail
from eyelevel.core.rules.mail import automatic_reason, parse_refs, trim_quoted_tail

MAX_HEADER_CHARS = 2000


def _text_of(part: Message) -> str:
    try:
        content = part.get_content()  # type: ignore[attr-defined]
    except (LookupError, UnicodeError, ValueError, AssertionError):
        payload = part.get_payload(decode=True)
        content = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
    return content if isinstance(content, str) else ""


def _header(msg: Message, name: str) -> str:
    try:
        value = msg.get(name)
    except (ValueError, TypeError, IndexError):  # a header the parser cannot make sense of
        return ""
    return "" if value is None else str(value)[:MAX_HEADER_CHARS]


def _headers(msg: Message) -> dict[str, str]:
    out: dict[str, str] = {}
    for name in msg:
        out.setdefault(name.lower(), _header(msg, name))
    return out


def _sender(msg: Message) -> tuple[str, str]:
    found = getaddresses([_header(msg, "From")])
    for name, address in found:
        if address:
            return address, name
    return "", ""


def parse_mail(content: bytes, *, recipient: str, envelope_sender: str) -> InboundMail:
    msg = email.message_from_bytes(content, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    headers = _headers(msg)
    body_part = msg.get_body(preferencelist=("plain", "html"))
    text = ""
    if body_part is not None:
        text = _text_of(body_part)
        if body_part.get_content_subtype() == "html":
            text = html_to_text(text)
        text = trim_quoted_tail(text.replace("\r\n", "\n"))
    files: list[InboundFile] = []
    for part in msg.walk():
        if part.is_multipart() or part is body_part:
            continue
        name = part.get_filename()
        maintype = part.get_content_maintype()
        if name is None and maintype == "text":
            continue  # the alternative body, or a text part without a name
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes):
            files.append(InboundFile(name or "file", payload))
    sender, sender_name = _sender(msg)
    message_ids = parse_refs(headers.get("message-id"))
    return InboundMail(
        recipient=recipient,
        sender=sender,
        sender_name=sender_name,
        subject=" ".join(headers.get("subject", "").split()),
        message_id=message_ids[0] if message_ids else None,
        in_reply_to=parse_refs(headers.get("in-reply-to")),
        references=parse_refs(headers.get("references")),
        text=text,
        files=tuple(files),
        automatic=automatic_reason(headers, envelope_sender=envelope_sender),
    )
