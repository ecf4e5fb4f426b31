"""A real SMTP server on a loopback port (aiosmtpd) that keeps every mail it receives.

Use it as a context manager; ``sink.url`` is an ``EYELEVEL_SMTP_URL`` pointing at it and
``sink.mails`` the parsed messages (``email.message.EmailMessage``) in arrival order.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import threading
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from tests.harness import free_socket


class SmtpSink:
    def __init__(self) -> None:
        self.envelopes: list[Any] = []
        self._arrived = threading.Condition()
        self._controller: Controller | None = None
        self.port = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._arrived:  # the controller runs in its own thread
            self.envelopes.append(envelope)
            self._arrived.notify_all()
        return "250 OK"

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    @property
    def mails(self) -> list[EmailMessage]:
        return [
            email.message_from_bytes(e.content, policy=email.policy.default)  # type: ignore[misc]
            for e in self.envelopes
        ]

    async def wait_for(self, count: int, timeout: float = 10.0) -> list[EmailMessage]:
        """The mails once at least ``count`` arrived (fails after ``timeout`` seconds)."""

        def wait() -> bool:
            with self._arrived:
                return self._arrived.wait_for(lambda: len(self.envelopes) >= count, timeout)

        if not await asyncio.to_thread(wait):
            raise TimeoutError(f"{len(self.envelopes)} of {count} mails arrived")
        return self.mails

    def __enter__(self) -> SmtpSink:
        sock = free_socket()
        self.port = sock.getsockname()[1]
        sock.close()
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._controller is not None:
            self._controller.stop()
