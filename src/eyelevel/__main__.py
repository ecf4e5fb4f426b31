"""The command line: ``eyelevel serve | demo | migrate | worker | smtp | company | agent | token |
bench``.

Settings come from ``EYELEVEL_*`` environment variables (see ``eyelevel.config.Settings``).
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable
from datetime import timedelta
from enum import StrEnum
from typing import Annotated, TypeVar

import typer
import uvicorn
from rich.console import Console
from rich.table import Table

from eyelevel import logs
from eyelevel.app import Runtime, build_runtime, create_app, migrate
from eyelevel.config import Settings
from eyelevel.core.actions import mail_addresses, operator
from eyelevel.core.entities import Company, Role, Scope
from eyelevel.core.errors import DomainError
from eyelevel.jobs.worker import Worker, handlers
from eyelevel.seed import SEED_PASSWORD

cli = typer.Typer(
    help="eyelevel: customer service at eye level. Settings come from EYELEVEL_* variables.",
    no_args_is_help=True,
    add_completion=False,
)
company_cli = typer.Typer(help="Manage companies.", no_args_is_help=True)
agent_cli = typer.Typer(help="Manage agents.", no_args_is_help=True)
token_cli = typer.Typer(help="Manage API tokens.", no_args_is_help=True)
cli.add_typer(company_cli, name="company")
cli.add_typer(agent_cli, name="agent")
cli.add_typer(token_cli, name="token")
console = Console()
T = TypeVar("T")

Host = Annotated[str, typer.Option(help="Interface to listen on.")]
Port = Annotated[int, typer.Option(help="Port to listen on.")]


def _settings() -> Settings:
    settings = Settings()
    logs.configure(settings.log_level)
    return settings


def _stopped(signum: int, frame: object) -> None:
    raise SystemExit(0)


def _serve(settings: Settings, host: str, port: int) -> None:
    app = create_app(settings)
    # uvicorn shuts down gracefully on SIGTERM and then raises the signal again, which would end
    # the process "killed by SIGTERM" (status 143); a requested stop is a clean exit: status 0
    signal.signal(signal.SIGTERM, _stopped)
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_config=None,
        access_log=False,  # the app logs route templates, never paths with ids or tokens
        ws_max_size=1 << 20,
        timeout_graceful_shutdown=10,
        proxy_headers=False,
    )


def _here(settings: Settings, host: str, port: int) -> Settings:
    """Without an explicit ``EYELEVEL_PUBLIC_URL``, a server on another local port is its own
    origin (browsers send it as ``Origin``; sign-in refuses foreign ones)."""
    if "public_url" in settings.model_fields_set or host not in ("127.0.0.1", "localhost"):
        return settings
    return settings.model_copy(update={"public_url": f"http://{host}:{port}"})


@cli.command()
def serve(host: Host = "127.0.0.1", port: Port = 8000) -> None:
    """Migrate the database and serve the API and WebSocket (SIGTERM stops gracefully)."""
    settings = _here(_settings(), host, port)
    migrate(settings)
    _serve(settings, host, port)


@cli.command()
def demo(host: Host = "127.0.0.1", port: Port = 8000) -> None:
    """Migrate, seed demo data (idempotent), print the logins, and serve."""
    from eyelevel.demo import DEMO_PASSWORD, seed

    settings = _here(_settings(), host, port)
    migrate(settings)

    async def run_seed() -> list[tuple[str, str, str, str]]:
        rt = build_runtime(settings)
        await rt.start()
        try:
            return [(x.who, x.kind, x.email, x.role) for x in await seed(rt.ctx)]
        finally:
            await rt.close()

    logins = asyncio.run(run_seed())
    table = Table(title=f"eyelevel demo — password for everyone: {DEMO_PASSWORD}")
    for column in ("who", "signs in as", "email", "role"):
        table.add_column(column)
    for row in logins:
        table.add_row(*row)
    console.print(table)
    console.print(f"API docs: http://{host}:{port}/api/v1/docs")
    _serve(settings, host, port)


@cli.command("migrate")
def migrate_cmd() -> None:
    """Bring the database schema up to date."""
    migrate(_settings())
    console.print("database is up to date")


@cli.command()
def worker() -> None:
    """Run background jobs (mail, snooze wake-ups) without serving HTTP; stops on SIGTERM/SIGINT."""
    settings = _settings()
    migrate(settings)

    async def run() -> None:
        rt = build_runtime(settings)
        await rt.start()
        lease = timedelta(seconds=settings.job_lease_seconds)
        worker = Worker(rt.ctx, handlers(rt.mailer, rt.ctx), lease=lease)
        task = asyncio.create_task(worker.run_forever())
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, task.cancel)
        try:
            await task
        except asyncio.CancelledError:
            pass
        finally:
            await rt.close()

    asyncio.run(run())


@cli.command()
def smtp(
    listen: Annotated[
        str | None,
        typer.Option(
            help="host:port to listen on (default: EYELEVEL_SMTP_LISTEN, else 127.0.0.1:2525)."
        ),
    ] = None,
) -> None:
    """Receive mail for the companies' inbound addresses over SMTP (docs/email.md); stops on
    SIGTERM/SIGINT. Replies leave through the job worker (`serve` or `worker`)."""
    from eyelevel.app import start_smtp, stop_smtp

    settings = _settings()
    address = listen or settings.smtp_listen or "127.0.0.1:2525"
    settings = settings.model_copy(update={"smtp_listen": address})
    migrate(settings)

    async def run() -> None:
        rt = build_runtime(settings)
        await rt.start()
        server = await start_smtp(settings, rt.ctx)
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        console.print(f"receiving mail on {address}")
        try:
            await stop.wait()
        finally:
            await stop_smtp(server)
            await rt.close()

    asyncio.run(run())


def _run_action(coro_factory: Callable[[Runtime], Awaitable[T]]) -> T:
    settings = _settings()
    migrate(settings)

    async def run() -> T:
        rt = build_runtime(settings)
        await rt.start()
        try:
            return await coro_factory(rt)
        finally:
            await rt.close()

    try:
        return asyncio.run(run())
    except DomainError as exc:
        console.print(f"[red]error[/red] {exc.code.value}: {exc.detail}")
        raise typer.Exit(2) from None


@company_cli.command("create")
def company_create(
    slug: Annotated[str, typer.Argument(help="URL name, e.g. beispiel")],
    name: Annotated[str, typer.Argument(help="Display name, e.g. 'Beispiel GmbH'")],
    phone: Annotated[str, typer.Option(help="Phone number shown on the company card.")] = "",
    timezone: Annotated[str, typer.Option(help="IANA time zone.")] = "Europe/Berlin",
    description: Annotated[str, typer.Option(help="Short description.")] = "",
    reply_within: Annotated[
        int | None,
        typer.Option(help="Response-time promise shown to customers, in minutes."),
    ] = None,
) -> None:
    """Create a company (does nothing if the slug exists)."""

    async def act(rt: Runtime) -> tuple[Company, bool]:
        return await operator.ensure_company(
            rt.ctx,
            slug=slug,
            name=name,
            phone=phone,
            timezone=timezone,
            description=description,
            reply_within_minutes=reply_within,
        )

    company, created = _run_action(act)
    console.print(f"{'created' if created else 'exists'}: {company.slug} ({company.name})")


@company_cli.command("mail")
def company_mail(
    slug: Annotated[str, typer.Argument(help="the company")],
    addresses: Annotated[
        list[str] | None, typer.Argument(help="its inbound addresses; none: remove all")
    ] = None,
) -> None:
    """Set a company's inbound mail addresses, e.g. support@beispiel.example (docs/email.md)."""

    async def act(rt: Runtime) -> list[str]:
        return await mail_addresses.operator_set_addresses(rt.ctx, slug, addresses or [])

    kept = _run_action(act)
    console.print(f"{slug} receives mail at: {', '.join(kept) or '(no address)'}")


