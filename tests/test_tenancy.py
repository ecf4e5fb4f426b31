"""Tenant isolation: every route × every role × the other party's objects → nothing crosses.

The matrix below names every route of the app (REST and WebSocket) and how an outsider calls it
with another tenant's or another customer's ids. The sweep runs each call as each role and
demands the outsider's answer: 404 ``not_found`` that reads exactly like the answer for an id
that does not exist (never 403, which would confirm existence), 401 for anonymous callers and
revoked tokens. After every write attempt no stored row may have moved, and after each phase
the legitimate owners re-read their data through the API and find it unchanged; sockets held
open by every role (replaying the stream from its start) may not carry a frame about anything
they could not read, before, during or after the sweep. ``test_every_route_is_in_the_matrix``
fails when a route is added without a row here. Body fields such as ``company_id``,
``customer_id``, ``role`` or ``kind`` are refused (the request schemas forbid unknown fields),
so they can never move data.

One world per test (two companies, their staff, two customers, tokens) keeps it fast; the
sweeps collect every violation and assert the list is empty, so a failure names them all.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import io
import re
import tempfile
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import websockets
from fastapi import FastAPI
from PIL import Image
from sqlalchemy import func, select
from starlette.routing import BaseRoute, Mount, WebSocketRoute

from eyelevel.app import create_app
from eyelevel.config import Settings
from eyelevel.core import queries, secrets
from eyelevel.core.actions import operator
from eyelevel.core.actions.sessions import public_session_id
from eyelevel.core.entities import Company, Role
from eyelevel.storage.schema import metadata
from tests.harness import PASSWORD, Client, Server, Socket
from tests.push_service import Device

GHOST = 987_654_321  # an id no object has
GHOST_SLUG = "no-such-company"

# -- roles -------------------------------------------------------------------------------------

ROLES = (
    "anonymous",
    "customer_a",
    "customer_b",
    "agent_a",
    "admin_a",
    "agent_b",
    "admin_b",
    "token_a",
    "revoked_token_a",
)
UNAUTHENTICATED = frozenset({"anonymous", "revoked_token_a"})
CUSTOMERS = frozenset({"customer_a", "customer_b"})
STAFF = frozenset({"agent_a", "admin_a", "agent_b", "admin_b", "token_a"})
ADMIN_LEVEL = frozenset({"admin_a", "admin_b", "token_a"})  # a token acts as its company's admin

# -- what an outsider gets ---------------------------------------------------------------------

REFUSED = "refused"  # 404 not_found, indistinguishable from a missing id
FOREIGN_OWNER = "foreign owner"  # own conversation, other company's agent/team: 422 invalid_owner
FOREIGN_LABEL = "foreign label"  # own conversation, other company's label: 422 invalid_label
FOREIGN_MENTION = "foreign mention"  # a note in an own conversation mentioning another
# company's agent: 422 invalid_mention
INVALID = "invalid"  # 422: an extra body field is refused before anything happens
FORBIDDEN = "forbidden"  # 403 from a rule about the caller's kind, decided before any lookup


@dataclass(frozen=True)
class Target:
    """The other party's objects, as one outsider would address them."""

    label: str
    slug: str
    company_id: int
    conversation_id: int
    customer_id: int
    agent_id: int
    team_id: int
    token_id: int
    customer_email: str = ""  # signs in with PASSWORD, like every account of the world
    attachment_id: int = GHOST  # a file in the conversation (for routes ``on="attachment"``)
    label_id: int = GHOST  # the company's label (routes ``on="label"``, conversation labels)
    canned_id: int = GHOST  # a company-wide canned response of the company (``on="canned"``)
    webhook_id: int = GHOST  # the company's (disabled) webhook endpoint (``on="webhook"``)
    callback_id: int = GHOST  # the callback booked in the conversation (conversation routes)
    push_subscription_id: int = GHOST  # the company's customer's push device (``on="device"``)
    session_id: str = "0" * 16  # the public id of the company admin's session
    home_conversation_id: int | None = None  # one the caller may use, for foreign ids in bodies
    home_team_id: int | None = None  # the caller's own team, with ``keep_slug``
    keep_slug: bool = False  # the caller's own company, with a foreign token id

    def ghost(self) -> Target:
        """The same call aimed at objects that do not exist: the outsider's answer must match."""
        return replace(
            self,
            label=f"ghost of {self.label}",
            slug=self.slug if self.keep_slug else GHOST_SLUG,
            conversation_id=GHOST,
            agent_id=GHOST,
            team_id=GHOST,
            token_id=GHOST,
            attachment_id=GHOST,
            label_id=GHOST,
            canned_id=GHOST,
            webhook_id=GHOST,
            callback_id=GHOST,
            push_subscription_id=GHOST,
            session_id="0" * 16,
        )


@dataclass(frozen=True)
class Req:
    method: str
    path: str
    json: Any = None
    params: dict[str, Any] | None = None
    files: dict[str, tuple[str, bytes, str]] | None = None  # multipart, with ``data``
    data: dict[str, str] | None = None
    expect: str = REFUSED
    who: frozenset[str] | None = None  # roles this variant applies to (None: all)
    note: str = ""


@dataclass(frozen=True)
class Public:
    """Reachable without a principal, by design. The reason is part of the review."""

    reason: str


@dataclass(frozen=True)
class OnObject:
    """Addresses another party's object (``conversation``, ``company``, ``token``, ``label``,
    ``canned``, ``team`` or ``attachment``: a file in a conversation the caller may not read,
    or a customer's own conversation's private note). For ``token``, ``label``, ``canned``,
    ``team`` and ``agent`` the other company's id is also sent through the caller's own company
    (``keep_slug``)."""

    on: str
    build: Callable[[Target], list[Req]]


@dataclass(frozen=True)
class Scoped:
    """Takes no object id: the principal is the scope. ``check`` judges each role's answer."""

    build: Callable[[Target], list[Req]]
    check: Callable[[Actor, Req, httpx.Response], str | None]
    last: bool = False  # ends the caller's session: run after everything else


@dataclass(frozen=True)
class SocketRoute:
    """The WebSocket: frames that address another party's conversation."""

    frames: Callable[[Target], list[tuple[dict[str, Any], str, frozenset[str] | None]]]


Entry = Public | OnObject | Scoped | SocketRoute


# -- the actors of one world -------------------------------------------------------------------


@dataclass
class Actor:
    role: str
    client: Client
    id: int = 0
    member_of: frozenset[int] = frozenset()  # companies where the actor has a role
    visible: frozenset[int] = frozenset()  # conversations the actor may read
    companies_seen: frozenset[int] = frozenset()  # companies of those conversations
    own_slug: str | None = None
    socket: Socket | None = None


@dataclass
class Party:
    key: str
    company: Company
    agent: Client
    admin: Client
    team_id: int
    observer: Client  # an API token of the company: its legitimate view of its own data
    spare_token_id: int  # a live token of the company, the target of revoke attempts
    customer: Client  # the customer who writes to this company (in conversation ``key``)
    customer_observer: Client  # a second session of that customer
    label_id: int = 0  # a label, on the company's first conversation
    canned_id: int = 0  # a company-wide canned response (its agent has a personal one too)
    webhook_id: int = 0  # a disabled webhook endpoint (never sends: the URL is not reachable)
    push_subscription_id: int = 0  # the customer's push device (nothing is ever pushed to it)
    admin_observer: Client | None = None  # a second session of the admin (tokens list tokens)


@dataclass
class World:
    server: Server
    parties: dict[str, Party]
    conversations: dict[str, int]  # "a", "b", "ba" → id
    conversation_company: dict[str, str]  # conversation key → party key
    actors: dict[str, Actor]
    emails: dict[int, str]  # customer id → email
    attachments: dict[int, tuple[str, bool]]  # attachment id → (conversation key, on a note)
    callbacks: dict[str, int]  # conversation key → the callback booked in it
    exercised: set[tuple[str, str]] = field(default_factory=set)  # matrix rows called

    def _target(self, label: str, company: str, conv: str) -> Target:
        party = self.parties[company]
        return Target(
            label=label,
            slug=party.company.slug,
            company_id=party.company.id,
            conversation_id=self.conversations[conv],
            customer_id=self.customer_of(conv),
            agent_id=party.admin.id,
            team_id=party.team_id,
            token_id=party.spare_token_id,
            customer_email=self.emails[self.customer_of(conv)],
            label_id=party.label_id,
            canned_id=party.canned_id,
            webhook_id=party.webhook_id,
            callback_id=self.callbacks.get(conv, GHOST),
            push_subscription_id=party.push_subscription_id,
            session_id=_session_id(party.admin),
        )

    def conv_target(self, key: str) -> Target:
        return self._target(f"conversation {key}", self.conversation_company[key], key)

    def company_target(self, key: str) -> Target:
        return self._target(f"company {key}", key, key)

    def customer_of(self, conv_key: str) -> int:
        return self.actors["customer_a" if conv_key == "a" else "customer_b"].id

    def targets(self, actor: Actor, on: str) -> list[Target]:
        """The objects ``actor`` must not reach, for a route addressing ``on``."""
        if actor.role in UNAUTHENTICATED:
            # even the revoked token's own company stays shut
            if on == "attachment":
                aid = min(a for a, (ck, _) in self.attachments.items() if ck == "a")
                return [replace(self.conv_target("a"), attachment_id=aid)]
            return [self.conv_target("a") if on == "conversation" else self.company_target("a")]
        home = min(actor.visible) if actor.visible else None
        if on == "attachment":
            return [
                replace(
                    self.conv_target(ck),
                    label=f"{'note ' if note else ''}attachment {aid} in conversation {ck}",
                    attachment_id=aid,
                )
                for aid, (ck, note) in sorted(self.attachments.items())
                if self.conversations[ck] not in actor.visible or (note and actor.role in CUSTOMERS)
            ]
        if on == "device":
            # the other customer's push device (staff: both customers')
            return [
                replace(self.company_target(k), label=f"customer {k}'s push device")
                for k, p in self.parties.items()
                if p.customer.id != actor.id or actor.role not in CUSTOMERS
            ]
        if on == "conversation":
            return [
                replace(self.conv_target(k), home_conversation_id=home)
                for k, cid in self.conversations.items()
                if cid not in actor.visible
            ]
        foreign = [
            self.company_target(k)
            for k, p in self.parties.items()
            if p.company.id not in actor.member_of
        ]
        through_own = ADMIN_LEVEL if on == "token" else STAFF
        if (
            on in ("token", "label", "canned", "team", "agent", "webhook")
            and actor.role in through_own
            and actor.own_slug is not None
        ):
            # own company in the path, the other company's object id in it
            home = next(p for p in self.parties.values() if p.company.slug == actor.own_slug)
            foreign += [
                replace(
                    t,
                    label=f"{t.label}'s {on} via own company",
                    slug=actor.own_slug,
                    keep_slug=True,
                    home_team_id=home.team_id,
                )
                for t in list(foreign)
            ]
        return foreign


# -- the matrix --------------------------------------------------------------------------------

API = "/api/v1"


def _conv(t: Target, rest: str = "") -> str:
    return f"{API}/conversations/{t.conversation_id}{rest}"


def _company(t: Target, rest: str = "") -> str:
    return f"{API}/companies/{t.slug}{rest}"


def _extra(label: str) -> str:
    return f"extra field {label}"


def _admins_via_own(t: Target) -> frozenset[str] | None:
    """Admin-only routes: through the caller's own company only admins get as far as the id
    (an agent is refused for its role first, which reveals nothing about the id)."""
    return ADMIN_LEVEL if t.keep_slug else None


def _check_me(actor: Actor, req: Req, r: httpx.Response) -> str | None:
    if actor.role in UNAUTHENTICATED:
        return _expect_status(r, 401, "unauthenticated")
    if r.status_code != 200:
        return f"expected 200, got {r.status_code} {r.text[:200]}"
    me = r.json()
    if me["id"] != actor.id:
        return f"/auth/me names id {me['id']}, not the caller {actor.id}"
    seen = {int(c) for c in me.get("companies", {})}
    if not seen <= actor.member_of:
        return f"/auth/me lists companies {sorted(seen)} beyond {sorted(actor.member_of)}"
    return None


def _member_only(params: dict[str, Any]) -> bool:
    """The inbox's filters and sort=waiting: company-internal, a customer cannot even use them
    (who owns a conversation, its labels, other customers, mentions, who waits)."""
    return (
        bool({"owner", "label", "customer_id"} & set(params))
        or params.get("sort") == "waiting"
        or params.get("mentions") == "true"
    )


