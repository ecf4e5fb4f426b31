"""The bench's accounts: planned, seeded with the operator actions, signed in over HTTP.

Each active customer starts the one conversation it writes to.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from http.cookiejar import CookieJar
from typing import Any

from eyelevel.bench.options import (
    HTTP_CONCURRENCY,
    PASSWORD,
    SESSION_COOKIE,
    BenchError,
    Options,
)


@dataclass
class Account:
    kind: str  # "customer", "agent" or "idle" (a signed-in customer without a conversation)
    company: int  # index of the company (customers: the one they write to)
    email: str
    cookie: str = ""
    conversation_id: int = 0


def plan_accounts(opts: Options) -> list[Account]:
    accounts = [
        Account("agent", i % opts.companies, f"agent-{i}@bench.example.com")
        for i in range(opts.agents)
    ]
    accounts += [
        Account("customer", i % opts.companies, f"kunde-{i}@bench.example.org")
        for i in range(opts.customers)
    ]
    idle = max(0, opts.sockets - opts.customers - opts.agents)
    accounts += [
        Account("idle", i % opts.companies, f"still-{i}@bench.example.org") for i in range(idle)
    ]
    return accounts


async def seed(settings: Any, opts: Options, accounts: list[Account]) -> None:
    """Companies, agents and verified customers, written directly with the operator actions."""
    from eyelevel.app import build_runtime
    from eyelevel.core.actions import operator
    from eyelevel.core.entities import Role
    from eyelevel.jobs.mailers import MemoryMailer
    from eyelevel.security import Argon2Hasher

    # cheap argon2 parameters, so the bench's sign-ins do not measure password hashing
    rt = build_runtime(settings, mailer=MemoryMailer(), passwords=Argon2Hasher(fast=True))
    await rt.start()
    try:
        companies = [
            (await operator.ensure_company(rt.ctx, slug=f"bench-{i}", name=f"Bench {i}"))[0]
            for i in range(opts.companies)
        ]

        async def one(a: Account) -> None:
            if a.kind == "agent":
                await operator.ensure_agent(
                    rt.ctx,
                    companies[a.company],
                    email=a.email,
                    name="Bench Agent",
                    password=PASSWORD,
                    role=Role.AGENT,
                )
            else:
                await operator.ensure_customer(
                    rt.ctx, email=a.email, display_name="Bench Kunde", password=PASSWORD
                )

        for i in range(0, len(accounts), 200):  # concurrent: the SQLite writer group-commits
            await asyncio.gather(*(one(a) for a in accounts[i : i + 200]))
    finally:
        await rt.close()


class _NoCookies(CookieJar):
    """The setup client keeps no cookies: every request carries its account's explicitly."""

    def extract_cookies(self, response: Any, request: Any) -> None:
        return None


def _set_cookies(response: Any) -> dict[str, str]:
    out = {}
    for header in response.headers.get_list("set-cookie"):
        name, _, rest = header.partition("=")
        out[name.strip()] = rest.split(";", 1)[0]
    return out


async def sign_in_and_start(base_url: str, opts: Options, accounts: list[Account]) -> None:
    """Sign every account in; every active customer starts one conversation."""
    import httpx

    sem = asyncio.Semaphore(HTTP_CONCURRENCY)
    async with httpx.AsyncClient(
        base_url=base_url, timeout=30, trust_env=False, cookies=httpx.Cookies(_NoCookies())
    ) as http:

        async def one(a: Account) -> None:
            async with sem:
                kind = "agent" if a.kind == "agent" else "customer"
                r = await http.post(
                    "/api/v1/auth/login",
                    json={"kind": kind, "email": a.email, "password": PASSWORD},
                )
                if r.status_code != 200:
                    raise BenchError(f"login {a.email}: {r.status_code} {r.text[:200]}")
                cookies = _set_cookies(r)
                a.cookie = cookies[SESSION_COOKIE]
                if a.kind != "customer":
                    return
                r = await http.post(
                    "/api/v1/conversations",
                    json={"company": f"bench-{a.company}", "body": "Hallo! (bench)"},
                    headers={
                        "cookie": "; ".join(f"{k}={v}" for k, v in cookies.items()),
                        "x-csrf-token": r.json()["csrf_token"],
                    },
                )
                if r.status_code != 201:
                    raise BenchError(f"start conversation: {r.status_code} {r.text[:200]}")
                a.conversation_id = int(r.json()["conversation"]["id"])

        await asyncio.gather(*(one(a) for a in accounts))