@agent_cli.command("invite")
def agent_invite(
    company: Annotated[str, typer.Argument(help="Company slug.")],
    email: Annotated[str, typer.Argument(help="The agent's email address.")],
    role: Annotated[Role, typer.Option(help="agent, lead or admin.")] = Role.AGENT,
) -> None:
    """Invite an agent: mails the invitation and prints its link (valid 7 days)."""

    async def act(rt: Runtime) -> str:
        token = await operator.operator_invite(rt.ctx, company_slug=company, email=email, role=role)
        await Worker(rt.ctx, handlers(rt.mailer, rt.ctx)).run_once()
        return token

    token = _run_action(act)
    console.print(f"invitation link: {_settings().public_url}/app/invite?token={token}")


@token_cli.command("create")
def token_create(
    company: Annotated[str, typer.Argument(help="Company slug.")],
    name: Annotated[str, typer.Argument(help="What the token is for, e.g. 'CRM sync'.")],
    scope: Annotated[
        list[str] | None,
        typer.Option(
            help="A scope it gets (repeat the option): "
            + ", ".join(s.value for s in Scope)
            + ". Default: all of them."
        ),
    ] = None,
    expires_in_days: Annotated[
        int | None, typer.Option(min=1, max=3650, help="Refuse it after so many days.")
    ] = None,
) -> None:
    """Create an API token for a company; it is printed once and stored only as a hash."""

    async def act(rt: Runtime) -> str:
        expires_at = (
            rt.ctx.clock.now() + timedelta(days=expires_in_days) if expires_in_days else None
        )
        return await operator.operator_create_token(
            rt.ctx,
            company_slug=company,
            name=name,
            scopes=scope or [s.value for s in Scope],
            expires_at=expires_at,
        )

    console.print(_run_action(act))


