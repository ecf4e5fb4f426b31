"""The mail outbox: queued with the change, delivered by the worker, over real SMTP when set."""

from __future__ import annotations

import email
import email.policy
import io
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import func, select

from eyelevel.app import build_runtime
from eyelevel.clock import FakeClock
from eyelevel.config import Settings
from eyelevel.core.actions.accounts import check_signup_customer
from eyelevel.core.ports import OutgoingMail, UnitOfWork
from eyelevel.jobs.mailers import ConsoleMailer, MemoryMailer, SmtpMailer
from eyelevel.jobs.worker import Worker, handlers
from eyelevel.security import Argon2Hasher
from eyelevel.storage import schema
from tests.harness import PASSWORD, free_socket


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(envelope)
        return "250 OK"


async def test_smtp_mailer_delivers_to_a_real_smtp_server() -> None:
    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()
    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        mailer = SmtpMailer(f"smtp://127.0.0.1:{port}", "eyelevel <noreply@example.com>")
        await mailer.send(OutgoingMail("kim@example.org", "Bitte bestätigen", "Hallo Kim,\nlink"))
    finally:
        controller.stop()
    assert len(inbox.messages) == 1
    envelope = inbox.messages[0]
    assert envelope.rcpt_tos == ["kim@example.org"]
    mail = email.message_from_bytes(envelope.content, policy=email.policy.default)
    assert mail["Subject"] == "Bitte bestätigen"
    assert mail["From"] == "eyelevel <noreply@example.com>"
    assert mail.get_content().replace("\r\n", "\n") == "Hallo Kim,\nlink\n"


def test_smtp_url_must_be_smtp() -> None:
    with pytest.raises(ValueError, match="EYELEVEL_SMTP_URL"):
        SmtpMailer("http://example.com", "x@example.com")


async def test_console_mailer_prints_the_mail() -> None:
    out = io.StringIO()
    await ConsoleMailer(out).send(OutgoingMail("a@example.org", "Hi", "body text"))
    assert "mail to a@example.org" in out.getvalue()
    assert "body text" in out.getvalue()


class _Flaky:
    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.sent: list[OutgoingMail] = []

    async def send(self, mail: OutgoingMail) -> None:
        if self.failures:
            self.failures -= 1
            raise ConnectionRefusedError
        self.sent.append(mail)


async def _jobs(uow: UnitOfWork) -> int:
    conn = uow.jobs._c  # type: ignore[attr-defined]
    return int((await conn.execute(select(func.count()).select_from(schema.jobs))).scalar_one())


async def test_signup_queues_mail_and_worker_retries_until_delivered(
    db_url: str, tmp_path: Path
) -> None:
    clock = FakeClock()
    settings = Settings(database_url=db_url, data_dir=tmp_path / "data", redis_url=None)
    rt = build_runtime(
        settings, mailer=MemoryMailer(), clock=clock, passwords=Argon2Hasher(fast=True)
    )
    await rt.start()
    try:
        await check_signup_customer(
            rt.ctx, email="kim@example.org", password=PASSWORD, display_name="Kim"
        )
        assert await rt.db.read(_jobs) == 1  # queued in the sign-up's own transaction
        flaky = _Flaky(failures=2)
        worker = Worker(rt.ctx, handlers(flaky, rt.ctx))
        assert await worker.run_once() == 1  # fails, rescheduled with backoff
        assert flaky.sent == []
        assert await worker.run_once() == 0  # not due yet
        clock.advance(timedelta(seconds=3))
        assert await worker.run_once() == 1  # fails again
        clock.advance(timedelta(seconds=5))
        assert await worker.run_once() == 1  # delivered
        assert [m.to for m in flaky.sent] == ["kim@example.org"]
        assert "/verify?token=" in flaky.sent[0].text
        assert await rt.db.read(_jobs) == 0  # done jobs are removed
        clock.advance(timedelta(hours=1))
        assert await worker.run_once() == 0  # and never sent twice
    finally:
        await rt.close()
