"""The job worker: claims due jobs with a lease, runs them, retries failures with backoff.

A job is deleted only after its handler succeeded, so a crash mid-job means it runs again after
its lease expires (at least once).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

import structlog

from eyelevel.core.actions import (
    callbacks,
    complaints,
    conversations,
    deliveries,
    exports,
    mail_outbound,
    notifications,
    push,
    retention,
    sla,
    webhooks,
)
from eyelevel.core.callbacks import CallbackId
from eyelevel.core.complaints import CaseId
from eyelevel.core.ids import ConversationId, MessageId
from eyelevel.core.ports import ChannelSender, Context, Job, Mailer, OutgoingMail, UnitOfWork
from eyelevel.core.push import SEND as PUSH_SEND
from eyelevel.core.webhooks import WebhookDeliveryId
from eyelevel.jobs.channels import channel_senders

log = structlog.get_logger("eyelevel.worker")
Handler = Callable[[dict[str, Any]], Awaitable[None]]
LEASE = timedelta(minutes=2)
MAX_ATTEMPTS = 12


def handlers(
    mailer: Mailer, ctx: Context, *, channels: Mapping[str, ChannelSender] | None = None
) -> dict[str, Handler]:
    """The job kinds this worker runs. ``channels``: the notification senders (default:
    ``jobs.channels.channel_senders``, the one place a channel is registered)."""
    senders = dict(channels) if channels is not None else channel_senders(mailer, ctx)

    async def send_mail(payload: dict[str, Any]) -> None:
        await mailer.send(
            OutgoingMail(
                payload["to"],
                payload["subject"],
                payload["text"],
                html=payload.get("html"),
                headers=tuple((str(k), str(v)) for k, v in payload.get("headers", [])),
            )
        )

    async def send_email_reply(payload: dict[str, Any]) -> None:
        reply = await mail_outbound.build_reply(ctx, payload)
        if reply is None:  # sent before (a repeated job), or its conversation is gone
            return
        await mailer.send(reply.mail)
        await mail_outbound.mark_sent(ctx, reply)

    async def wake_snoozed(payload: dict[str, Any]) -> None:
        await conversations.check_wake_snoozed(
            ctx,
            ConversationId(int(payload["conversation_id"])),
            datetime.fromisoformat(payload["snoozed_until"]),
        )

    async def sla_timer(payload: dict[str, Any]) -> None:
        await sla.check_sla_timer(
            ctx,
            int(payload["clock_id"]),
            str(payload["kind"]),
            datetime.fromisoformat(payload["at"]),
        )

    async def deliver_webhook(payload: dict[str, Any]) -> None:
        await deliveries.check_deliver(
            ctx, WebhookDeliveryId(int(payload["delivery_id"])), int(payload["attempts"])
        )

    async def send_push(payload: dict[str, Any]) -> None:
        outcome = await push.check_send_push(ctx, payload)
        # the id and the outcome only: never the endpoint, the keys or what it says
        log.info("push_send", subscription=payload.get("subscription_id"), outcome=outcome)

    async def build_export(payload: dict[str, Any]) -> None:
        await exports.check_build_export(ctx, int(payload["export_id"]))

    async def expire_export(payload: dict[str, Any]) -> None:
        await exports.check_expire_export(ctx, int(payload["export_id"]))

    async def run_retention(payload: dict[str, Any]) -> None:
        result = await retention.check_run_retention(ctx)
        # counts only: never what was deleted
        log.info(
            "retention_run",
            conversations=result.conversations,
            files_failed=result.files_failed,
            more=result.more,
        )

    async def complaint_promise_due(payload: dict[str, Any]) -> None:
        await complaints.check_promise_due(
            ctx,
            CaseId(int(payload["case_id"])),
            int(payload["conversation_id"]),
            str(payload["due"]),
        )

    async def remind_callback(payload: dict[str, Any]) -> None:
        await callbacks.check_remind(ctx, CallbackId(int(payload["callback_id"])))

    async def check_missed_callback(payload: dict[str, Any]) -> None:
        await callbacks.check_missed(ctx, CallbackId(int(payload["callback_id"])))

    async def plan_notification(payload: dict[str, Any]) -> None:
        await notifications.check_plan(
            ctx,
            ConversationId(int(payload["conversation_id"])),
            MessageId(int(payload["message_id"])),
            int(payload["seq"]),
            channels=frozenset(senders),
        )

    async def deliver_notification(payload: dict[str, Any]) -> None:
        await notifications.check_deliver(
            ctx, senders, ConversationId(int(payload["conversation_id"])), str(payload["channel"])
        )

    return {
        "send_mail": send_mail,
        mail_outbound.SEND_REPLY: send_email_reply,
        callbacks.REMIND: remind_callback,
        complaints.PROMISE_DUE: complaint_promise_due,
        callbacks.CHECK_MISSED: check_missed_callback,
        notifications.NOTIFY: plan_notification,
        notifications.DELIVER: deliver_notification,
        retention.RUN: run_retention,
        exports.BUILD: build_export,
        exports.EXPIRE: expire_export,
        conversations.WAKE_SNOOZED: wake_snoozed,
        sla.SLA_TIMER: sla_timer,
        webhooks.DELIVER: deliver_webhook,
        PUSH_SEND: send_push,
    }


class Worker:
    def __init__(
        self,
        ctx: Context,
        handlers: dict[str, Handler],
        *,
        idle_seconds: float = 0.5,
        lease: timedelta = LEASE,
    ) -> None:
        self._ctx = ctx
        self._handlers = handlers
        self._idle = idle_seconds
        self._lease = lease

    async def run_once(self, limit: int = 20) -> int:
        """Relay new events to webhook deliveries, then claim and run up to ``limit`` due
        jobs; returns how many were claimed."""
        await webhooks.relay_events(self._ctx)
        now = self._ctx.clock.now()

        async def claim(uow: UnitOfWork) -> list[Job]:
            return await uow.jobs.claim(now, now + self._lease, limit)

        jobs = await self._ctx.db.write("claim_jobs", claim)
        for job in jobs:
            await self._run(job)
        return len(jobs)

    async def _run(self, job: Job) -> None:
        handler = self._handlers.get(job.kind)
        try:
            if handler is None:
                raise LookupError(job.kind)
            await handler(job.payload)
        except Exception as exc:  # noqa: BLE001 - any failure is retried, never lost
            error = type(exc).__name__
            if job.attempts >= MAX_ATTEMPTS:
                log.error("job_gave_up", job=job.id, kind=job.kind, error=error)
            else:
                log.warning("job_failed", job=job.id, kind=job.kind, error=error)
            delay = timedelta(seconds=min(3600, 2**job.attempts))
            run_at = self._ctx.clock.now() + (
                delay if job.attempts < MAX_ATTEMPTS else timedelta(days=365)
            )

            async def retry(uow: UnitOfWork) -> None:
                await uow.jobs.retry(job.id, run_at, error)

            await self._ctx.db.write("retry_job", retry)
            return

        async def done(uow: UnitOfWork) -> None:
            await uow.jobs.complete(job.id)

        await self._ctx.db.write("complete_job", done)

    async def run_forever(self) -> None:
        scheduled = False  # the daily retention run, queued once per worker start
        while True:
            try:
                if not scheduled:
                    await retention.ensure_scheduled(self._ctx)
                    scheduled = True
                claimed = await self.run_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the loop must survive a database hiccup
                log.warning("worker_loop_error", error=type(exc).__name__)
                claimed = 0
            if claimed == 0:
                await asyncio.sleep(self._idle)