def _check_list(actor: Actor, req: Req, r: httpx.Response) -> str | None:
    if actor.role in UNAUTHENTICATED:
        return _expect_status(r, 401, "unauthenticated")
    params = req.params or {}
    if actor.role in CUSTOMERS and _member_only(params):
        return _expect_status(r, 422, "validation_error")
    if actor.role == "token_a" and params.get("mentions") == "true":
        return _expect_status(r, 422, "validation_error")  # a token is nobody to mention
    if r.status_code != 200:
        return f"expected 200, got {r.status_code} {r.text[:200]}"
    items = r.json()["items"]
    if actor.role in CUSTOMERS and any(c["owner"] is not None for c in items):
        return "a customer saw who owns a conversation"
    internal = ("customer", "labels", "waiting_since")
    if actor.role in CUSTOMERS and any(c[k] is not None for c in items for k in internal):
        return "a customer saw the company's customer panel, labels or waiting_since"
    if any(c["customer"] is not None and c["customer"]["id"] != c["customer_id"] for c in items):
        return "a conversation named another customer in its panel"
    ids = {c["id"] for c in items}
    if not ids <= actor.visible:
        return f"listed foreign conversations {sorted(ids - actor.visible)}"
    if actor.role in CUSTOMERS and any(
        (c.get("last_message") or {}).get("kind") == "note" for c in items
    ):
        return "a private note reached a customer as last_message"
    if not req.params and ids != actor.visible:
        # the positive control: without filters the caller sees all of its own
        return f"listed {sorted(ids)}, expected own {sorted(actor.visible)}"
    return None


def _check_logout(actor: Actor, req: Req, r: httpx.Response) -> str | None:
    if actor.role == "revoked_token_a":
        return _expect_status(r, 401, "unauthenticated")
    return None if r.status_code == 204 else f"expected 204, got {r.status_code} {r.text[:200]}"


def _check_claim(actor: Actor, req: Req, r: httpx.Response) -> str | None:
    """Only an anonymous visitor may claim an email; the world has accounts only."""
    if actor.role in UNAUTHENTICATED:
        return _expect_status(r, 401, "unauthenticated")
    return _expect_status(r, 409, "conflict")


def _session_id(c: Client) -> str:
    """The public id under which ``/me/sessions`` lists the session of ``c`` (signed out: an
    id no session has)."""
    token = c.http.cookies.get("eyelevel_session")
    return public_session_id(secrets.token_hash(token)) if token else "0" * 16


AGENTS = frozenset({"agent_a", "admin_a", "agent_b", "admin_b"})
NOT_AGENTS = frozenset(CUSTOMERS | {"token_a"})


def _check_own(actor: Actor, req: Req, r: httpx.Response) -> str | None:
    """``/me`` routes act on the caller's own account only: ``req.expect`` is the answer
    ("<status> <code>") for the roles it is sent by."""
    if actor.role in UNAUTHENTICATED:
        return _expect_status(r, 401, "unauthenticated")
    status, code = req.expect.split()
    return _expect_status(r, int(status), code)


def _check_sessions(actor: Actor, req: Req, r: httpx.Response) -> str | None:
    if actor.role in UNAUTHENTICATED:
        return _expect_status(r, 401, "unauthenticated")
    if actor.role == "token_a":
        return _expect_status(r, 403, "forbidden")
    if r.status_code != 200:
        return f"expected 200, got {r.status_code} {r.text[:200]}"
    own = _session_id(actor.client)
    if [s["id"] for s in r.json() if s["current"]] != [own]:
        return f"the current session is not the caller's own: {r.text[:300]}"
    return None


def _check_privacy(actor: Actor, req: Req, r: httpx.Response) -> str | None:
    """The privacy routes are the customer's own: a company principal gets 403 before anything
    is looked up; a customer reads only their own profile, card and ledger."""
    if actor.role in UNAUTHENTICATED:
        return _expect_status(r, 401, "unauthenticated")
    if req.expect == INVALID:  # the request schema refuses it before anything else
        return _expect_status(r, 422, "validation_error")
    if actor.role not in CUSTOMERS:
        return _expect_status(r, 403, "forbidden")
    if req.method != "GET":
        return _expect_status(r, 422, "validation_error")
    if r.status_code != 200:
        return f"expected 200, got {r.status_code} {r.text[:200]}"
    body = r.json()
    if req.path.endswith("/consents"):
        return None
    if "visible" in body and body["visible"]["id"] != actor.id:
        return "a privacy card showed another customer"
    return None


def _check_exports(actor: Actor, req: Req, r: httpx.Response) -> str | None:
    """Exports are the customer's own: a company principal gets 403 before anything is looked
    up; a customer lists only their own (none in this world) and finds no other export
    (another customer's reading like a missing one is tested in test_export)."""
    if actor.role in UNAUTHENTICATED:
        return _expect_status(r, 401, "unauthenticated")
    if req.expect == INVALID:
        return _expect_status(r, 422, "validation_error")
    if actor.role not in CUSTOMERS:
        return _expect_status(r, 403, "forbidden")
    if req.path.endswith("/download"):
        return _expect_status(r, 404, "not_found")
    if r.status_code != 200 or r.json() != []:
        return f"expected an empty list, got {r.status_code} {r.text[:200]}"
    return None


def _check_erasure(actor: Actor, req: Req, r: httpx.Response) -> str | None:
    """Erasure is the customer's own: a company principal gets 403 before anything is looked
    up; a customer with a wrong password gets 401 invalid_credentials (and keeps everything)."""
    if actor.role in UNAUTHENTICATED:
        return _expect_status(r, 401, "unauthenticated")
    if req.expect == INVALID:
        return _expect_status(r, 422, "validation_error")
    if actor.role not in CUSTOMERS:
        return _expect_status(r, 403, "forbidden")
    return _expect_status(r, 401, "invalid_credentials")


def _check_push(actor: Actor, req: Req, r: httpx.Response) -> str | None:
    """Push devices are the customer's own: a company principal gets 403 before anything is
    looked up; a customer lists exactly their own device."""
    if actor.role in UNAUTHENTICATED:
        return _expect_status(r, 401, "unauthenticated")
    if req.expect == INVALID:
        return _expect_status(r, 422, "validation_error")
    if actor.role not in CUSTOMERS:
        return _expect_status(r, 403, "forbidden")
    if r.status_code != 200:
        return f"expected 200, got {r.status_code} {r.text[:200]}"
    endpoints = [d["endpoint"] for d in r.json()]
    if endpoints != [_push_endpoint(actor.role)]:
        return f"listed push devices {endpoints}, expected only the caller's own"
    return None


def _push_endpoint(role: str) -> str:
    """Each customer's device: a public literal address, never contacted (nothing is sent)."""
    return f"https://93.184.216.34/push/{role}"


def _future() -> str:
    return (datetime.now(UTC) + timedelta(days=2)).isoformat()


@functools.cache
def _jpeg() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (32, 24), (200, 30, 30)).save(buf, "JPEG")
    return buf.getvalue()


def _photo(name: str = "intrusion.jpg") -> dict[str, tuple[str, bytes, str]]:
    return {"file": (name, _jpeg(), "image/jpeg")}