@cli.command()
def seed(
    conversations: Annotated[int, typer.Option(min=1, help="Conversations to add.")] = 100_000,
    messages: Annotated[
        int, typer.Option(min=1, help="Messages to add (at least one per conversation).")
    ] = 1_000_000,
    company: Annotated[str, typer.Option(help="Slug of the company to create or extend.")] = "seed",
    agents: Annotated[int, typer.Option(min=1, max=500, help="Agents besides the admin.")] = 20,
    random_seed: Annotated[int, typer.Option(help="The same seed gives the same data.")] = 1,
) -> None:
    """Bulk-load a realistic company (teams, agents, customers, conversations, messages, notes
    with mentions, labels) for benchmarks; prints the admin login and rows/s. Run it while no
    server writes to the database (SQLite: ids are taken after the largest one)."""
    from eyelevel.seed import SeedOptions, seed_company
    from eyelevel.storage.bulk import BulkLoader

    if messages < conversations:
        console.print("[red]error[/red] --messages must be at least --conversations")
        raise typer.Exit(2)
    opts = SeedOptions(
        conversations=conversations,
        messages=messages,
        company=company,
        agents=agents,
        random_seed=random_seed,
    )

    async def act(rt: Runtime) -> None:
        loader = BulkLoader(rt.settings.database_url)
        try:
            report = await seed_company(rt.ctx, loader, opts, lambda line: console.print(line))
        finally:
            await loader.close()
        console.print(
            f"seeded {report.total_rows:,} rows in {report.seconds:.1f}s "
            f"({report.total_rows / max(report.seconds, 1e-9):,.0f} rows/s): "
            + ", ".join(f"{k} {v:,}" for k, v in report.rows.items())
        )
        console.print(
            f"sign in at /app as {report.admin_email} (admin; agents agent-N@…) "
            f"with the password {SEED_PASSWORD}"
        )

    _run_action(act)


class BenchBackend(StrEnum):
    auto = "auto"
    sqlite = "sqlite"
    postgres = "postgres"
    both = "both"


BENCH_HELP = (
    "Load-test a fresh server over real WebSockets on 127.0.0.1 and print a table.\n\n"
    "For each backend and each --rate, starts `eyelevel serve` as a separate process on a new "
    "temporary SQLite file (or a new PostgreSQL database with Redis as the bus), seeds verified "
    "customers and agents, signs them in, starts one conversation per customer, drives the "
    "sockets from --clients processes and measures messages/s sustained, send→ack and "
    "send→delivery p50/p99, errors, and the server's RSS and CPU.\n\n"
    "The defaults run both targets: maximum throughput (--rate 0) and 500 messages/s with "
    "1,000 open sockets, on SQLite, and on PostgreSQL + Redis when EYELEVEL_DATABASE_URL (or "
    "--database-url) names a PostgreSQL server.\n\n"
    "Examples: `eyelevel bench --rate 0 --agents 2` (throughput only); `eyelevel bench --rate "
    "500 --customers 990 --agents 10` (1,000 active sockets); `eyelevel bench --backend both "
    "--database-url postgresql+asyncpg://postgres@127.0.0.1/postgres --redis-url "
    "redis://127.0.0.1:6379/0`."
)


bench_cli = typer.Typer()
cli.add_typer(bench_cli, name="bench")


