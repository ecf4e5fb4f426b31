"""The inbound SMTP server: aiosmtpd's protocol on a socket of the running event loop.

It runs in the process's own loop (not aiosmtpd's ``Controller`` thread), so the core's
actions use the same database connections as the rest of the process. Plain SMTP without TLS
or authentication, meant behind the MX that faces the internet (docs/email.md); logs name the
outcome and size of a mail, never its addresses or text.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import structlog
from aiosmtpd.smtp import SMTP

from eyelevel.channels.email.parse import parse_mail
from eyelevel.core.actions.mail_inbound import check_receive_mail, known_recipient
from eyelevel.core.ports import Context

log = structlog.get_logger("eyelevel.smtp")
MAX_RECIPIENTS = 20
DEFAULT_MAX_BYTES = 25 * 1024 * 1024


class InboundHandler:
    """aiosmtpd's hooks: who may receive (``RCPT``), and what a received mail becomes."""

    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if len(envelope.rcpt_tos) >= MAX_RECIPIENTS:
            return "452 4.5.3 Too many recipients"
        try:
            known = await known_recipient(self._ctx, address)
        except Exception as exc:  # noqa: BLE001 - the sender retries a temporary failure
            log.warning("smtp_rcpt_failed", error=type(exc).__name__)
            return "451 4.3.0 Try again later"
        if not known:
            return "550 5.1.1 No such recipient here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        content = envelope.original_content or envelope.content
        if isinstance(content, str):
            content = content.encode("utf-8", "surrogateescape")
        try:
            for recipient in envelope.rcpt_tos:
                mail = parse_mail(
                    content, recipient=recipient, envelope_sender=envelope.mail_from or ""
                )
                received = await check_receive_mail(self._ctx, mail)
                log.info(
                    "mail_received",
                    outcome=received.outcome.value,
                    conversation=received.conversation_id,
                    size=len(content),
                    files=len(mail.files),
                )
        except Exception as exc:  # noqa: BLE001 - answered 451: the sender retries later
            log.warning("mail_failed", error=type(exc).__name__)
            return "451 4.3.0 Try again later"
        return "250 OK"


async def start_listener(
    ctx: Context,
    host: str,
    port: int,
    *,
    max_bytes: int = DEFAULT_MAX_BYTES,
    hostname: str = "eyelevel",
) -> asyncio.Server:
    """Listen for SMTP on ``host:port`` in the running loop; close the returned server to stop.
    Mails larger than ``max_bytes`` are refused at ``DATA`` (552)."""
    logging.getLogger("mail.log").setLevel(logging.WARNING)  # its INFO lines name addresses
    handler = InboundHandler(ctx)
    loop = asyncio.get_running_loop()
    return await loop.create_server(
        lambda: SMTP(
            handler,
            data_size_limit=max_bytes,
            hostname=hostname,
            ident="eyelevel",
            enable_SMTPUTF8=True,
            timeout=120,
        ),
        host=host,
        port=port,
    )


def parse_listen(value: str) -> tuple[str, int]:
    """``127.0.0.1:2525`` / ``[::1]:2525`` → host and port."""
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError("EYELEVEL_SMTP_LISTEN must look like 127.0.0.1:2525")
    return host.strip("[]"), int(port)