MATRIX: dict[tuple[str, str], Entry] = {
    # -- accounts --------------------------------------------------------------------------
    ("POST", f"{API}/auth/signup"): Public(
        "creates a new customer account: no principal, no object id; its body is a closed "
        "schema (see test_body_fields_never_move_data)"
    ),
    ("POST", f"{API}/auth/verify"): Public("the mailed verification token is the credential"),
    ("POST", f"{API}/auth/login"): Public("exchanges email and password for a session"),
    ("POST", f"{API}/auth/accept-invitation"): Public(
        "the mailed invitation token is the credential and names its company"
    ),
    ("POST", f"{API}/auth/logout"): Scoped(
        build=lambda t: [Req("POST", f"{API}/auth/logout")], check=_check_logout, last=True
    ),
    ("GET", f"{API}/auth/me"): Scoped(
        build=lambda t: [Req("GET", f"{API}/auth/me")], check=_check_me
    ),
    ("POST", f"{API}/auth/visitor"): Public(
        "creates a new anonymous customer (a website visitor) and its bearer session: no "
        "principal, no object id; the body is a closed schema with an optional display name"
    ),
    ("POST", f"{API}/auth/claim"): Scoped(
        build=lambda t: [
            Req(
                "POST",
                f"{API}/auth/claim",
                {"email": f"claim-{uuid.uuid4().hex[:8]}@example.org", "password": PASSWORD},
                note="a new email",
            ),
            # another customer's email and (the world's shared) password: a takeover attempt
            Req(
                "POST",
                f"{API}/auth/claim",
                {"email": t.customer_email, "password": PASSWORD},
                note="another customer's email and password",
            ),
        ],
        check=_check_claim,
    ),
    # -- companies -------------------------------------------------------------------------
    ("GET", f"{API}/companies"): Public("the public directory: names and cards only"),
    ("GET", f"{API}/push/key"): Public(
        "the server's VAPID public key, which every browser needs to subscribe: public by nature"
    ),
    ("GET", f"{API}/companies/{{slug}}"): Public("a company's public card (no ids, no staff)"),
    ("GET", f"{API}/companies/{{slug}}/staff"): OnObject(
        "company", lambda t: [Req("GET", _company(t, "/staff"))]
    ),
    # full-text search: members only; customers and other companies' staff get the 404 of a
    # company that does not exist (a word every conversation of the world contains)
    ("GET", f"{API}/companies/{{slug}}/search"): OnObject(
        "company",
        lambda t: [
            Req("GET", _company(t, "/search"), params={"q": "Hallo"}),
            Req("GET", _company(t, "/search"), params={"q": '" OR * NEAR(', "limit": 50}),
        ],
    ),
    ("POST", f"{API}/companies/{{slug}}/invitations"): OnObject(
        "company",
        lambda t: [
            Req(
                "POST",
                _company(t, "/invitations"),
                {"email": f"intruder-{uuid.uuid4().hex[:8]}@example.com", "role": "admin"},
            ),
            Req(
                "POST",
                _company(t, "/invitations"),
                {"email": "x@example.com", "company_id": t.company_id},
                expect=INVALID,
                note=_extra("company_id"),
            ),
        ],
    ),
    ("GET", f"{API}/companies/{{slug}}/tokens"): OnObject(
        "company", lambda t: [Req("GET", _company(t, "/tokens"))]
    ),
    ("POST", f"{API}/companies/{{slug}}/tokens"): OnObject(
        "company",
        lambda t: [
            Req("POST", _company(t, "/tokens"), {"name": "intruder", "scopes": ["reports:read"]}),
            Req(
                "POST",
                _company(t, "/tokens"),
                {"name": "x", "scopes": ["reports:read"], "company_id": t.company_id},
                expect=INVALID,
                note=_extra("company_id"),
            ),
        ],
    ),
    ("DELETE", f"{API}/companies/{{slug}}/tokens/{{token_id}}"): OnObject(
        "token", lambda t: [Req("DELETE", _company(t, f"/tokens/{t.token_id}"))]
    ),
    # the inbox sidebar's counts: members only
    ("GET", f"{API}/companies/{{slug}}/inbox"): OnObject(
        "company",
        lambda t: [
            Req("GET", _company(t, "/inbox")),
            Req("GET", _company(t, "/inbox"), params={"status": "resolved"}),
        ],
    ),
    # -- agents: roles, deactivation, the audit log; own second factor, sessions, presence ----
    ("PATCH", f"{API}/companies/{{slug}}/agents/{{agent_id}}"): OnObject(
        "agent",
        lambda t: [
            Req(
                "PATCH",
                _company(t, f"/agents/{t.agent_id}"),
                {"active": False},
                who=_admins_via_own(t),
            ),
            Req(
                "PATCH",
                _company(t, f"/agents/{t.agent_id}"),
                {"role": "agent"},
                who=_admins_via_own(t),
            ),
            Req(
                "PATCH",
                _company(t, f"/agents/{t.agent_id}"),
                {"role": "admin", "company_id": t.company_id},
                expect=INVALID,
                note=_extra("company_id"),
            ),
        ],
    ),
    ("GET", f"{API}/companies/{{slug}}/audit"): OnObject(
        "company",
        lambda t: [
            Req("GET", _company(t, "/audit")),
            Req("GET", _company(t, "/audit"), params={"before_id": 2**40, "limit": 5}),
        ],
    ),
    # an agent's own enrolment and presence change its own row only (tests/test_agent_security
    # covers them): here agents send what changes nothing, the others are refused for their kind
    ("POST", f"{API}/me/totp"): Scoped(
        build=lambda t: [Req("POST", f"{API}/me/totp", expect="403 forbidden", who=NOT_AGENTS)],
        check=_check_own,
    ),
    ("POST", f"{API}/me/totp/confirm"): Scoped(
        build=lambda t: [
            Req(
                "POST",
                f"{API}/me/totp/confirm",
                {"code": "123456"},
                expect="409 conflict",  # nothing is being set up
                who=AGENTS,
            ),
            Req(
                "POST",
                f"{API}/me/totp/confirm",
                {"code": "123456"},
                expect="403 forbidden",
                who=NOT_AGENTS,
            ),
        ],
        check=_check_own,
    ),
    ("DELETE", f"{API}/me/totp"): Scoped(
        build=lambda t: [
            Req(
                "DELETE",
                f"{API}/me/totp",
                {"password": "not the password"},
                expect="401 invalid_credentials",
                who=AGENTS,
            ),
            Req(
                "DELETE",
                f"{API}/me/totp",
                {"password": PASSWORD},
                expect="403 forbidden",
                who=NOT_AGENTS,
            ),
        ],
        check=_check_own,
    ),
    ("PUT", f"{API}/me/presence"): Scoped(
        build=lambda t: [
            Req(
                "PUT",
                f"{API}/me/presence",
                {"presence": "busy"},
                expect="422 validation_error",
                who=AGENTS,
            ),
            Req(
                "PUT",
                f"{API}/me/presence",
                {"presence": "online", "agent_id": t.agent_id},
                expect="422 validation_error",
                note=_extra("agent_id"),
            ),
            Req(
                "PUT",
                f"{API}/me/presence",
                {"presence": "away"},
                expect="403 forbidden",
                who=NOT_AGENTS,
            ),
        ],
        check=_check_own,
    ),
    ("GET", f"{API}/me/sessions"): Scoped(
        build=lambda t: [Req("GET", f"{API}/me/sessions")], check=_check_sessions
    ),
    # the other company's admin's session, by its public id
    ("DELETE", f"{API}/me/sessions/{{session_id}}"): OnObject(
        "company",
        lambda t: [
            Req("DELETE", f"{API}/me/sessions/{t.session_id}", who=AGENTS | CUSTOMERS),
            Req(
                "DELETE",
                f"{API}/me/sessions/{t.session_id}",
                expect=FORBIDDEN,
                who=frozenset({"token_a"}),
            ),
        ],
    ),
    # -- the customer's privacy: their own profile, cards and ledger ----------------------
    ("GET", f"{API}/me/profile"): Scoped(
        build=lambda t: [Req("GET", f"{API}/me/profile")], check=_check_privacy
    ),
    ("PUT", f"{API}/me/profile"): Scoped(
        build=lambda t: [
            Req("PUT", f"{API}/me/profile", {"phone": "not a number", "first_name": "Eve"}),
            Req(
                "PUT",
                f"{API}/me/profile",
                {"first_name": "Eve", "customer_id": t.customer_id},
                expect=INVALID,
                note=_extra("customer_id"),
            ),
        ],
        check=_check_privacy,
    ),
    ("GET", f"{API}/me/privacy/{{slug}}"): Scoped(
        build=lambda t: [Req("GET", f"{API}/me/privacy/{t.slug}")], check=_check_privacy
    ),
    ("PUT", f"{API}/me/privacy/{{slug}}"): Scoped(
        build=lambda t: [
            Req(
                "PUT",
                f"{API}/me/privacy/{t.slug}",
                {"fields": {"email": True}, "screen": "Bad Screen!", "text_version": "v1"},
            ),
            Req(
                "PUT",
                f"{API}/me/privacy/{t.slug}",
                {
                    "fields": {"email": True},
                    "screen": "privacy_card",
                    "text_version": "v1",
                    "customer_id": t.customer_id,
                },
                expect=INVALID,
                note=_extra("customer_id"),
            ),
        ],
        check=_check_privacy,
    ),
    ("GET", f"{API}/me/consents"): Scoped(
        build=lambda t: [Req("GET", f"{API}/me/consents")], check=_check_privacy
    ),
    ("GET", f"{API}/me/privacy/{{slug}}/contact"): Scoped(
        build=lambda t: [Req("GET", f"{API}/me/privacy/{t.slug}/contact")], check=_check_privacy
    ),
    ("PUT", f"{API}/me/privacy/{{slug}}/contact"): Scoped(
        build=lambda t: [
            Req(
                "PUT",
                f"{API}/me/privacy/{t.slug}/contact",
                {
                    "topics": {"news": True},
                    "quiet_hours": {"start": "22:00", "end": "07:00", "time_zone": "Nowhere/X"},
                    "screen": "privacy_card",
                    "text_version": "v1",
                },
            ),
            Req(
                "PUT",
                f"{API}/me/privacy/{t.slug}/contact",
                {
                    "topics": {"news": True},
                    "screen": "privacy_card",
                    "text_version": "v1",
                    "customer_id": t.customer_id,
                },
                expect=INVALID,
                note=_extra("customer_id"),
            ),
        ],
        check=_check_privacy,
    ),
    # -- the customer's data export: their own only ----------------------------------------
    ("POST", f"{API}/me/exports"): Scoped(
        build=lambda t: [
            Req("POST", f"{API}/me/exports", {}, who=STAFF),
            Req(
                "POST",
                f"{API}/me/exports",
                {"customer_id": t.customer_id},
                expect=INVALID,
                note=_extra("customer_id"),
            ),
        ],
        check=_check_exports,
    ),
    ("GET", f"{API}/me/exports"): Scoped(
        build=lambda t: [Req("GET", f"{API}/me/exports")], check=_check_exports
    ),
    ("GET", f"{API}/me/exports/{{export_id}}/download"): Scoped(
        build=lambda t: [Req("GET", f"{API}/me/exports/{GHOST}/download")],
        check=_check_exports,
    ),
    # -- erasure: the customer's own account; legal holds on a company's conversations -----
    ("POST", f"{API}/me/erasure"): Scoped(
        build=lambda t: [
            Req("POST", f"{API}/me/erasure", {"password": "not the password 1"}),
            Req(
                "POST",
                f"{API}/me/erasure",
                {"password": PASSWORD, "customer_id": t.customer_id},
                expect=INVALID,
                note=_extra("customer_id"),
            ),
        ],
        check=_check_erasure,
    ),
    ("GET", f"{API}/conversations/{{conversation_id}}/legal-hold"): OnObject(
        "conversation", lambda t: [Req("GET", _conv(t, "/legal-hold"))]
    ),
    ("PUT", f"{API}/conversations/{{conversation_id}}/legal-hold"): OnObject(
        "conversation", lambda t: [Req("PUT", _conv(t, "/legal-hold"), {"reason": "intrusion"})]
    ),
    ("DELETE", f"{API}/conversations/{{conversation_id}}/legal-hold"): OnObject(
        "conversation", lambda t: [Req("DELETE", _conv(t, "/legal-hold"))]
    ),
    ("GET", f"{API}/companies/{{slug}}/legal-holds"): OnObject(
        "company", lambda t: [Req("GET", _company(t, "/legal-holds"))]
    ),
    # -- contact consent, the company's side: members only, their own customers only ------
    ("GET", f"{API}/companies/{{slug}}/customers/{{customer_id}}/contact"): OnObject(
        "company",
        lambda t: [Req("GET", _company(t, f"/customers/{t.customer_id}/contact"))],
    ),
    ("POST", f"{API}/companies/{{slug}}/customers/{{customer_id}}/conversations"): OnObject(
        "company",
        lambda t: [
            Req(
                "POST",
                _company(t, f"/customers/{t.customer_id}/conversations"),
                {"topic": "news", "subject": "Angebot", "body": "Hallo"},
            ),
            Req(
                "POST",
                _company(t, f"/customers/{t.customer_id}/conversations"),
                {"topic": "news", "subject": "x", "body": "x", "company_id": t.company_id},
                expect=INVALID,
                note=_extra("company_id"),
            ),
        ],
    ),
    # -- web push: the customer's own devices --------------------------------------------
    ("POST", f"{API}/me/push-subscriptions"): Scoped(
        build=lambda t: [
            Req(
                "POST",
                f"{API}/me/push-subscriptions",
                Device(_push_endpoint("intruder")).subscription(),
                who=STAFF,
            ),
            Req(
                "POST",
                f"{API}/me/push-subscriptions",
                Device(_push_endpoint("intruder")).subscription(customer_id=t.customer_id),
                expect=INVALID,
                note=_extra("customer_id"),
            ),
        ],
        check=_check_push,
    ),
    ("GET", f"{API}/me/push-subscriptions"): Scoped(
        build=lambda t: [Req("GET", f"{API}/me/push-subscriptions")], check=_check_push
    ),
    ("DELETE", f"{API}/me/push-subscriptions/{{subscription_id}}"): OnObject(
        "device",
        lambda t: [
            Req(
                "DELETE",
                f"{API}/me/push-subscriptions/{t.push_subscription_id}",
                who=CUSTOMERS,
            ),
            Req(
                "DELETE",
                f"{API}/me/push-subscriptions/{t.push_subscription_id}",
                expect=FORBIDDEN,
                who=STAFF,
            ),
        ],
    ),
    # -- company administration: profile, teams, labels, canned responses ------------------
    ("PATCH", f"{API}/companies/{{slug}}"): OnObject(
        "company",
        lambda t: [
            Req("PATCH", _company(t), {"name": "Übernommen", "phone": "+1 555"}),
            Req("PATCH", _company(t), {"slug": f"taken-{uuid.uuid4().hex[:6]}"}),
            Req(
                "PATCH",
                _company(t),
                {"name": "x", "id": t.company_id},
                expect=INVALID,
                note=_extra("id"),
            ),
        ],
    ),
    ("POST", f"{API}/companies/{{slug}}/teams"): OnObject(
        "company",
        lambda t: [
            Req("POST", _company(t, "/teams"), {"name": "Intrusion"}),
            Req(
                "POST",
                _company(t, "/teams"),
                {"name": "x", "scopes": ["reports:read"], "company_id": t.company_id},
                expect=INVALID,
                note=_extra("company_id"),
            ),
        ],
    ),
    ("PATCH", f"{API}/companies/{{slug}}/teams/{{team_id}}"): OnObject(
        "team",
        lambda t: [
            Req(
                "PATCH",
                _company(t, f"/teams/{t.team_id}"),
                {"name": "Intrusion"},
                who=_admins_via_own(t),
            )
        ],
    ),
    ("DELETE", f"{API}/companies/{{slug}}/teams/{{team_id}}"): OnObject(
        "team",
        lambda t: [
            Req("DELETE", _company(t, f"/teams/{t.team_id}"), who=_admins_via_own(t)),
        ],
    ),
    ("PUT", f"{API}/companies/{{slug}}/teams/{{team_id}}/members"): OnObject(
        "team",
        lambda t: [
            Req(
                "PUT",
                _company(t, f"/teams/{t.team_id}/members"),
                {"agent_ids": []},
                who=_admins_via_own(t),
            ),
            Req(
                "PUT",
                _company(t, f"/teams/{t.team_id}/members"),
                {"agent_ids": [t.agent_id]},
                who=_admins_via_own(t),
            ),
            # the caller's own team given the other company's agent
            *(
                [
                    Req(
                        "PUT",
                        _company(t, f"/teams/{t.home_team_id}/members"),
                        {"agent_ids": [t.agent_id]},
                        expect=FOREIGN_OWNER,
                        who=ADMIN_LEVEL,
                        note="own team, other company's agent",
                    )
                ]
                if t.keep_slug and t.home_team_id
                else []
            ),
        ],
    ),
    # -- callbacks ------------------------------------------------------------------------
    ("GET", f"{API}/conversations/{{conversation_id}}/callbacks/slots"): OnObject(
        "conversation", lambda t: [Req("GET", _conv(t, "/callbacks/slots"))]
    ),
    ("GET", f"{API}/conversations/{{conversation_id}}/callbacks"): OnObject(
        "conversation", lambda t: [Req("GET", _conv(t, "/callbacks"))]
    ),
    ("POST", f"{API}/conversations/{{conversation_id}}/callbacks"): OnObject(
        "conversation",
        lambda t: [
            Req(
                "POST",
                _conv(t, "/callbacks"),
                {"start": "2030-01-07T09:00:00Z", "phone": "+49 30 999999"},
                who=CUSTOMERS,
            ),
            Req(
                "POST",
                _conv(t, "/callbacks"),
                {"start": "2030-01-07T09:00:00Z", "customer_id": t.customer_id},
                expect=INVALID,
                note=_extra("customer_id"),
            ),
        ],
    ),
    ("GET", f"{API}/callbacks/{{callback_id}}"): OnObject(
        "conversation", lambda t: [Req("GET", f"{API}/callbacks/{t.callback_id}")]
    ),
    ("POST", f"{API}/callbacks/{{callback_id}}/reschedule"): OnObject(
        "conversation",
        lambda t: [
            Req(
                "POST",
                f"{API}/callbacks/{t.callback_id}/reschedule",
                {"start": "2030-01-07T09:00:00Z"},
            )
        ],
    ),
    ("POST", f"{API}/callbacks/{{callback_id}}/cancel"): OnObject(
        "conversation", lambda t: [Req("POST", f"{API}/callbacks/{t.callback_id}/cancel")]
    ),
    ("POST", f"{API}/callbacks/{{callback_id}}/start"): OnObject(
        "conversation", lambda t: [Req("POST", f"{API}/callbacks/{t.callback_id}/start")]
    ),
    ("POST", f"{API}/callbacks/{{callback_id}}/outcome"): OnObject(
        "conversation",
        lambda t: [
            Req(
                "POST",
                f"{API}/callbacks/{t.callback_id}/outcome",
                {"reached": True, "summary": "Intrusion"},
            )
        ],
    ),
    ("GET", f"{API}/companies/{{slug}}/callbacks"): OnObject(
        "company", lambda t: [Req("GET", _company(t, "/callbacks"))]
    ),
    ("GET", f"{API}/companies/{{slug}}/callback-settings"): OnObject(
        "company", lambda t: [Req("GET", _company(t, "/callback-settings"))]
    ),
    ("PUT", f"{API}/companies/{{slug}}/callback-settings"): OnObject(
        "company",
        lambda t: [
            Req(
                "PUT",
                _company(t, "/callback-settings"),
                {"slot_minutes": 60, "days_ahead": 1, "lead_minutes": 0, "all_agents": True},
            )
        ],
    ),
    ("GET", f"{API}/companies/{{slug}}/reports"): OnObject(
        "company",
        lambda t: [
            Req(
                "GET",
                _company(t, "/reports"),
                params={"from": "2026-01-01", "to": "2026-01-31", "group": g},
            )
            for g in ("week", "team", "agent")
        ],
    ),
    ("GET", f"{API}/companies/{{slug}}/reports.csv"): OnObject(
        "company",
        lambda t: [
            Req(
                "GET",
                _company(t, "/reports.csv"),
                params={"from": "2026-01-01", "to": "2026-01-31"},
            )
        ],
    ),
    ("GET", f"{API}/companies/{{slug}}/teams/{{team_id}}/sla"): OnObject(
        "team", lambda t: [Req("GET", _company(t, f"/teams/{t.team_id}/sla"))]
    ),
    ("PUT", f"{API}/companies/{{slug}}/teams/{{team_id}}/sla"): OnObject(
        "team",
        lambda t: [
            Req(
                "PUT",
                _company(t, f"/teams/{t.team_id}/sla"),
                {"first_response_minutes": 1, "reassign_on_breach": True},
                who=_admins_via_own(t),
            )
        ],
    ),
    ("GET", f"{API}/companies/{{slug}}/labels"): OnObject(
        "company", lambda t: [Req("GET", _company(t, "/labels"))]
    ),
    ("POST", f"{API}/companies/{{slug}}/labels"): OnObject(
        "company",
        lambda t: [
            Req("POST", _company(t, "/labels"), {"name": "Intrusion", "color": "#000000"}),
            Req(
                "POST",
                _company(t, "/labels"),
                {"name": "x", "color": "#000000", "company_id": t.company_id},
                expect=INVALID,
                note=_extra("company_id"),
            ),
        ],
    ),
    ("PATCH", f"{API}/companies/{{slug}}/labels/{{label_id}}"): OnObject(
        "label",
        lambda t: [
            Req(
                "PATCH",
                _company(t, f"/labels/{t.label_id}"),
                {"name": "Intrusion", "color": "#ffffff"},
                who=_admins_via_own(t),
            )
        ],
    ),
    ("DELETE", f"{API}/companies/{{slug}}/labels/{{label_id}}"): OnObject(
        "label",
        lambda t: [
            Req("DELETE", _company(t, f"/labels/{t.label_id}"), who=_admins_via_own(t)),
        ],
    ),
    # -- routing: conversation topics, rules, settings, a team's auto-assignment ------------
    ("GET", f"{API}/companies/{{slug}}/conversation-topics"): Public(
        "the active conversation topics a customer picks before writing (the company's own "
        "members also see inactive ones)"
    ),
    ("POST", f"{API}/companies/{{slug}}/conversation-topics"): OnObject(
        "company",
        lambda t: [
            Req("POST", _company(t, "/conversation-topics"), {"name": "Intrusion"}),
            Req(
                "POST",
                _company(t, "/conversation-topics"),
                {"name": "x", "company_id": t.company_id},
                expect=INVALID,
                note=_extra("company_id"),
            ),
        ],
    ),
    ("PUT", f"{API}/companies/{{slug}}/conversation-topics/order"): OnObject(
        "company",
        lambda t: [Req("PUT", _company(t, "/conversation-topics/order"), {"ids": []})],
    ),
    ("PATCH", f"{API}/companies/{{slug}}/conversation-topics/{{topic_id}}"): OnObject(
        "company",
        lambda t: [
            Req("PATCH", _company(t, f"/conversation-topics/{GHOST}"), {"name": "Intrusion"})
        ],
    ),
    ("DELETE", f"{API}/companies/{{slug}}/conversation-topics/{{topic_id}}"): OnObject(
        "company", lambda t: [Req("DELETE", _company(t, f"/conversation-topics/{GHOST}"))]
    ),
    ("GET", f"{API}/companies/{{slug}}/routing-rules"): OnObject(
        "company", lambda t: [Req("GET", _company(t, "/routing-rules"))]
    ),
    ("POST", f"{API}/companies/{{slug}}/routing-rules"): OnObject(
        "company",
        lambda t: [
            Req("POST", _company(t, "/routing-rules"), {"name": "Intrusion", "team_id": GHOST}),
            Req(
                "POST",
                _company(t, "/routing-rules"),
                {"name": "x", "team_id": GHOST, "company_id": t.company_id},
                expect=INVALID,
                note=_extra("company_id"),
            ),
        ],
    ),
    ("PUT", f"{API}/companies/{{slug}}/routing-rules/order"): OnObject(
        "company", lambda t: [Req("PUT", _company(t, "/routing-rules/order"), {"ids": []})]
    ),
    ("PATCH", f"{API}/companies/{{slug}}/routing-rules/{{rule_id}}"): OnObject(
        "company",
        lambda t: [Req("PATCH", _company(t, f"/routing-rules/{GHOST}"), {"enabled": False})],
    ),
    ("DELETE", f"{API}/companies/{{slug}}/routing-rules/{{rule_id}}"): OnObject(
        "company", lambda t: [Req("DELETE", _company(t, f"/routing-rules/{GHOST}"))]
    ),
    ("PUT", f"{API}/companies/{{slug}}/routing-settings"): OnObject(
        "company",
        lambda t: [
            Req("PUT", _company(t, "/routing-settings"), {"topic_required": True}),
        ],
    ),
    ("GET", f"{API}/companies/{{slug}}/teams/{{team_id}}/assignment"): OnObject(
        "team", lambda t: [Req("GET", _company(t, f"/teams/{t.team_id}/assignment"))]
    ),
    ("PUT", f"{API}/companies/{{slug}}/teams/{{team_id}}/assignment"): OnObject(
        "team",
        lambda t: [
            Req(
                "PUT",
                _company(t, f"/teams/{t.team_id}/assignment"),
                {"auto_assign": True, "max_open": 1},
                who=_admins_via_own(t),
            )
        ],
    ),
    ("PUT", f"{API}/conversations/{{conversation_id}}/topic"): OnObject(
        "conversation", lambda t: [Req("PUT", _conv(t, "/topic"), {"topic_id": None})]
    ),
    # -- email as a channel -----------------------------------------------------------------
    ("GET", f"{API}/companies/{{slug}}/mail-addresses"): OnObject(
        "company", lambda t: [Req("GET", _company(t, "/mail-addresses"))]
    ),
    ("PUT", f"{API}/companies/{{slug}}/mail-addresses"): OnObject(
        "company",
        lambda t: [
            Req("PUT", _company(t, "/mail-addresses"), {"addresses": []}),
            Req(
                "PUT",
                _company(t, "/mail-addresses"),
                {"addresses": [f"intrusion-{uuid.uuid4().hex[:6]}@example.com"]},
            ),
            Req(
                "PUT",
                _company(t, "/mail-addresses"),
                {"addresses": [], "company_id": t.company_id},
                expect=INVALID,
                note=_extra("company_id"),
            ),
        ],
    ),
    ("GET", f"{API}/conversations/{{conversation_id}}/email"): OnObject(
        "conversation", lambda t: [Req("GET", _conv(t, "/email"))]
    ),
    ("GET", f"{API}/companies/{{slug}}/webhooks"): OnObject(
        "company", lambda t: [Req("GET", _company(t, "/webhooks"))]
    ),
    ("POST", f"{API}/companies/{{slug}}/webhooks"): OnObject(
        "company",
        lambda t: [
            Req(
                "POST",
                _company(t, "/webhooks"),
                {"url": "https://93.184.216.34/x", "event_types": ["message.created"]},
            ),
            Req(
                "POST",
                _company(t, "/webhooks"),
                {"url": "https://93.184.216.34/x", "event_types": [], "company_id": t.company_id},
                expect=INVALID,
                note=_extra("company_id"),
            ),
        ],
    ),
    ("GET", f"{API}/companies/{{slug}}/webhooks/{{endpoint_id}}"): OnObject(
        "webhook",
        lambda t: [Req("GET", _company(t, f"/webhooks/{t.webhook_id}"), who=_admins_via_own(t))],
    ),
    ("PATCH", f"{API}/companies/{{slug}}/webhooks/{{endpoint_id}}"): OnObject(
        "webhook",
        lambda t: [
            Req(
                "PATCH",
                _company(t, f"/webhooks/{t.webhook_id}"),
                {"description": "Intrusion", "enabled": True},
                who=_admins_via_own(t),
            )
        ],
    ),
    ("DELETE", f"{API}/companies/{{slug}}/webhooks/{{endpoint_id}}"): OnObject(
        "webhook",
        lambda t: [Req("DELETE", _company(t, f"/webhooks/{t.webhook_id}"), who=_admins_via_own(t))],
    ),
    ("POST", f"{API}/companies/{{slug}}/webhooks/{{endpoint_id}}/rotate"): OnObject(
        "webhook",
        lambda t: [
            Req("POST", _company(t, f"/webhooks/{t.webhook_id}/rotate"), who=_admins_via_own(t))
        ],
    ),
    ("POST", f"{API}/companies/{{slug}}/webhooks/{{endpoint_id}}/test"): OnObject(
        "webhook",
        lambda t: [
            Req("POST", _company(t, f"/webhooks/{t.webhook_id}/test"), who=_admins_via_own(t))
        ],
    ),
    ("POST", f"{API}/companies/{{slug}}/webhooks/{{endpoint_id}}/replay"): OnObject(
        "webhook",
        lambda t: [
            Req(
                "POST",
                _company(t, f"/webhooks/{t.webhook_id}/replay"),
                {"since": "2020-01-01T00:00:00Z"},
                who=_admins_via_own(t),
            )
        ],
    ),
    ("GET", f"{API}/companies/{{slug}}/webhooks/{{endpoint_id}}/deliveries"): OnObject(
        "webhook",
        lambda t: [
            Req(
                "GET",
                _company(t, f"/webhooks/{t.webhook_id}/deliveries"),
                who=_admins_via_own(t),
            )
        ],
    ),
    ("GET", f"{API}/companies/{{slug}}/canned-responses"): OnObject(
        "company", lambda t: [Req("GET", _company(t, "/canned-responses"))]
    ),
    ("POST", f"{API}/companies/{{slug}}/canned-responses"): OnObject(
        "company",
        lambda t: [
            Req("POST", _company(t, "/canned-responses"), {"shortcut": "x", "body": "Intrusion"}),
            Req(
                "POST",
                _company(t, "/canned-responses"),
                {"shortcut": "x", "body": "Intrusion", "personal": True},
            ),
            Req(
                "POST",
                _company(t, "/canned-responses"),
                {"shortcut": "x", "body": "x", "personal": True, "agent_id": t.agent_id},
                expect=INVALID,
                note=_extra("agent_id"),
            ),
        ],
    ),
    # personal ones are any member's: through the own company, every member reaches the lookup
    ("PATCH", f"{API}/companies/{{slug}}/canned-responses/{{canned_id}}"): OnObject(
        "canned",
        lambda t: [
            Req("PATCH", _company(t, f"/canned-responses/{t.canned_id}"), {"body": "Intrusion"}),
        ],
    ),
    ("DELETE", f"{API}/companies/{{slug}}/canned-responses/{{canned_id}}"): OnObject(
        "canned",
        lambda t: [Req("DELETE", _company(t, f"/canned-responses/{t.canned_id}"))],
    ),
    # -- conversations ---------------------------------------------------------------------
    ("GET", f"{API}/conversations"): Scoped(
        build=lambda t: [
            Req("GET", f"{API}/conversations"),
            Req("GET", f"{API}/conversations", params={"company_id": t.company_id}),
            Req("GET", f"{API}/conversations", params={"owner": f"agent:{t.agent_id}"}),
            Req("GET", f"{API}/conversations", params={"owner": f"team:{t.team_id}"}),
            Req("GET", f"{API}/conversations", params={"owner": "unassigned"}),
            Req("GET", f"{API}/conversations", params={"status": "open", "limit": 200}),
            # the inbox's filters narrow within the caller's scope and never widen it
            Req("GET", f"{API}/conversations", params={"customer_id": t.customer_id}),
            Req("GET", f"{API}/conversations", params={"label": t.label_id}),
            Req("GET", f"{API}/conversations", params={"mentions": "true"}),
            Req("GET", f"{API}/conversations", params={"sort": "waiting", "limit": 1}),
            Req(
                "GET",
                f"{API}/conversations",
                params={"sort": "waiting", "status": "open", "owner": f"team:{t.team_id}"},
            ),
            Req("GET", f"{API}/conversations", params={"sort": "newest", "limit": 200}),
        ],
        check=_check_list,
    ),
    ("POST", f"{API}/conversations"): OnObject(
        "company",
        lambda t: [
            Req(
                "POST",
                f"{API}/conversations",
                {"company": t.slug, "body": "Hallo", "customer_id": t.customer_id},
                expect=INVALID,
                note=_extra("customer_id"),
            ),
            Req(
                "POST",
                f"{API}/conversations",
                {"company": t.slug, "body": "Hallo", "company_id": t.company_id},
                expect=INVALID,
                note=_extra("company_id"),
            ),
            # staff cannot open a conversation on a customer's behalf, whatever the company
            Req(
                "POST",
                f"{API}/conversations",
                {"company": t.slug, "body": "Hallo"},
                expect=FORBIDDEN,
                who=STAFF,
            ),
        ],
    ),
    ("GET", f"{API}/conversations/{{conversation_id}}"): OnObject(
        "conversation", lambda t: [Req("GET", _conv(t))]
    ),
    ("GET", f"{API}/conversations/{{conversation_id}}/messages"): OnObject(
        "conversation",
        lambda t: [
            Req("GET", _conv(t, "/messages")),
            Req("GET", _conv(t, "/messages"), params={"before_seq": 100, "limit": 200}),
        ],
    ),
    ("POST", f"{API}/conversations/{{conversation_id}}/messages"): OnObject(
        "conversation",
        lambda t: [
            Req("POST", _conv(t, "/messages"), {"body": "intrusion", "client_id": "x-1"}),
            Req("POST", _conv(t, "/messages"), {"body": "intrusion", "note": True}, who=STAFF),
            Req(
                "POST",
                _conv(t, "/messages"),
                {"body": "@x", "note": True, "mentions": [t.agent_id]},
                who=STAFF,
            ),
            Req(
                "POST",
                _conv(t, "/messages"),
                {"body": "intrusion", "kind": "agent", "author": {"type": "agent", "name": "X"}},
                expect=INVALID,
                note=_extra("kind, author"),
            ),
            # a note in the caller's own conversation mentioning the other company's agent
            *(
                [
                    Req(
                        "POST",
                        f"{API}/conversations/{t.home_conversation_id}/messages",
                        {"body": "@x", "note": True, "mentions": [t.agent_id]},
                        expect=FOREIGN_MENTION,
                        who=STAFF,
                        note="own conversation, other company's agent mentioned",
                    )
                ]
                if t.home_conversation_id
                else []
            ),
        ],
    ),
    ("POST", f"{API}/conversations/{{conversation_id}}/attachments"): OnObject(
        "conversation",
        lambda t: [
            Req(
                "POST",
                _conv(t, "/attachments"),
                files=_photo(),
                data={"body": "intrusion", "client_id": "x-1"},
            ),
            Req("POST", _conv(t, "/attachments"), files=_photo(), data={"note": "true"}, who=STAFF),
        ],
    ),
    ("GET", f"{API}/attachments/{{attachment_id}}"): OnObject(
        "attachment", lambda t: [Req("GET", f"{API}/attachments/{t.attachment_id}")]
    ),
    ("GET", f"{API}/attachments/{{attachment_id}}/thumbnail"): OnObject(
        "attachment", lambda t: [Req("GET", f"{API}/attachments/{t.attachment_id}/thumbnail")]
    ),
    ("POST", f"{API}/conversations/{{conversation_id}}/assignment"): OnObject(
        "conversation",
        lambda t: [
            Req("POST", _conv(t, "/assignment"), {"agent_id": t.agent_id}),
            Req("POST", _conv(t, "/assignment"), {"team_id": t.team_id}),
            Req("POST", _conv(t, "/assignment"), {}, note="unassign"),
            # the caller's own conversation handed to the other company's agent or team
            *(
                [
                    Req(
                        "POST",
                        f"{API}/conversations/{t.home_conversation_id}/assignment",
                        {"agent_id": t.agent_id},
                        expect=FOREIGN_OWNER,
                        who=STAFF,
                        note="own conversation, other company's agent",
                    ),
                    Req(
                        "POST",
                        f"{API}/conversations/{t.home_conversation_id}/assignment",
                        {"team_id": t.team_id},
                        expect=FOREIGN_OWNER,
                        who=STAFF,
                        note="own conversation, other company's team",
                    ),
                ]
                if t.home_conversation_id
                else []
            ),
        ],
    ),
    ("GET", f"{API}/companies/{{slug}}/goodwill-policy"): OnObject(
        "company", lambda t: [Req("GET", _company(t, "/goodwill-policy"))]
    ),
    ("PUT", f"{API}/companies/{{slug}}/goodwill-policy"): OnObject(
        "company",
        lambda t: [
            Req("PUT", _company(t, "/goodwill-policy"), {"rules": [{"name": "Intrusion"}]}),
            Req(
                "PUT",
                _company(t, "/goodwill-policy"),
                {"rules": [], "company_id": t.company_id},
                expect=INVALID,
                note=_extra("company_id"),
            ),
        ],
    ),
    ("GET", f"{API}/companies/{{slug}}/complaints"): OnObject(
        "company",
        lambda t: [
            Req("GET", _company(t, "/complaints")),
            Req("GET", _company(t, "/complaints"), params={"state": "granted", "limit": 5}),
        ],
    ),
    ("POST", f"{API}/conversations/{{conversation_id}}/complaint"): OnObject(
        "conversation",
        lambda t: [
            Req(
                "POST",
                _conv(t, "/complaint"),
                {"product": "Intrusion", "requested_remedy": "refund", "amount_cents": 1},
            )
        ],
    ),
    ("GET", f"{API}/conversations/{{conversation_id}}/complaint"): OnObject(
        "conversation", lambda t: [Req("GET", _conv(t, "/complaint"))]
    ),
    ("PUT", f"{API}/conversations/{{conversation_id}}/complaint"): OnObject(
        "conversation",
        lambda t: [
            Req(
                "PUT",
                _conv(t, "/complaint"),
                {"product": "Intrusion", "requested_remedy": "refund", "amount_cents": 1},
            )
        ],
    ),
    ("POST", f"{API}/conversations/{{conversation_id}}/complaint/steps"): OnObject(
        "conversation",
        lambda t: [Req("POST", _conv(t, "/complaint/steps"), {"kind": "rejected"})],
    ),
    ("GET", f"{API}/conversations/{{conversation_id}}/rating"): OnObject(
        "conversation", lambda t: [Req("GET", _conv(t, "/rating"))]
    ),
    ("PUT", f"{API}/conversations/{{conversation_id}}/rating"): OnObject(
        "conversation",
        lambda t: [Req("PUT", _conv(t, "/rating"), {"score": 1, "comment": "Intrusion"})],
    ),
    ("POST", f"{API}/conversations/{{conversation_id}}/status"): OnObject(
        "conversation",
        lambda t: [
            Req("POST", _conv(t, "/status"), {"status": "resolved"}),
            Req(
                "POST",
                _conv(t, "/status"),
                {"status": "snoozed", "snoozed_until": _future()},
                who=STAFF,
            ),
        ],
    ),
    ("PUT", f"{API}/conversations/{{conversation_id}}/labels"): OnObject(
        "conversation",
        lambda t: [
            Req("PUT", _conv(t, "/labels"), {"label_ids": [t.label_id]}),
            Req("PUT", _conv(t, "/labels"), {"label_ids": []}, note="remove all"),
            # the caller's own conversation given the other company's label
            *(
                [
                    Req(
                        "PUT",
                        f"{API}/conversations/{t.home_conversation_id}/labels",
                        {"label_ids": [t.label_id]},
                        expect=FOREIGN_LABEL,
                        who=STAFF,
                        note="own conversation, other company's label",
                    )
                ]
                if t.home_conversation_id
                else []
            ),
        ],
    ),
    ("POST", f"{API}/conversations/{{conversation_id}}/read"): OnObject(
        "conversation",
        lambda t: [
            Req("POST", _conv(t, "/read"), {"seq": 3}),
            Req(
                "POST",
                _conv(t, "/read"),
                {"seq": 3, "reader": "customer"},
                expect=INVALID,
                note=_extra("reader"),
            ),
        ],
    ),
    ("WS", f"{API}/ws"): SocketRoute(
        lambda t: [
            (
                {
                    "type": "send",
                    "conversation_id": t.conversation_id,
                    "body": "intrusion",
                    "client_id": "ws-x",
                },
                REFUSED,
                None,
            ),
            (
                {
                    "type": "send",
                    "conversation_id": t.conversation_id,
                    "body": "intrusion",
                    "note": True,
                },
                REFUSED,
                STAFF,
            ),
            (
                {
                    "type": "send",
                    "conversation_id": t.conversation_id,
                    "body": "@x",
                    "note": True,
                    "mentions": [t.agent_id],
                },
                REFUSED,
                STAFF,
            ),
            ({"type": "read", "conversation_id": t.conversation_id, "seq": 3}, REFUSED, None),
            ({"type": "typing", "conversation_id": t.conversation_id}, REFUSED, None),
            (
                {"type": "typing", "conversation_id": t.conversation_id, "private": True},
                REFUSED,
                STAFF,
            ),
            (
                {
                    "type": "send",
                    "conversation_id": t.conversation_id,
                    "body": "intrusion",
                    "company_id": t.company_id,
                },
                INVALID,
                None,
            ),
            (
                {
                    "type": "read",
                    "conversation_id": t.conversation_id,
                    "seq": 3,
                    "customer_id": t.customer_id,
                },
                INVALID,
                None,
            ),
        ]
    ),
    # -- operations, docs and mail-link pages ----------------------------------------------
    ("GET", "/healthz"): Public("liveness probe, constant answer"),
    ("GET", "/readyz"): Public("readiness probe: dependency names and up/down only"),
    ("GET", "/metrics"): Public(
        "Prometheus text: counters by route template, no ids or tenant data (restrict at the proxy)"
    ),
    ("GET", f"{API}/openapi.json"): Public("the API description"),
    ("HEAD", f"{API}/openapi.json"): Public("the API description"),
    ("GET", f"{API}/docs"): Public("Swagger UI page"),
    ("MOUNT", f"{API}/docs-assets"): Public("Swagger UI's static files"),
    ("GET", "/unsubscribe/{token}"): Public(
        "the page of a notification mail's one-click unsubscribe link; the signed token is "
        "the key, and the page only shows a button"
    ),
    ("POST", "/unsubscribe/{token}"): Public(
        "RFC 8058 one-click unsubscribe: no login by design; the HMAC-signed token is the "
        "credential and can only turn email off"
    ),
    ("GET", "/verify"): Public("HTML form for the mailed verification link; token is the key"),
    ("POST", "/verify"): Public("submits that form; the token is the credential"),
    ("GET", "/app/invite"): Public("HTML form for the mailed invitation link"),
    # -- the messenger's shell (channels/messenger): the same bytes for everyone ------------
    ("GET", "/"): Public(
        "the messenger app shell: HTML without personal data, the API does the rest"
    ),
    ("GET", "/widget/{slug}"): Public(
        "the widget shell for a company: its public card's name only"
    ),
    ("GET", "/widget.js"): Public("the widget loader script, the same for every site"),
    ("GET", "/manifest.webmanifest"): Public("the installable app's manifest, constant"),
    ("GET", "/sw.js"): Public("the service worker, constant per release"),
    ("GET", "/icons/{name}"): Public("the app icons, constant"),
    ("GET", "/static/{version}/{path:path}"): Public(
        "the messenger's ES modules and styles, looked up in a fixed table (no file system path)"
    ),
    ("POST", "/app/invite"): Public("submits that form; the invitation token is the credential"),
    # -- the agent inbox's shell (web/inbox): the same bytes for everyone -------------------
    ("GET", "/app"): Public(
        "the agent inbox shell: HTML without personal data; sign-in and data go through the API"
    ),
    ("GET", "/app/static/{version}/{path:path}"): Public(
        "the inbox's ES modules and styles, looked up in a fixed table (no file system path)"
    ),
}


