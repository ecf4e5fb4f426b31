"""The composition root: builds the store, bus, hub, worker and web app from settings."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import ipaddress
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta

from fastapi import FastAPI

from eyelevel import __version__
from eyelevel.channels.email.listener import parse_listen, start_listener
from eyelevel.channels.messenger import pages as messenger
from eyelevel.clock import SystemClock
from eyelevel.config import Settings
from eyelevel.core import queries
from eyelevel.core.actions import push as push_actions
from eyelevel.core.ids import EventPos
from eyelevel.core.ports import Clock, Context, EventBus, Mailer, PasswordHasher, RateCounter
from eyelevel.jobs.mailers import ConsoleMailer, SmtpMailer
from eyelevel.jobs.worker import Worker, handlers
from eyelevel.media import PillowMedia
from eyelevel.push.sender import WebPushSender
from eyelevel.realtime.hub import Hub
from eyelevel.realtime.local import LocalBus
from eyelevel.realtime.ratestore import MemoryRateCounter
from eyelevel.security import Argon2Hasher, PyotpCodes
from eyelevel.storage.database import SqlDatabase
from eyelevel.storage.files import LocalFileStore
from eyelevel.storage.migrate import upgrade
from eyelevel.web import ops, pages, problems
from eyelevel.web.api import (
    accounts,
    agent_security,
    attachments,
    canned,
    companies,
    company_admin,
    complaints,
    contact,
    conversations,
    email,
    erasure,
    exports,
    labels,
    privacy,
    push,
    ratings,
    routing,
)
from eyelevel.web.api import callbacks as callbacks_api
from eyelevel.web.api import inbox as inbox_api
from eyelevel.web.api import reports as reports_api
from eyelevel.web.api import search as search_api
from eyelevel.web.api import sla as sla_api
from eyelevel.web.api import webhooks as webhooks_api
from eyelevel.web.inbox import pages as inbox
from eyelevel.web.metrics import Metrics
from eyelevel.web.middleware import LimitsAndMetrics
from eyelevel.web.ratelimit import Policy, RateLimiter, RateLimitMiddleware, RateLimits
from eyelevel.web.state import Services
from eyelevel.web.ws import router as ws_router
from eyelevel.webhooks.transport import GuardedTransport


@dataclass
class Runtime:
    """Everything a process runs, for the CLI (``worker``, ``demo``) and tests."""

    settings: Settings
    db: SqlDatabase
    bus: EventBus
    ctx: Context
    mailer: Mailer

    async def start(self) -> None:
        await self.db.start()
        await self.bus.start()

    async def close(self) -> None:
        await self.bus.close()
        await self.db.close()


def make_bus(settings: Settings) -> EventBus:
    if settings.redis_url:
        from eyelevel.realtime.redis import RedisBus

        return RedisBus(settings.redis_url, channel=settings.redis_channel)
    return LocalBus()


def make_rate_limiter(settings: Settings, clock: Clock, secret: str) -> RateLimiter:
    """Counters in Redis when configured (shared by all processes), else in this process."""
    counter: RateCounter
    if settings.redis_url:
        from eyelevel.realtime.ratestore import RedisRateCounter

        counter = RedisRateCounter(settings.redis_url, prefix=f"{settings.redis_channel}:rl:")
    else:
        counter = MemoryRateCounter(clock)
    api, signin = settings.rate_limit_window_seconds, settings.rate_limit_signin_window_seconds
    limits = RateLimits(
        enabled=settings.rate_limit_enabled,
        ip=Policy("ip", settings.rate_limit_per_ip, api),
        token=Policy("token", settings.rate_limit_per_token, api),
        signin_account=Policy("signin-account", settings.rate_limit_signin_per_account, signin),
        signin_ip=Policy("signin-ip", settings.rate_limit_signin_per_ip, signin),
        ws_ip=Policy("ws-ip", settings.rate_limit_ws_per_ip, api),
        trusted_proxies=tuple(
            ipaddress.ip_network(n.strip(), strict=False) for n in settings.trusted_proxies
        ),
    )
    return RateLimiter(limits, counter, clock, secret)


def make_mailer(settings: Settings) -> Mailer:
    if settings.smtp_url is not None:
        return SmtpMailer(settings.smtp_url.get_secret_value(), settings.mail_from)
    return ConsoleMailer()


def build_runtime(
    settings: Settings,
    *,
    mailer: Mailer | None = None,
    clock: Clock | None = None,
    passwords: PasswordHasher | None = None,
) -> Runtime:
    bus = make_bus(settings)
    db = SqlDatabase(settings.database_url, bus)
    ctx = Context(
        db=db,
        bus=bus,
        clock=clock or SystemClock(),
        passwords=passwords or Argon2Hasher(),
        media=PillowMedia(),
        files=LocalFileStore(settings.data_dir / "files"),
        secret_key=settings.resolve_secret_key(),
        public_url=settings.public_url,
        otp=PyotpCodes(),
        webhooks=GuardedTransport(
            allow_http=settings.webhook_allow_http,
            allowed_networks=settings.webhook_allowed_networks,
            timeout=settings.webhook_timeout_seconds,
        ),
        mail=settings.mail_policy(),
        push=WebPushSender(
            GuardedTransport(
                allow_http=settings.push_allow_http,
                allowed_networks=settings.push_allowed_networks,
                timeout=settings.push_timeout_seconds,
            ),
            subject=settings.vapid_subject(),
        ),
    )
    return Runtime(settings, db, bus, ctx, mailer or make_mailer(settings))


async def start_smtp(settings: Settings, ctx: Context) -> asyncio.Server:
    """The inbound SMTP listener at ``EYELEVEL_SMTP_LISTEN`` (docs/email.md)."""
    host, port = parse_listen(settings.smtp_listen or "")
    return await start_listener(
        ctx, host, port, max_bytes=settings.smtp_max_bytes, hostname=settings.smtp_hostname
    )


async def stop_smtp(server: asyncio.Server) -> None:
    server.close()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(server.wait_closed(), 5)


def migrate(settings: Settings) -> None:
    upgrade(settings.database_url)


def create_app(
    settings: Settings,
    *,
    runtime: Runtime | None = None,
    heartbeat_seconds: float = 25.0,
    worker_idle_seconds: float = 0.5,
) -> FastAPI:
    """The ASGI app. The database must be migrated (``eyelevel migrate``; ``serve`` does it)."""
    rt = runtime or build_runtime(settings)
    metrics = Metrics()

    async def head() -> EventPos:
        return await queries.stream_head(rt.ctx)

    async def fetch_after(pos: EventPos, limit: int) -> list:  # type: ignore[type-arg]
        return list(await queries.events_after(rt.ctx, pos, limit))

    hub = Hub(fetch_after, head)
    limiter = make_rate_limiter(settings, rt.ctx.clock, rt.ctx.secret_key)
    rt.bus.subscribe(hub.on_bus)
    ready = {"database": rt.db.ping}
    if settings.redis_url:
        ready["redis"] = rt.bus.ping

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await rt.start()
        await hub.start()
        await push_actions.ensure_keys(rt.ctx)  # the VAPID key pair, made on the first start
        worker_task = None
        if settings.run_worker:
            worker = Worker(
                rt.ctx,
                handlers(rt.mailer, rt.ctx),
                idle_seconds=worker_idle_seconds,
                lease=timedelta(seconds=settings.job_lease_seconds),
            )
            worker_task = asyncio.create_task(worker.run_forever(), name="worker")
        smtp = None
        if settings.smtp_listen:
            smtp = await start_smtp(settings, rt.ctx)
        # What start-up loaded (modules, schemas, catalogs) lives as long as the process: out
        # of the collector's reach, a full collection scans only newer objects (3 ms instead
        # of a 60-90 ms pause in some request every few seconds).
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            if smtp is not None:
                await stop_smtp(smtp)
            if worker_task is not None:
                worker_task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await worker_task
            await hub.close()
            await limiter.close()
            await rt.close()

    app = FastAPI(
        title="eyelevel API",
        version=__version__,
        summary="Customer service at eye level: conversations between customers and companies.",
        openapi_url="/api/v1/openapi.json",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.services = Services(
        ctx=rt.ctx,
        hub=hub,
        metrics=metrics,
        origins=settings.origins(),
        secure_cookies=settings.secure_cookies(),
        ready_checks=ready,
        heartbeat_seconds=heartbeat_seconds,
    )
    app.state.rate_limiter = limiter
    problems.install(app)
    for router in (
        accounts.router,
        companies.router,
        agent_security.router,
        conversations.router,
        inbox_api.router,
        search_api.router,
        attachments.router,
        labels.router,
        routing.router,
        canned.router,
        privacy.router,
        callbacks_api.router,
        contact.router,
        exports.router,
        erasure.router,
        push.router,
        company_admin.router,
        email.router,
        sla_api.router,
        reports_api.router,
        webhooks_api.router,
        complaints.router,
        ratings.router,
        ws_router,
        ops.router,
        pages.router,
        inbox.router,
        messenger.router,
    ):
        app.include_router(router)
    ops.mount_docs_assets(app)
    app.add_middleware(RateLimitMiddleware, limiter=limiter)  # inside: 429s are counted
    app.add_middleware(LimitsAndMetrics, metrics=metrics)
    return app
