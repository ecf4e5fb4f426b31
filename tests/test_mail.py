"""The mail outbox: queued with the change, delivered by the worker, over real SMTP when set."""

from __future__ import annotations

import io
from datetime import timedelta
from pathlib import Path

import pytest
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
from tests.harness import PASSWORD
from tests.smtp_sink import SmtpSink


async def test_smtp_mailer_delivers_to_a_real_smtp_server() -> None:
    with SmtpSink() as sink:
        mailer = SmtpMailer(sink.url, "eyelevel <noreply@example.com>")
        await mailer.send(OutgoingMail("kim@example.org", "Bitte bestätigen", "Hallo Kim,\nlink"))
        await mailer.send(
            OutgoingMail(
                "kim@example.org",
                "Antwort",
                "plain",
                html="<p>rich</p>",
                headers=(("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),),
            )
        )
    assert len(sink.envelopes) == 2
    assert sink.envelopes[0].rcpt_tos == ["kim@example.org"]
    mail, rich = sink.mails
    assert mail["Subject"] == "Bitte bestätigen"
    assert mail["From"] == "eyelevel <noreply@example.com>"
    assert mail.get_content().replace("\r\n", "\n") == "Hallo Kim,\nlink\n"
    assert rich["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert rich.get_body(("plain",)).get_content().strip() == "plain"  # type: ignore[union-attr]
    assert rich.get_body(("html",)).get_content().strip() == "<p>rich</p>"  # type: ignore[union-attr]


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