# -- the meta-test -----------------------------------------------------------------------------


def _app_routes(app: FastAPI) -> list[tuple[BaseRoute, str, set[str] | None]]:
    """(route, path, methods) for every route, including those of included routers."""
    try:  # recent FastAPI keeps included routers as lazy groups in app.routes; walk them
        from fastapi.routing import iter_route_contexts
    except ImportError:  # pragma: no cover - older FastAPI lists routes flat
        return [(r, getattr(r, "path", ""), getattr(r, "methods", None)) for r in app.routes]
    return [
        (rc.original_route, rc.path or "", rc.methods) for rc in iter_route_contexts(app.routes)
    ]


def route_keys(app: FastAPI) -> set[tuple[str, str]]:
    keys: set[tuple[str, str]] = set()
    for route, path, methods in _app_routes(app):
        if isinstance(route, Mount):
            keys.add(("MOUNT", path))
        elif isinstance(route, WebSocketRoute):  # FastAPI's APIWebSocketRoute included
            keys.add(("WS", path))
        else:
            assert methods, f"route {path} ({type(route).__name__}) has no methods"
            keys |= {(m, path) for m in methods}
    return keys


def _unlisted(app: FastAPI) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(routes of the app missing from the matrix, matrix rows the app does not have)."""
    keys = route_keys(app)
    return sorted(keys - MATRIX.keys()), sorted(MATRIX.keys() - keys)


def _app(tmp: str) -> FastAPI:
    return create_app(
        Settings(database_url=f"sqlite+aiosqlite:///{tmp}/routes.db", data_dir=Path(tmp))
    )


def test_every_route_is_in_the_matrix() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        missing, stale = _unlisted(_app(tmp))
    assert not missing, (
        "routes missing from the tenancy matrix in tests/test_tenancy.py (add a row that calls "
        "them with the other party's ids, or mark them Public with a reason): "
        + ", ".join(f"{m} {p}" for m, p in missing)
    )
    assert not stale, "matrix rows for routes the app no longer has: " + ", ".join(
        f"{m} {p}" for m, p in stale
    )
    assert all(e.reason.strip() for e in MATRIX.values() if isinstance(e, Public))


def test_the_meta_test_sees_a_new_route() -> None:
    """A route added to any router, REST (an upload too) or WebSocket, shows up as missing,
    whatever else the matrix may lack at the time."""
    from fastapi import APIRouter, UploadFile, WebSocket

    extra = APIRouter(prefix="/api/v1/new")

    @extra.get("/{thing_id}")
    async def new_read(thing_id: int) -> None: ...

    @extra.post("/{thing_id}/files")
    async def new_upload(thing_id: int, file: UploadFile) -> None: ...

    @extra.websocket("/ws")
    async def new_socket(websocket: WebSocket) -> None: ...

    with tempfile.TemporaryDirectory() as tmp:
        before, _ = _unlisted(_app(tmp))
        app = _app(tmp)
        app.include_router(extra)
        missing, _ = _unlisted(app)
    assert sorted(set(missing) - set(before)) == [
        ("GET", "/api/v1/new/{thing_id}"),
        ("POST", "/api/v1/new/{thing_id}/files"),
        ("WS", "/api/v1/new/ws"),
    ]
    assert set(before) <= set(missing)


# -- building the world with real actions ------------------------------------------------------


async def _login(server: Server, kind: str, email: str) -> Client:
    c = server.client(kind)
    r = await c.post(f"{API}/auth/login", {"kind": kind, "email": email, "password": PASSWORD})
    assert r.status_code == 200, r.text
    return c


async def _token_id(admin: Client, slug: str, name: str) -> int:
    r = await admin.get(f"{API}/companies/{slug}/tokens")
    assert r.status_code == 200, r.text
    return int(next(t["id"] for t in r.json() if t["name"] == name))


async def _ok(r: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert r.status_code == status, r.text
    return dict(r.json()) if r.content else {}


async def build_world(server: Server) -> World:
    companies = {"a": await server.company("acme", "Acme AG"), "b": await server.company("bolt")}
    emails = {k: f"kunde-{k}-{uuid.uuid4().hex[:6]}@example.org" for k in companies}
    customers = {k: await server.customer(emails[k], name=f"Kim {k.upper()}") for k in companies}
    # no notification mails: the worker would write them (notifications, jobs) mid-sweep
    for c in customers.values():
        for company in companies.values():
            await _ok(
                await c.http.put(
                    f"{API}/me/privacy/{company.slug}/contact",
                    json={"channels": {"email": False}, "screen": "setup", "text_version": "t"},
                )
            )
    parties: dict[str, Party] = {}
    for k, company in companies.items():
        agent = await server.agent(company, name=f"Anna {k.upper()}")
        admin_email = f"otto-{k}-{uuid.uuid4().hex[:6]}@example.com"
        admin = await server.agent(company, admin_email, role=Role.ADMIN, name=f"Otto {k.upper()}")
        team = await operator.ensure_team(server.runtime.ctx, company, f"Support {k.upper()}")
        observer = await server.token_client(company, name="observer")
        await server.token_client(company, name="spare")
        parties[k] = Party(
            key=k,
            company=company,
            agent=agent,
            admin=admin,
            team_id=team.id,
            observer=observer,
            spare_token_id=await _token_id(admin, company.slug, "spare"),
            customer=customers[k],
            customer_observer=await _login(server, "customer", emails[k]),
            admin_observer=await _login(server, "agent", admin_email),
        )
    token_a = await server.token_client(companies["a"], name="crm-a")
    revoked = await server.token_client(companies["a"], name="revoked-a")
    revoked_id = await _token_id(parties["a"].admin, "acme", "revoked-a")
    await _ok(await parties["a"].admin.delete(f"{API}/companies/acme/tokens/{revoked_id}"), 204)

    # conversations with history: replies, a private note, an owner, read markers, files
    convs: dict[str, int] = {}
    attachments: dict[int, tuple[str, bool]] = {}
    for k, p in parties.items():
        started = await p.customer.start_conversation(p.company.slug, f"Frage an {k.upper()}")
        cid = convs[k] = started["conversation"]["id"]
        await _ok(await p.agent.send(cid, "Wir kümmern uns."), 201)
        await _ok(await p.agent.send(cid, "intern: Kunde ist VIP", note=True), 201)
        await _ok(await p.agent.post(_conv_path(cid, "/assignment"), {"agent_id": p.agent.id}))
        await _ok(await p.customer.post(_conv_path(cid, "/read"), {"seq": 1}))
        await _ok(await p.agent.post(_conv_path(cid, "/read"), {"seq": 1}))
        # a photo from the customer, and one in a private note, which the customer never sees
        for sender, note in ((p.customer, False), (p.agent, True)):
            r = await sender.http.post(
                _conv_path(cid, "/attachments"),
                files=_photo(f"beleg-{k}.jpg"),
                data={"note": "true"} if note else {},
            )
            sent = await _ok(r, 201)
            attachments[sent["attachments"][0]["id"]] = (k, note)
        # a label on the conversation, a company-wide and a personal canned response
        company_path = f"{API}/companies/{p.company.slug}"
        label = {"name": f"VIP {k}", "color": "#d93f0b"}
        p.label_id = (await _ok(await p.admin.post(f"{company_path}/labels", label), 201))["id"]
        labelled = await p.agent.http.put(
            _conv_path(cid, "/labels"), json={"label_ids": [p.label_id]}
        )
        await _ok(labelled)
        canned = f"{company_path}/canned-responses"
        shared = await _ok(await p.admin.post(canned, {"shortcut": "gruss", "body": "Grüße"}), 201)
        p.canned_id = shared["id"]
        # disabled, so nothing is ever sent to this (public, literal) address
        hook = {"url": "https://93.184.216.34/hook", "event_types": ["message.created"]}
        hook["enabled"] = False
        p.webhook_id = (await _ok(await p.admin.post(f"{company_path}/webhooks", hook), 201))["id"]
        # where the company receives mail (docs/email.md)
        inbound = {"addresses": [f"support@{p.company.slug}.example"]}
        await _ok(await p.admin.http.put(f"{company_path}/mail-addresses", json=inbound))
        mine = {"shortcut": "ich", "body": f"Anna {k}", "personal": True}
        await _ok(await p.agent.post(canned, mine), 201)
    # a callback booked in each company's conversation (open around the clock, no lead time)
    callbacks: dict[str, int] = {}
    for k, p in parties.items():
        company_path = f"{API}/companies/{p.company.slug}"
        always = {
            d: [["00:00", "24:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
        }
        await _ok(await p.admin.http.patch(company_path, json={"business_hours": always}))
        offer = {"slot_minutes": 30, "days_ahead": 2, "lead_minutes": 0, "all_agents": True}
        await _ok(await p.admin.http.put(f"{company_path}/callback-settings", json=offer))
        cid = convs[k]
        slots = await _ok(await p.customer.get(_conv_path(cid, "/callbacks/slots")))
        start = slots["items"][-1]["start"]  # the last: no reminder while the sweep runs
        booking = {"start": start, "phone": "+49 30 1234567", "note": "Rückruf"}
        booked = await _ok(await p.customer.post(_conv_path(cid, "/callbacks"), booking), 201)
        callbacks[k] = booked["id"]
        # the customer's push device (the party's customer is customer_<k>)
        subscription = Device(_push_endpoint(f"customer_{k}")).subscription()
        pushed = await p.customer.post(f"{API}/me/push-subscriptions", subscription)
        p.push_subscription_id = (await _ok(pushed, 201))["id"]
    # a complaint case whose proposal waits for a lead, in each company's conversation:
    # complaint.changed (company and customer), complaint.approval_requested (company only)
    for k, p in parties.items():
        facts = {
            "product": f"Toaster {k}",
            "reference": "4711",
            "category": "Küche",
            "requested_remedy": "voucher",
            "amount_cents": 500,
        }
        await _ok(await p.agent.post(_conv_path(convs[k], "/complaint"), facts), 201)
        ask = {"kind": "approval_requested", "remedy": "voucher", "amount_cents": 500}
        ask["promise"] = "Ein Gutschein"
        await _ok(await p.agent.post(_conv_path(convs[k], "/complaint/steps"), ask))
    # a third customer wrote to both companies and deleted the account: customer.erased goes
    # to each company's members, and to no customer
    gone = await server.customer(name="Kim Weg")
    for p in parties.values():
        await gone.start_conversation(p.company.slug, "Bald bin ich weg")
    await _ok(await gone.post(f"{API}/me/erasure", {"password": PASSWORD}))
    # customer B also writes to company A: the same company's customers must stay apart
    started = await customers["b"].start_conversation("acme", "Zweite Frage, an A")
    convs["ba"] = started["conversation"]["id"]
    conv_company = {"a": "a", "b": "b", "ba": "a"}

    def company_convs(k: str) -> frozenset[int]:
        return frozenset(cid for ck, cid in convs.items() if conv_company[ck] == k)

    actors: dict[str, Actor] = {"anonymous": Actor("anonymous", server.client())}
    actors["revoked_token_a"] = Actor("revoked_token_a", revoked)
    for k, p in parties.items():
        own = frozenset({p.company.id})
        for role, c in ((f"agent_{k}", p.agent), (f"admin_{k}", p.admin)):
            actors[role] = Actor(role, c, c.id, own, company_convs(k), own, p.company.slug)
    a = parties["a"]
    me = await _ok(await token_a.get(f"{API}/auth/me"))
    actors["token_a"] = Actor(
        "token_a",
        token_a,
        me["id"],
        frozenset({a.company.id}),
        company_convs("a"),
        frozenset({a.company.id}),
        "acme",
    )
    actors["customer_a"] = Actor(
        "customer_a",
        customers["a"],
        customers["a"].id,
        frozenset(),
        frozenset({convs["a"]}),
        frozenset({a.company.id}),
    )
    actors["customer_b"] = Actor(
        "customer_b",
        customers["b"],
        customers["b"].id,
        frozenset(),
        frozenset({convs["b"], convs["ba"]}),
        frozenset({a.company.id, parties["b"].company.id}),
    )
    assert set(actors) == set(ROLES)
    emails_by_id = {customers[k].id: emails[k] for k in companies}
    return World(server, parties, convs, conv_company, actors, emails_by_id, attachments, callbacks)


def _conv_path(cid: int, rest: str = "") -> str:
    return f"{API}/conversations/{cid}{rest}"


# -- the legitimate owners' view, to prove nothing moved ---------------------------------------


async def snapshot(w: World) -> dict[str, Any]:
    """Everything an attack could change, read by the legitimate owners."""
    reads: dict[str, tuple[Client, str]] = {}
    for k, p in w.parties.items():
        slug = p.company.slug
        reads[f"{k}: conversation list"] = (p.observer, f"{API}/conversations?limit=200")
        # tokens cannot list tokens (no scope allows it): the company's admin reads them
        assert p.admin_observer is not None
        reads[f"{k}: tokens"] = (p.admin_observer, f"{API}/companies/{slug}/tokens")
        reads[f"{k}: staff"] = (p.observer, f"{API}/companies/{slug}/staff")
        reads[f"{k}: card"] = (p.observer, f"{API}/companies/{slug}")
        reads[f"{k}: labels"] = (p.observer, f"{API}/companies/{slug}/labels")
        reads[f"{k}: canned responses"] = (p.observer, f"{API}/companies/{slug}/canned-responses")
        reads[f"customer {k}: conversation list"] = (
            p.customer_observer,
            f"{API}/conversations?limit=200",
        )
        reads[f"customer {k}: push devices"] = (p.customer_observer, f"{API}/me/push-subscriptions")
    for ck, cid in w.conversations.items():
        staff = w.parties[w.conversation_company[ck]].observer
        cust = w.parties["a" if ck == "a" else "b"].customer_observer
        reads[f"conversation {ck}"] = (staff, _conv_path(cid))
        reads[f"conversation {ck} messages"] = (staff, _conv_path(cid, "/messages?limit=200"))
        reads[f"conversation {ck} as its customer"] = (cust, _conv_path(cid))
    responses = await asyncio.gather(*(c.get(path) for c, path in reads.values()))
    snap: dict[str, Any] = {}
    for name, r in zip(reads, responses, strict=True):
        body: Any = r.json() if r.status_code == 200 else f"HTTP {r.status_code}"
        if name.endswith("tokens") and isinstance(body, list):
            body = [{k: v for k, v in t.items() if k != "last_used_at"} for t in body]
        snap[name] = body
    return snap


def diff(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    return [k for k in before if before[k] != after.get(k)]


def _compare(before: dict[str, Any], after: dict[str, Any], when: str, out: list[str]) -> None:
    out += [f"{when}: the owner's view of {k} changed" for k in diff(before, after)]


VOLATILE = {"api_tokens": {"last_used_at"}}  # a token's own use, not a change by the attacker


async def db_state(server: Server) -> dict[str, Any]:
    """Every stored row, straight from the database, and every stored file: the cheap check
    after each attempt.

    The owners' API view (``snapshot``) is compared at the end of each phase; this catches
    what no API shows (invitations, sessions, enqueued jobs) after every single attempt.
    """
    state: dict[str, Any] = {}
    async with server.runtime.db.read_engine.connect() as conn:
        for table in metadata.sorted_tables:
            if table.name == "jobs":  # the worker updates and removes jobs; new ones count
                state["jobs"] = (await conn.execute(select(func.max(table.c.id)))).scalar()
                continue
            cols = [c for c in table.c if c.name not in VOLATILE.get(table.name, set())]
            order = list(table.primary_key.columns) or cols
            rows = await conn.execute(select(*cols).order_by(*order))
            state[table.name] = [tuple(r) for r in rows]
    files = server.settings.data_dir / "files"
    state["files on disk"] = sorted(str(p.relative_to(files)) for p in files.rglob("*"))
    return state


# -- judging one answer ------------------------------------------------------------------------


def _code(r: httpx.Response) -> str | None:
    try:
        body = r.json()
    except ValueError:
        return None
    return body.get("code") if isinstance(body, dict) else None


def _expect_status(r: httpx.Response, status: int, code: str) -> str | None:
    if r.status_code == status and _code(r) == code:
        return None
    return f"expected {status} {code}, got {r.status_code} {r.text[:200]}"


def _judge(actor: Actor, req: Req, r: httpx.Response, ghost: httpx.Response | None) -> str | None:
    if actor.role in UNAUTHENTICATED:
        return _expect_status(r, 401, "unauthenticated")
    if req.expect == INVALID:
        problem = _expect_status(r, 422, "validation_error")
        if problem is None and not any(
            e.get("type") == "extra_forbidden" for e in r.json().get("errors", [])
        ):
            problem = f"422 but not for the extra field: {r.text[:200]}"
        return problem
    if req.expect == FORBIDDEN:
        return _expect_status(r, 403, "forbidden")
    if req.expect == FOREIGN_OWNER:
        problem = _expect_status(r, 422, "invalid_owner")
    elif req.expect == FOREIGN_LABEL:
        problem = _expect_status(r, 422, "invalid_label")
    elif req.expect == FOREIGN_MENTION:
        problem = _expect_status(r, 422, "invalid_mention")
    else:
        problem = _expect_status(r, 404, "not_found")
    if problem is None and ghost is not None:
        seen = (r.status_code, r.json().get("code"), r.json().get("detail"))
        detail = ghost.json().get("detail") if ghost.content else None
        missing = (ghost.status_code, _code(ghost), detail)
        if seen != missing:
            problem = f"answer {seen} differs from a missing object's {missing}: existence leaks"
    return problem


def _describe(actor: Actor, req: Req, target: Target | None) -> str:
    params = f"?{req.params}" if req.params else ""
    body = f" {req.json}" if req.json is not None else ""
    if req.files is not None:
        body += f" files={sorted(req.files)} form={req.data}"
    on = f" → {target.label}" if target else ""
    note = f" ({req.note})" if req.note else ""
    return f"{actor.role}: {req.method} {req.path}{params}{body}{on}{note}"


def _send(c: Client, req: Req) -> Any:
    return c.http.request(
        req.method, req.path, json=req.json, params=req.params, files=req.files, data=req.data
    )


def _template_matches(template: str, path: str) -> bool:
    pattern = re.sub(r"\\\{[a-z_]+\\\}", r"[^/]+", re.escape(template))
    return re.fullmatch(pattern, path) is not None


# -- sockets -----------------------------------------------------------------------------------

CONTROL = frozenset({"hello", "ack", "error", "ping", "pong", "resync_required"})


def foreign_frame(actor: Actor, frame: dict[str, Any]) -> bool:
    """True when the frame concerns what the actor may not read: another company's or
    customer's conversation, or (for a customer) company-internal events of their own."""
    if frame.get("type") in CONTROL:
        return False
    data = frame.get("data") or {}
    conv = data.get("conversation_id")
    if conv is None and str(frame.get("type", "")).startswith("conversation."):
        conv = data.get("id")
    if conv is not None and conv not in actor.visible:
        return True
    company = data.get("company_id")
    if company is not None and company not in actor.companies_seen:
        return True
    customer = data.get("customer_id")
    if actor.role not in CUSTOMERS:
        return False
    if customer is not None and customer != actor.id:
        return True
    # the company's inside of the customer's own conversation: notes, who works on it, labels,
    # the owner's callback reminders and escalations, approval requests for goodwill
    internal = (
        "conversation.assigned",
        "conversation.labels_changed",
        "callback.reminder",
        "callback.escalated",
        "complaint.approval_requested",
        "customer.erased",
    )
    return frame.get("type") in internal or data.get("kind") == "note"


