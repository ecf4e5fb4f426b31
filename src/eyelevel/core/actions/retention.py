"""Retention (docs/privacy.md, *Retention*): a company keeps resolved conversations for
``retention_days`` (or for ever); a daily job deletes what is due.

When a conversation is due: it is resolved and has not changed for ``retention_days``. There is
no separate ``resolved_at``: resolving sets ``updated_at``, and so does everything that changes
a resolved conversation afterwards (a note, a new owner). So the clock starts at the resolution
or at the last change after it, whichever is later: never earlier than the rule promises. A
conversation reopened meanwhile is not resolved and is spared; resolved again, its clock starts
again.

The job (``retention.run``): it schedules its next run first (a run that fails is retried by the
worker, the daily rhythm stays), then per company deletes due conversations in transactions of
:data:`BATCH`, each taking (and on PostgreSQL locking, skipping rows another transaction holds)
the next due ones. A crash or a second worker never fails or deletes twice: a deleted
conversation is simply no longer due, and running again continues where it stopped. The stored
files go after each transaction commits; one that cannot be deleted is counted, never retried
(its row is gone, nothing refers to it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from eyelevel.core.ids import CompanyId, ConversationId
from eyelevel.core.ports import Context, UnitOfWork

RUN = "retention.run"  # the job kind; payload {}
INTERVAL = timedelta(days=1)
BATCH = 200  # conversations per transaction
MAX_BATCHES = 100  # per run; more due → the run continues in a new job right away


@dataclass(frozen=True, slots=True)
class RetentionResult:
    conversations: int  # deleted
    files_failed: int  # stored files whose deletion failed (their rows are gone)
    more: bool  # stopped at MAX_BATCHES with more due; a continuation is queued


async def ensure_scheduled(ctx: Context) -> None:
    """At a worker's start: make sure a retention run is queued (now, when there is none).

    Under the schedule lock, so several workers starting at once queue one run.
    """
    now = ctx.clock.now()

    async def txn(uow: UnitOfWork) -> None:
        await uow.retention.lock_schedule()
        if not await uow.retention.job_scheduled(RUN, after=None):
            await uow.jobs.enqueue(RUN, {}, now)

    await ctx.db.write("retention_schedule", txn)


async def check_run_retention(ctx: Context) -> RetentionResult:
    """The daily job: delete every due conversation of every company with retention."""
    now = ctx.clock.now()

    async def schedule(uow: UnitOfWork) -> None:
        await uow.retention.lock_schedule()
        if not await uow.retention.job_scheduled(RUN, after=now):
            await uow.jobs.enqueue(RUN, {}, now + INTERVAL)

    await ctx.db.write("retention_schedule", schedule)

    async def companies(uow: UnitOfWork) -> list[tuple[CompanyId, int]]:
        return await uow.retention.companies()

    deleted = failed = batches = 0
    for company_id, days in await ctx.db.read(companies):
        before = now - timedelta(days=days)
        while batches < MAX_BATCHES:
            batches += 1
            ids, keys = await _delete_batch(ctx, company_id, before)
            deleted += len(ids)
            failed += await delete_files(ctx, keys)
            if len(ids) < BATCH:
                break
        if batches >= MAX_BATCHES:
            break
    more = batches >= MAX_BATCHES
    if more:

        async def carry_on(uow: UnitOfWork) -> None:
            await uow.jobs.enqueue(RUN, {}, now)

        await ctx.db.write("retention_continue", carry_on)
    return RetentionResult(conversations=deleted, files_failed=failed, more=more)


async def _delete_batch(
    ctx: Context, company_id: CompanyId, before: datetime
) -> tuple[list[ConversationId], list[str]]:
    async def txn(uow: UnitOfWork) -> tuple[list[ConversationId], list[str]]:
        ids = await uow.retention.due(company_id, before, BATCH)
        return ids, await uow.retention.delete_conversations(company_id, ids)

    return await ctx.db.write("retention_delete", txn)


async def delete_files(ctx: Context, keys: list[str]) -> int:
    """After the commit: the stored files of deleted rows (attachments, exports). Returns how
    many failed (erasure uses it too)."""
    failed = 0
    for key in keys:
        try:
            await ctx.files.delete(key)
        except Exception:  # noqa: BLE001 - a leftover file must not stop the run; counted
            failed += 1
    return failed
