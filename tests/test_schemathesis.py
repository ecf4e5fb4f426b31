"""schemathesis over every operation of the live OpenAPI document, against a real server.

The operations come from the server's own ``/api/v1/openapi.json`` when the test runs, so an
endpoint added anywhere is covered without touching this file. Each operation gets the
document's own request examples (valid requests that reach past validation), then ``EXAMPLES``
generated ones: half negative (violating the schema: wrong types, missing or extra fields, out-
of-range values) and the rest positive; an operation that takes no input gets only positive
ones, and Hypothesis stops early when it has tried every distinct input. Each example is sent
by one of three callers drawn by Hypothesis: a customer and a company admin with session
cookies (and the ``X-CSRF-Token`` header their unsafe requests need; no ``Origin``, as from a
non-browser client), and an API token with every scope (scopes themselves:
tests/test_token_scopes.py). In positive examples the path parameters are, half of the time,
replaced by ids that exist (the company, a conversation, a label …), so the calls reach past
``404``. A caller whose session an example ended (sign-out, ending a session) or whose token it
revoked signs in again.

Checks: no server error (5xx), the status code is documented, the content type and the body
match the documented response, and negative data is refused with a 4xx. Every failure found
is collected (one per operation and check) and reported together, each with a curl line.

Budget: CI runs the suite on 2 cores, once per backend. SQLite runs 100 examples per
operation (about 2.5 minutes); PostgreSQL 50 (about a minute and a half): the same
derandomized generator with fewer examples, enough to catch what only
PostgreSQL refuses (NUL characters in text, integers past 64 bits). The environment variable
``EYELEVEL_SCHEMATHESIS_EXAMPLES`` overrides the number.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

import httpx
import openapi_spec_validator
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.core.failures import Failure, FailureGroup

from eyelevel.core.entities import ALL_SCOPES, Role
from eyelevel.webhooks.transport import GuardedTransport
from tests import backends
from tests.harness import PASSWORD, Client, Server

API = "/api/v1"
EXAMPLES = int(
    os.environ.get(
        "EYELEVEL_SCHEMATHESIS_EXAMPLES", "100" if backends.BACKEND == "sqlite" else "50"
    )
)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]
PROBLEM = "application/problem+json"


# -- the document -------------------------------------------------------------------------------


async def test_openapi_document_is_valid_and_complete(server: Server) -> None:
    spec = (await server.client().get(f"{API}/openapi.json")).json()
    openapi_spec_validator.validate(spec)
    missing: list[str] = []
    for path, item in spec["paths"].items():
        for method, op in item.items():
            where = f"{method.upper()} {path}"
            if not op.get("summary"):
                missing.append(f"{where}: no summary")
            responses = op.get("responses", {})
            if not any(code.startswith("2") for code in responses):
                missing.append(f"{where}: no success response")
            for code, response in responses.items():
                content = response.get("content", {})
                if code.startswith("4") and PROBLEM not in content:
                    missing.append(f"{where}: {code} is not a problem ({PROBLEM})")
                if code.startswith("2") and code != "204" and not content:
                    missing.append(f"{where}: {code} has no content")
            if "x-token-scope" in op and "403" not in responses:
                missing.append(f"{where}: refuses tokens without 403")
            body = op.get("requestBody", {}).get("content", {})
            for media, entry in body.items():
                if media == "application/json" and not _has_example(spec, entry["schema"]):
                    missing.append(f"{where}: the request body has no example")
    assert missing == [], "\n".join(missing)


def _has_example(spec: dict[str, Any], schema: dict[str, Any]) -> bool:
    """An example for the body or for at least one of its properties."""
    if "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    if "example" in schema or "examples" in schema:
        return True
    props = schema.get("properties", {}).values()
    return not props or any("example" in p or "examples" in p for p in props)


# -- the run --------------------------------------------------------------------------------------


@dataclass
class Caller:
    """One identity the examples are sent as: a session (cookies + CSRF header) or a token."""

    name: str
    login: Callable[[], dict[str, str]]
    headers: dict[str, str] = field(default_factory=dict)
    cookies: dict[str, str] = field(default_factory=dict)

    def refresh(self) -> None:
        fresh = self.login()
        if "token" in fresh:
            self.cookies, self.headers = {}, {"Authorization": f"Bearer {fresh['token']}"}
        else:
            self.cookies, self.headers = fresh, {"X-CSRF-Token": fresh["eyelevel_csrf"]}


@dataclass
class Found:
    operation: str
    check: str
    message: str
    curl: str
    caller: str


async def test_schemathesis_over_every_operation(server: Server) -> None:
    transport = cast(GuardedTransport, server.runtime.ctx.webhooks)

    async def resolve(host: str, port: int) -> list[str]:
        return ["93.184.215.14"]  # any name is a public address; nothing is ever sent there

    transport.resolver = resolve
    transport.transport = httpx.MockTransport(lambda request: httpx.Response(204))

    world = await _build_world(server)
    spec = (await server.client().get(f"{API}/openapi.json")).json()
    started = time.monotonic()
    found, counts = await asyncio.to_thread(_run, server.url, spec, world)
    elapsed = time.monotonic() - started
    print(
        f"\nschemathesis: {len(counts)} operations, {sum(counts.values())} examples "
        f"(at least {min(counts.values())} per operation, half of them negative where the "
        f"operation takes input) in {elapsed:.0f} s on {backends.BACKEND}"
    )
    statuses = sum(world.seen.values(), Counter())
    print("answers:", dict(sorted(statuses.items())))
    never = sorted(label for label, seen in world.seen.items() if not seen["2xx"])
    print(f"operations never answered with 2xx ({len(never)}):", ", ".join(never))
    assert not found, _report(found)


@dataclass
class World:
    callers: list[Caller]
    ids: dict[str, str]
    # status classes seen per operation ("2xx", "4xx"), for the summary
    seen: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))


async def _build_world(server: Server) -> World:
    """What the examples act on: a company with staff, a customer, conversations, and more."""
    acme = await server.company("acme")
    await server.company("other")
    emails = {"admin": "ada@acme.example", "customer": f"kim-{uuid.uuid4().hex[:6]}@example.org"}
    admin = await server.agent(acme, emails["admin"], role=Role.ADMIN, name="Ada Admin")
    agent = await server.agent(acme, name="Bert Agent")
    kim = await server.customer(emails["customer"])
    started = await kim.start_conversation("acme", "Hallo, mein Paket fehlt.")
    conv = started["conversation"]["id"]
    await admin.send(conv, "Wir kümmern uns.")
    label = (
        await admin.post(f"{API}/companies/acme/labels", {"name": "Versand", "color": "#d93f0b"})
    ).json()
    team = (await admin.post(f"{API}/companies/acme/teams", {"name": "Support"})).json()
    canned = await admin.post(
        f"{API}/companies/acme/canned-responses", {"shortcut": "gruss", "body": "Hallo!"}
    )
    spare = await admin.post(
        f"{API}/companies/acme/tokens", {"name": "spare", "scopes": ["reports:read"]}
    )
    hook = await admin.post(
        f"{API}/companies/acme/webhooks",
        {"url": "https://hooks.example.com/in", "event_types": ["message.created"]},
    )
    ids = {
        "slug": "acme",
        "conversation_id": str(conv),
        "label_id": str(label.get("id", 1)),
        "team_id": str(team.get("id", 1)),
        "canned_id": str(canned.json().get("id", 1)),
        "token_id": str(spare.json().get("id", 1)),
        "endpoint_id": str(hook.json().get("id", 1)),
        "agent_id": str(agent.id),
    }
    loop = asyncio.get_running_loop()

    def session_of(client: Client, kind: str, email: str) -> Callable[[], dict[str, str]]:
        def login() -> dict[str, str]:
            r = requests.post(
                f"{server.url}{API}/auth/login",
                json={"kind": kind, "email": email, "password": PASSWORD},
                timeout=30,
            )
            assert r.status_code == 200, r.text
            return dict(r.cookies)

        return login

    def new_token() -> dict[str, str]:
        from eyelevel.core.actions import operator

        coro = operator.operator_create_token(
            server.runtime.ctx, company_slug="acme", name=f"fuzz-{uuid.uuid4().hex[:6]}"
        )
        return {"token": asyncio.run_coroutine_threadsafe(coro, loop).result(30)}

    callers = [
        Caller("customer", session_of(kim, "customer", emails["customer"])),
        Caller("admin", session_of(admin, "agent", emails["admin"])),
        Caller("token", new_token),
    ]
    assert ALL_SCOPES  # the token has every scope: scopes are tested in tests/test_api.py
    return World(callers, ids)


def _run(url: str, spec: dict[str, Any], world: World) -> tuple[list[Found], dict[str, int]]:
    for caller in world.callers:
        caller.refresh()
    schema = schemathesis.openapi.from_dict(spec)
    found: dict[tuple[str, str], Found] = {}
    counts: dict[str, int] = {}
    session = requests.Session()
    for result in schema.get_all_operations():
        operation = result.ok()
        label = operation.label
        counts[label] = 0
        # the document's own examples first (valid requests that get past validation), then
        # half negative, the rest positive (all of them when nothing can be made invalid)
        documented = operation.get_strategies_from_examples()
        if documented:
            strategy = st.one_of(documented)
            _fuzz(
                operation, strategy, GenerationMode.POSITIVE, 12, url, session, world, found, counts
            )
        negative = operation.as_strategy(generation_mode=GenerationMode.NEGATIVE)
        _fuzz(
            operation,
            negative,
            GenerationMode.NEGATIVE,
            EXAMPLES // 2,
            url,
            session,
            world,
            found,
            counts,
        )
        left = max(EXAMPLES - counts[label], EXAMPLES // 2)
        positive = operation.as_strategy(generation_mode=GenerationMode.POSITIVE)
        _fuzz(
            operation, positive, GenerationMode.POSITIVE, left, url, session, world, found, counts
        )
    return list(found.values()), counts


def _fuzz(
    operation: Any,
    strategy: Any,
    mode: GenerationMode,
    examples: int,
    url: str,
    session: requests.Session,
    world: World,
    found: dict[tuple[str, str], Found],
    counts: dict[str, int],
) -> None:
    label = operation.label

    @settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(
        case=strategy,
        who=st.sampled_from(world.callers),
        real=st.booleans(),
    )
    def example(case: Any, who: Caller, real: bool) -> None:
        counts[label] += 1
        if real and mode == GenerationMode.POSITIVE and case.path_parameters:
            for name in case.path_parameters:
                if name in world.ids:
                    case.path_parameters[name] = world.ids[name]
        response = case.call(
            base_url=url, session=session, headers=dict(who.headers), cookies=dict(who.cookies)
        )
        world.seen[label][f"{response.status_code // 100}xx"] += 1
        try:
            case.validate_response(response, checks=CHECKS, headers=dict(who.headers))
        except FailureGroup as group:
            for failure in group.exceptions:
                _record(found, label, failure, case, who)
        except Failure as failure:
            _record(found, label, failure, case, who)
        if response.status_code == 401 and _code(response) == "unauthenticated":
            who.refresh()  # the example ended this caller's session or revoked its token

    try:
        example()
    except Unsatisfiable:
        # nothing to make invalid: an operation without parameters or body has no negative data
        assert mode == GenerationMode.NEGATIVE, f"{label}: no positive example could be made"


def _code(response: requests.Response) -> str | None:
    try:
        return cast(str, response.json().get("code"))
    except ValueError:
        return None


def _record(
    found: dict[tuple[str, str], Found], label: str, failure: Failure, case: Any, who: Caller
) -> None:
    key = (label, failure.title)
    if key not in found:
        curl = case.as_curl_command(headers=_redacted(who.headers))
        found[key] = Found(label, failure.title, failure.message, curl, who.name)


def _redacted(headers: dict[str, str]) -> dict[str, str]:
    """The caller's headers for a curl line, without the credential's value."""
    return {k: ("Bearer elt_…" if k == "Authorization" else "…") for k in headers}


def _report(found: list[Found]) -> str:
    lines = [f"{len(found)} schemathesis failure(s):"]
    for f in sorted(found, key=lambda f: (f.operation, f.check)):
        lines += [
            "",
            f"== {f.operation}  [{f.check}]  as {f.caller}",
            f.message.strip(),
            f"   {f.curl}",
        ]
    return "\n".join(lines)