async def _drain(sock: Socket, quiet: float = 0.25) -> list[dict[str, Any]]:
    frames = [*sock.pending, *await sock.frames_until_quiet(quiet)]
    sock.pending.clear()
    return frames


async def _connect_refused(server: Server, client: Client) -> str | None:
    """An unauthenticated socket is closed with 4401 before any frame (docs/api.md); a
    handshake refused with HTTP 401 would do as well."""
    try:
        conn = await websockets.connect(server.ws_url, additional_headers=client.ws_headers())
    except websockets.exceptions.InvalidStatus as exc:
        status = exc.response.status_code
        return None if status == 401 else f"handshake refused with HTTP {status}, expected 401"
    frames = []
    with contextlib.suppress(websockets.exceptions.ConnectionClosed, TimeoutError):
        while True:
            frames.append(await asyncio.wait_for(conn.recv(), 2.0))
    await conn.close()
    if frames or conn.close_code != 4401:
        return f"expected close 4401 without frames, got {frames} and close {conn.close_code}"
    return None


# -- the sweep ---------------------------------------------------------------------------------


async def test_tenant_isolation_matrix(server: Server) -> None:
    w = await build_world(server)
    violations: list[str] = []
    sockets: list[Socket] = []
    try:
        # every authenticated role listens from the start of the stream: the replay must
        # carry nothing foreign, and neither may anything pushed live during the sweep
        for actor in w.actors.values():
            if actor.role not in UNAUTHENTICATED:
                actor.socket = await actor.client.ws(since=0)
                sockets.append(actor.socket)
        observers = {
            f"{who} {k}": await c.ws()
            for k, p in w.parties.items()
            for who, c in (("company", p.observer), ("customer", p.customer_observer))
        }
        sockets += observers.values()
        await _check_replay(w, violations)
        head = await queries.stream_head(server.runtime.ctx)

        baseline = await snapshot(w)
        mails = len(server.mailer.sent)
        attempts = await _rest_sweep(w, violations, last=False)
        _compare(baseline, await snapshot(w), "after the REST sweep", violations)
        attempts += await _socket_sweep(w, violations)
        _compare(baseline, await snapshot(w), "after the WebSocket sweep", violations)
        await _quiet_during_sweep(w, observers, head, violations)
        await _live_traffic_stays_home(w, violations)
        baseline = await snapshot(w)
        attempts += await _rest_sweep(w, violations, last=True)
        _compare(baseline, await snapshot(w), "after the sign-outs", violations)
        await asyncio.sleep(0.2)  # the worker sends mails in the background
        if len(server.mailer.sent) != mails:
            violations.append(
                "mails sent during the sweep: "
                + ", ".join(m.to for m in server.mailer.sent[mails:])
            )
        unexercised = sorted(
            f"{m} {p}"
            for (m, p), e in MATRIX.items()
            if not isinstance(e, Public) and (m, p) not in w.exercised
        )
        assert not unexercised, f"matrix rows the sweep never called: {unexercised}"
        assert attempts > 300, attempts
    finally:
        open_sockets = [*sockets, *(a.socket for a in w.actors.values() if a.socket)]
        for sock in {id(s): s for s in open_sockets}.values():
            await sock.close()
    assert not violations, f"{len(violations)} tenancy violations:\n" + "\n".join(violations)


