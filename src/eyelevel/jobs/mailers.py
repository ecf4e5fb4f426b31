"""Mail delivery: printed to the console in development, SMTP (aiosmtplib) when configured."""

from __future__ import annotations

import sys
from email.message import EmailMessage
from typing import TextIO
from urllib.parse import unquote, urlsplit

import aiosmtplib

from eyelevel.core.ports import OutgoingMail


class ConsoleMailer:
    """Development outbox: writes each mail to a stream (stdout), never to the logs."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self._stream = stream or sys.stdout

    async def send(self, mail: OutgoingMail) -> None:
        self._stream.write(
            f"\n----- mail to {mail.to} -----\n"
            + (f"From: {mail.sender}\n" if mail.sender else "")
            + f"Subject: {mail.subject}\n\n{mail.text}\n"
            + "".join(f"[attachment: {a.name}]\n" for a in mail.attachments)
            + "----- end of mail -----\n"
        )
        self._stream.flush()


class MemoryMailer:
    """Keeps mails in a list (tests)."""

    def __init__(self) -> None:
        self.sent: list[OutgoingMail] = []

    async def send(self, mail: OutgoingMail) -> None:
        self.sent.append(mail)


class SmtpMailer:
    """``smtp://user:pass@host:587`` (STARTTLS when offered) or ``smtps://…:465`` (implicit TLS)."""

    def __init__(self, url: str, sender: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("EYELEVEL_SMTP_URL must look like smtp://user:pass@host:port")
        self._host = parts.hostname
        self._tls = parts.scheme == "smtps"
        self._port = parts.port or (465 if self._tls else 587)
        self._user = unquote(parts.username) if parts.username else None
        self._password = unquote(parts.password) if parts.password else None
        self._sender = sender

    async def send(self, mail: OutgoingMail) -> None:
        message = EmailMessage()
        message["From"] = mail.sender or self._sender
        message["To"] = mail.to
        message["Subject"] = mail.subject
        for name, value in mail.headers:
            message[name] = value
        message.set_content(mail.text)
        if mail.html is not None:
            message.add_alternative(mail.html, subtype="html")
        for file in mail.attachments:
            maintype, _, subtype = file.content_type.partition("/")
            message.add_attachment(
                file.data, maintype=maintype, subtype=subtype or "octet-stream", filename=file.name
            )
        await aiosmtplib.send(
            message,
            hostname=self._host,
            port=self._port,
            username=self._user,
            password=self._password,
            use_tls=self._tls,
            start_tls=None if not self._tls else False,
            timeout=20,
        )