@bench_cli.callback(invoke_without_command=True, help=BENCH_HELP)
def bench(
    ctx: typer.Context,
    customers: Annotated[
        int, typer.Option(min=1, help="Customer sockets, one conversation each.")
    ] = 200,
    agents: Annotated[
        int, typer.Option(min=0, help="Agent sockets; each receives all events of its company.")
    ] = 10,
    companies: Annotated[
        int, typer.Option(min=1, help="Companies; customers and agents are spread over them.")
    ] = 1,
    sockets: Annotated[
        int,
        typer.Option(
            min=0,
            help="Total open sockets: signed-in idle customers are added to reach it.",
        ),
    ] = 1000,
    rate: Annotated[
        list[float] | None,
        typer.Option(
            min=0,
            help="Messages/s offered (open loop); 0 = closed loop, each sender waits for its "
            "ack (maximum throughput). Repeat for several runs. [default: 0 and 500]",
            show_default=False,
        ),
    ] = None,
    duration: Annotated[float, typer.Option(min=1, max=3600, help="Measured seconds.")] = 15.0,
    warmup: Annotated[
        float, typer.Option(min=0, max=600, help="Unmeasured seconds of load before the window.")
    ] = 3.0,
    agent_share: Annotated[
        float, typer.Option(min=0, max=1, help="Share of messages that are agent replies.")
    ] = 0.5,
    clients: Annotated[
        int, typer.Option(min=1, max=16, help="Client processes generating the load.")
    ] = 1,
    backend: Annotated[
        BenchBackend,
        typer.Option(help="auto = SQLite, plus PostgreSQL + Redis when configured."),
    ] = BenchBackend.auto,
    database_url: Annotated[
        str | None,
        typer.Option(
            envvar="EYELEVEL_DATABASE_URL",
            help="PostgreSQL server on loopback; the bench creates and drops its own "
            "database eyelevel_bench there (a SQLite URL here is ignored).",
        ),
    ] = None,
    redis_url: Annotated[
        str | None,
        typer.Option(
            envvar="EYELEVEL_REDIS_URL", help="Redis on loopback: the bus of the PostgreSQL run."
        ),
    ] = None,
    deflate: Annotated[
        bool, typer.Option(help="Negotiate permessage-deflate like browsers do.")
    ] = False,
    body_chars: Annotated[
        int, typer.Option(min=1, max=10_000, help="Characters per message body.")
    ] = 80,
) -> None:
    if ctx.invoked_subcommand is not None:
        return  # e.g. `eyelevel bench inbox`: these options are not for it
    from eyelevel import bench as bench_mod

    if database_url is not None and not database_url.startswith("postgres"):
        database_url = None  # e.g. EYELEVEL_DATABASE_URL is the usual SQLite file: not for us
    opts = bench_mod.Options(
        customers=customers,
        agents=agents,
        companies=companies,
        sockets=sockets,
        duration=duration,
        warmup=warmup,
        agent_share=agent_share,
        clients=clients,
        deflate=deflate,
        body_chars=body_chars,
        database_url=database_url,
        redis_url=redis_url,
    )
    if backend in (BenchBackend.postgres, BenchBackend.both) and database_url is None:
        console.print("[red]error[/red] this backend needs --database-url postgresql+asyncpg://…")
        raise typer.Exit(2)
    backends = {
        BenchBackend.auto: ["sqlite", "postgres"],  # PostgreSQL is skipped, with a note, if unset
        BenchBackend.sqlite: ["sqlite"],
        BenchBackend.postgres: ["postgres"],
        BenchBackend.both: ["sqlite", "postgres"],
    }[backend]
    logs.configure("warning")
    raise typer.Exit(bench_mod.run(backends, opts, rate or [0.0, 500.0]))


@bench_cli.command("inbox")
def bench_inbox(
    database_url: Annotated[
        str,
        typer.Option(
            envvar="EYELEVEL_DATABASE_URL",
            help="The seeded database (SQLite file or PostgreSQL on loopback); only read.",
        ),
    ] = "sqlite+aiosqlite:///./eyelevel.db",
    company: Annotated[str, typer.Option(help="Slug of the seeded company.")] = "seed",
    email: Annotated[
        str | None, typer.Option(help="Sign in as this agent. [default: the seed's admin]")
    ] = None,
    password: Annotated[str, typer.Option(help="Its password.")] = SEED_PASSWORD,
    rounds: Annotated[
        int, typer.Option(min=1, max=10_000, help="Timed requests per operation.")
    ] = 100,
    deep: Annotated[int, typer.Option(min=2, max=1_000, help="Page number of the deep page.")] = 20,
    page_size: Annotated[int, typer.Option(min=1, max=200, help="Conversations per page.")] = 50,
    server_url: Annotated[
        str | None,
        typer.Option(help="Measure this running server (loopback) instead of starting one."),
    ] = None,
) -> None:
    """Time the agent inbox through the real HTTP API on a database filled by `eyelevel
    seed`: every view's first and deep page in each sort, the sidebar counts, opening a
    conversation and search; prints p50/p95/p99 per operation against the targets (p95:
    20 ms lists and opening, 100 ms search). Starts its own server on 127.0.0.1."""
    from eyelevel.bench.inbox import InboxOptions, run_inbox

    logs.configure("warning")
    opts = InboxOptions(
        database_url=database_url,
        company=company,
        email=email,
        password=password,
        rounds=rounds,
        deep=deep,
        page_size=page_size,
        server_url=server_url,
    )
    raise typer.Exit(run_inbox(opts))


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