async def _quiet_during_sweep(
    w: World, observers: dict[str, Socket], head: int, violations: list[str]
) -> None:
    """Nothing was written and nothing typed: no socket may carry a new event (a position
    past ``head``, or an ephemeral one), and none a late frame its owner may not read."""
    listeners: list[tuple[str, Socket, Actor | None]] = [
        (f"{name}'s observing socket", sock, None) for name, sock in observers.items()
    ]
    listeners += [(f"{a.role}'s socket", a.socket, a) for a in w.actors.values() if a.socket]
    drained = await asyncio.gather(*(_drain(sock) for _, sock, _ in listeners))
    for (name, _, actor), frames in zip(listeners, drained, strict=True):
        for f in frames:
            new = f.get("type") not in CONTROL and (f.get("pos") or head + 1) > head
            if new or (actor is not None and foreign_frame(actor, f)):
                violations.append(f"{name} got {f} during the sweep")


async def _collect(sock: Socket, want: frozenset[int]) -> tuple[list[dict[str, Any]], set[int]]:
    """Frames until messages of every conversation in ``want`` arrived, then until quiet."""
    frames, got = [*sock.pending], set()
    sock.pending.clear()
    with contextlib.suppress(TimeoutError):
        while True:
            got |= {
                f["data"]["conversation_id"] for f in frames if f.get("type") == "message.created"
            }
            if want <= got:
                break
            frames.append(await sock.next_frame(5.0))
    frames += await _drain(sock, 0.25)
    got |= {f["data"]["conversation_id"] for f in frames if f.get("type") == "message.created"}
    return frames, got


async def _check_replay(w: World, violations: list[str]) -> None:
    listening = [a for a in w.actors.values() if a.socket is not None]
    results = await asyncio.gather(*(_collect(a.socket, a.visible) for a in listening if a.socket))
    for actor, (frames, replayed) in zip(listening, results, strict=True):
        violations += [
            f"{actor.role}'s catch-up replay carried {f}" for f in frames if foreign_frame(actor, f)
        ]
        # the sweep covers the newer event types: each reached the ones it is for
        types = {f.get("type") for f in frames}
        wanted = {"callback.booked", "complaint.changed"}
        if actor.role not in CUSTOMERS:
            wanted |= {"complaint.approval_requested", "customer.erased"}
        if not wanted <= types:
            violations.append(f"{actor.role}'s replay lacked {sorted(wanted - types)}")
        if replayed != actor.visible:
            violations.append(
                f"{actor.role}'s replay covered conversations {sorted(replayed)}, "
                f"expected own {sorted(actor.visible)}"
            )


async def _rest_sweep(w: World, violations: list[str], *, last: bool) -> int:
    attempts = 0
    stored = await db_state(w.server)
    # operations that declare no token scope refuse every API token before anything else
    spec = (await w.server.client().get(f"{API}/openapi.json")).json()
    closed_to_tokens = {
        (method.upper(), path)
        for path, item in spec["paths"].items()
        for method, op in item.items()
        if "x-token-scope" not in op
    }
    for (method, template), entry in MATRIX.items():
        if isinstance(entry, Public | SocketRoute):
            continue
        if isinstance(entry, Scoped) and entry.last != last:
            continue
        if isinstance(entry, OnObject) and last:
            continue
        for role in ROLES:
            actor = w.actors[role]
            plan: list[tuple[Req, Target, Req | None]] = []
            if isinstance(entry, Scoped):
                foreign = w.targets(actor, "company")[0]
                plan = [(req, foreign, None) for req in entry.build(foreign)]
            else:
                for t in w.targets(actor, entry.on):
                    reqs, ghosts = entry.build(t), entry.build(t.ghost())
                    plan += [(req, t, ghost) for req, ghost in zip(reqs, ghosts, strict=True)]
            for req, target, ghost_req in plan:
                if req.who is not None and role not in req.who and role not in UNAUTHENTICATED:
                    continue
                assert req.method == method and _template_matches(template, req.path), (
                    f"matrix row {method} {template} builds {req.method} {req.path}"
                )
                attempts += 1
                w.exercised.add((method, template))
                r = await _send(actor.client, req)
                if role == "token_a" and (method, template) in closed_to_tokens:
                    problem = _expect_status(r, 403, "forbidden")
                elif isinstance(entry, Scoped):
                    problem = entry.check(actor, req, r)
                else:
                    ghost = None
                    if (
                        ghost_req
                        and req.expect in (REFUSED, FOREIGN_OWNER, FOREIGN_LABEL, FOREIGN_MENTION)
                        and (role not in UNAUTHENTICATED)
                    ):
                        ghost = await _send(actor.client, ghost_req)
                    problem = _judge(actor, req, r, ghost)
                if problem:
                    violations.append(f"{_describe(actor, req, target)}: {problem}")
                if method != "GET" and not (isinstance(entry, Scoped) and entry.last):
                    now = await db_state(w.server)
                    if changed := diff(stored, now):
                        violations.append(
                            f"{_describe(actor, req, target)}: stored rows moved in "
                            + ", ".join(changed)
                        )
                        stored = now
    return attempts


async def _socket_sweep(w: World, violations: list[str]) -> int:
    entry = MATRIX[("WS", f"{API}/ws")]
    assert isinstance(entry, SocketRoute)
    attempts = 0
    stored = await db_state(w.server)
    w.exercised.add(("WS", f"{API}/ws"))
    for role in ROLES:
        actor = w.actors[role]
        if role in UNAUTHENTICATED:
            attempts += 1
            problem = await _connect_refused(w.server, actor.client)
            if problem:
                violations.append(f"{role}: WS {API}/ws: {problem}")
            continue
        sock = actor.socket
        assert sock is not None
        for target in w.targets(actor, "conversation"):
            frames = entry.frames(target)
            ghosts = entry.frames(target.ghost())
            for i, (frame, expect, who) in enumerate(frames):
                if who is not None and role not in who:
                    continue
                attempts += 1
                what = f"{role}: WS {frame} → {target.label}"
                reply = await _ws_call(sock, frame, f"{role}-{i}-{target.conversation_id}")
                if reply["type"].startswith("socket failed"):
                    violations.append(f"{what}: {reply['type']}")
                    sock = actor.socket = await actor.client.ws()
                    continue
                if expect == INVALID:
                    if reply.get("type") != "error" or reply.get("code") != "validation_error":
                        violations.append(f"{what}: expected error validation_error, got {reply}")
                else:
                    ghost = await _ws_call(sock, ghosts[i][0], f"{role}-{i}-ghost")
                    if reply.get("type") != "error" or reply.get("code") != "not_found":
                        violations.append(f"{what}: expected error not_found, got {reply}")
                    elif (reply.get("code"), reply.get("detail")) != (
                        ghost.get("code"),
                        ghost.get("detail"),
                    ):
                        violations.append(f"{what}: {reply} differs from a missing one's {ghost}")
                now = await db_state(w.server)
                if changed := diff(stored, now):
                    violations.append(f"{what}: stored rows moved in {', '.join(changed)}")
                    stored = now
    return attempts


async def _ws_call(sock: Socket, frame: dict[str, Any], ref: str) -> dict[str, Any]:
    """Send a frame and wait for its reply; typing has none on success, so ping after it."""
    try:
        await sock.send_json({**frame, "ref": ref})
        await sock.send_json({"type": "ping", "ref": f"{ref}-ping"})
        first = await sock.wait_for(lambda f: f.get("ref") in (ref, f"{ref}-ping"))
        if first.get("ref") == f"{ref}-ping":
            return {"type": "no reply"}
        await sock.wait_for(lambda f: f.get("ref") == f"{ref}-ping")
    except (websockets.exceptions.ConnectionClosed, TimeoutError) as exc:
        return {"type": f"socket failed: {type(exc).__name__}"}
    return first


async def _live_traffic_stays_home(w: World, violations: list[str]) -> None:
    """Real traffic in both companies now: each socket gets its own, and nothing foreign."""
    a, b = w.parties["a"], w.parties["b"]
    c = w.conversations
    await _ok(await a.customer_observer.send(c["a"], "Noch da?"), 201)
    await _ok(await b.customer_observer.send(c["b"], "Hallo B"), 201)
    await _ok(await b.customer_observer.send(c["ba"], "Hallo wieder, A"), 201)
    await _ok(await a.observer.send(c["ba"], "intern: Rückruf", note=True), 201)
    await _ok(await a.observer.post(_conv_path(c["a"], "/status"), {"status": "pending"}))
    await _ok(await b.observer.post(_conv_path(c["b"], "/assignment"), {"team_id": b.team_id}))
    labelled = await a.observer.http.put(
        _conv_path(c["ba"], "/labels"), json={"label_ids": [a.label_id]}
    )
    await _ok(labelled)
    typing = await a.customer_observer.ws()
    try:
        await typing.send_json({"type": "typing", "conversation_id": c["a"]})
        await typing.send_json({"type": "typing", "conversation_id": c["ba"]})  # not theirs
        await typing.frames_until_quiet(0.1)
    finally:
        await typing.close()
    listening = [a for a in w.actors.values() if a.socket is not None]
    results = await asyncio.gather(*(_collect(a.socket, a.visible) for a in listening if a.socket))
    for actor, (frames, got) in zip(listening, results, strict=True):
        if got != actor.visible:
            violations.append(
                f"{actor.role}'s socket got live messages for {sorted(got)}, "
                f"expected own {sorted(actor.visible)}"
            )
        violations += [f"{actor.role}'s socket got {f}" for f in frames if foreign_frame(actor, f)]


# -- mass assignment: body fields and query parameters never move data -------------------------


async def test_body_fields_never_move_data(server: Server) -> None:
    w = await build_world(server)
    a, b = w.parties["a"], w.parties["b"]
    conv_a, conv_b = w.conversations["a"], w.conversations["b"]
    cust_a, cust_b = w.actors["customer_a"], w.actors["customer_b"]
    anon = w.actors["anonymous"].client
    new_email = f"neu-{uuid.uuid4().hex[:6]}@example.org"
    invitee = f"invitee-{uuid.uuid4().hex[:6]}@example.com"
    # each: (caller, path, body, the extra fields) — own objects, so only the extra field is wrong
    cases: Sequence[tuple[Client, str, dict[str, Any], str]] = [
        (
            anon,
            f"{API}/auth/signup",
            {"email": new_email, "password": PASSWORD, "display_name": "Neu", "role": "admin"},
            "role",
        ),
        (
            anon,
            f"{API}/auth/signup",
            {
                "email": new_email,
                "password": PASSWORD,
                "display_name": "Neu",
                "company_id": a.company.id,
                "email_verified": True,
            },
            "company_id, email_verified",
        ),
        (
            anon,
            f"{API}/auth/login",
            {
                "kind": "agent",
                "email": "x@example.com",
                "password": PASSWORD,
                "company_id": a.company.id,
            },
            "company_id",
        ),
        (
            anon,
            f"{API}/auth/accept-invitation",
            {"token": "x", "name": "X", "password": PASSWORD, "role": "admin"},
            "role",
        ),
        (anon, f"{API}/auth/verify", {"token": "x", "customer_id": cust_a.id}, "customer_id"),
        (
            anon,
            f"{API}/auth/visitor",
            {"display_name": "Gast", "customer_id": cust_a.id, "company_id": a.company.id},
            "customer_id, company_id",
        ),
        (
            cust_b.client,
            f"{API}/auth/claim",
            {
                "email": new_email,
                "password": PASSWORD,
                "customer_id": cust_a.id,
                "email_verified": True,
            },
            "customer_id, email_verified",
        ),
        (
            cust_b.client,
            f"{API}/conversations",
            {"company": "acme", "body": "Hallo", "customer_id": cust_a.id},
            "customer_id",
        ),
        (
            cust_b.client,
            f"{API}/conversations",
            {"company": "bolt", "body": "Hallo", "company_id": a.company.id},
            "company_id",
        ),
        (
            cust_b.client,
            f"{API}/conversations",
            {"company": "bolt", "body": "Hallo", "status": "resolved", "owner": None},
            "status, owner",
        ),
        (
            cust_a.client,
            _conv_path(conv_a, "/messages"),
            {"body": "Hallo", "conversation_id": conv_b},
            "conversation_id",
        ),
        (
            cust_a.client,
            _conv_path(conv_a, "/messages"),
            {"body": "Ich bin der Support", "kind": "agent"},
            "kind",
        ),
        (
            cust_a.client,
            _conv_path(conv_a, "/messages"),
            {"body": "Hallo", "author": {"type": "agent", "name": "Anna"}},
            "author",
        ),
        (
            a.agent,
            _conv_path(conv_a, "/messages"),
            {"body": "Hallo", "customer_id": cust_b.id, "company_id": b.company.id},
            "customer_id, company_id",
        ),
        (a.agent, _conv_path(conv_a, "/messages"), {"body": "x", "seq": 99}, "seq"),
        (
            a.agent,
            _conv_path(conv_a, "/assignment"),
            {"agent_id": a.admin.id, "company_id": b.company.id},
            "company_id",
        ),
        (
            a.agent,
            _conv_path(conv_a, "/status"),
            {"status": "resolved", "conversation_id": conv_b},
            "conversation_id",
        ),
        (cust_a.client, _conv_path(conv_a, "/read"), {"seq": 2, "reader": "agent:1"}, "reader"),
        (
            a.admin,
            f"{API}/companies/acme/invitations",
            {"email": invitee, "role": "agent", "company_id": b.company.id},
            "company_id",
        ),
        (
            a.admin,
            f"{API}/companies/acme/tokens",
            {"name": "crm", "scopes": ["reports:read"], "company_id": b.company.id},
            "company_id",
        ),
        (
            a.admin,
            f"{API}/companies/acme/tokens",
            {"name": "crm", "scopes": ["reports:read"], "role": "admin"},
            "role",
        ),
        (
            a.admin,
            f"{API}/companies/acme/labels",
            {"name": "neu", "color": "#000000", "company_id": b.company.id},
            "company_id",
        ),
        (
            a.agent,
            f"{API}/companies/acme/canned-responses",
            {"shortcut": "neu", "body": "x", "personal": True, "agent_id": a.admin.id},
            "agent_id",
        ),
        (
            a.admin,
            f"{API}/companies/acme/teams",
            {"name": "neu", "company_id": b.company.id},
            "company_id",
        ),
    ]
    before = await snapshot(w)
    mails = len(server.mailer.sent)
    violations: list[str] = []
    for caller, path, body, extra in cases:
        r = await caller.post(path, body)
        what = f"{caller.kind} POST {path} with {extra}"
        if r.status_code != 422 or _code(r) != "validation_error":
            violations.append(f"{what}: expected 422 validation_error, got {r.text[:200]}")
            continue
        refused = {e["loc"][-1] for e in r.json()["errors"] if e["type"] == "extra_forbidden"}
        wanted = {f.strip() for f in extra.split(",")}
        if refused != wanted:
            violations.append(f"{what}: refused {sorted(refused)}, expected {sorted(wanted)}")
    if changed := diff(before, await snapshot(w)):
        violations.append(f"state moved: {', '.join(changed)}")
    await asyncio.sleep(0.2)
    if len(server.mailer.sent) != mails:
        violations.append("mails sent: " + ", ".join(m.to for m in server.mailer.sent[mails:]))
    # the refused sign-up created nothing: the address is still free
    fresh = server.client("customer")
    r = await fresh.post(
        f"{API}/auth/signup", {"email": new_email, "password": PASSWORD, "display_name": "Neu"}
    )
    if r.status_code != 201:
        violations.append(f"the refused sign-up left an account behind: {r.status_code} {r.text}")

    # query parameters narrow within the caller's scope and never widen it
    for role in ("agent_a", "admin_b", "token_a", "customer_a", "customer_b"):
        actor = w.actors[role]
        for other in (a.company.id, b.company.id):
            r = await actor.client.get(f"{API}/conversations", params={"company_id": other})
            ids = {c["id"] for c in r.json()["items"]} if r.status_code == 200 else None
            if ids is None or not ids <= actor.visible:
                violations.append(f"{role}: GET conversations?company_id={other} → {r.text[:200]}")
            elif other not in actor.companies_seen and ids:
                violations.append(f"{role}: company_id={other} listed {sorted(ids)}")

    # socket frames: extra fields are refused the same way, and nothing is stored
    sock = await cust_a.client.ws()
    try:
        for i, frame in enumerate(
            [
                {
                    "type": "send",
                    "conversation_id": conv_a,
                    "body": "x",
                    "company_id": b.company.id,
                },
                {"type": "send", "conversation_id": conv_a, "body": "x", "kind": "agent"},
                {"type": "send", "conversation_id": conv_a, "body": "x", "author": {"name": "A"}},
                {"type": "read", "conversation_id": conv_a, "seq": 3, "reader": "agent:1"},
                {"type": "typing", "conversation_id": conv_a, "customer_id": cust_b.id},
            ]
        ):
            reply = await _ws_call(sock, frame, f"mass-{i}")
            if reply.get("code") != "validation_error":
                violations.append(f"customer_a WS {frame}: expected validation_error, got {reply}")
        late = [f for f in await _drain(sock) if f.get("type") not in CONTROL]
        violations += [f"customer_a's socket got {f} after refused frames" for f in late]
    finally:
        await sock.close()
    if changed := diff(before, await snapshot(w)):
        violations.append(f"state moved after socket frames: {', '.join(changed)}")
    assert not violations, "\n".join(violations)
