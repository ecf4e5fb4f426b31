"""No message text, password, token or personal data in the logs.

Real flows run through a real server with canary values — sign-up, verification, sign-in, a
failed sign-in, conversations, an agent's reply and note, an attachment, an invitation, an
API token, a visitor and their claim, search — while everything logged in the process is
captured: eyelevel's structlog events and every standard-library record (uvicorn's access and
error logs, httpx …), routed the way ``eyelevel serve`` routes them (``log_config=None``: into
the root logger), through the production configuration ``eyelevel.logs.configure``. Then no
canary and no secret may appear in it, in any encoding.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import logging
import uuid
from collections.abc import Iterator
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from urllib.parse import quote, quote_plus

import aiosmtplib
import pytest
import structlog
import websockets

from eyelevel import logs
from eyelevel.core.actions import operator
from eyelevel.core.entities import Role
from eyelevel.core.rules.hours import WEEKDAYS
from tests.harness import PASSWORD, Client, Server, free_socket, start_server

API = "/api/v1"
UVICORN = ("uvicorn", "uvicorn.error", "uvicorn.access", "uvicorn.asgi")


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """Everything logged while the test runs, as the server would write it to stderr."""
    out = io.StringIO()
    root = logging.getLogger()
    level = root.level
    logs.configure("debug", stream=out)
    try:
        yield out
    finally:
        logs.unconfigure()
        root.setLevel(level)


@contextlib.contextmanager
def uvicorn_into_root() -> Iterator[None]:
    """The harness lets uvicorn configure its own handlers; ``eyelevel serve`` does not
    (``log_config=None``), so its records reach the root logger. Do that here, at INFO, so the
    access log (which ``eyelevel serve`` leaves off) is captured too."""
    saved = {}
    for name in UVICORN:
        lg = logging.getLogger(name)
        saved[name] = (lg.level, lg.propagate, lg.handlers[:])
        for handler in lg.handlers[:]:
            lg.removeHandler(handler)
        lg.propagate = True
        lg.setLevel(logging.NOTSET)
    try:
        yield
    finally:
        for name, (level, propagate, handlers) in saved.items():
            lg = logging.getLogger(name)
            lg.setLevel(level)
            lg.propagate = propagate
            for handler in handlers:
                lg.addHandler(handler)


def encodings(value: str) -> set[str]:
    """How a value could show up in a log line: as is, JSON-escaped, URL-encoded."""
    return {
        value.lower(),
        json.dumps(value)[1:-1].lower(),
        quote(value).lower(),
        quote_plus(value).lower(),
    }


async def flows(server: Server, mark: str) -> list[str]:
    """Everything a person does that carries personal data or a secret; returns the secrets
    the server handed out (sessions, CSRF, API and visitor tokens, mail links)."""
    secrets: list[str] = []
    company = await server.company("acme", "Acme AG")
    admin = await server.agent(
        company, email=f"{mark}.admin@example.com", name=f"Admin {mark}", role=Role.ADMIN
    )

    # a customer signs up, opens the link from the mail, confirms, signs in; a failed sign-in
    email, password = f"{mark}.kim@example.org", f"pw-{mark}-geheim"
    customer = server.client("customer")
    r = await customer.post(
        f"{API}/auth/signup",
        {"email": email, "password": password, "display_name": f"Kim {mark}"},
    )
    assert r.status_code == 201, r.text
    verify = await server.mail_token(email, r"/verify\?token=(\S+)")
    secrets.append(verify)
    assert (await customer.get("/verify", params={"token": verify})).status_code == 200
    assert (await customer.post(f"{API}/auth/verify", {"token": verify})).status_code == 204
    wrong = await server.client().post(
        f"{API}/auth/login",
        {"kind": "customer", "email": email, "password": f"wrong-{mark}-passwort"},
    )
    assert wrong.status_code == 401, wrong.text
    unknown = await server.client().post(
        f"{API}/auth/login",
        {"kind": "agent", "email": f"{mark}.nobody@example.com", "password": f"x-{mark}-y"},
    )
    assert unknown.status_code == 401, unknown.text
    r = await customer.post(
        f"{API}/auth/login", {"kind": "customer", "email": email, "password": password}
    )
    assert r.status_code == 200, r.text
    secrets += [v for k, v in customer.http.cookies.items() if k.startswith("eyelevel")]

    # a conversation, the agent's reply and a private note, an attachment, a search
    sock = await customer.ws(since=0)
    started = await customer.start_conversation(
        "acme", f"Mein Paket {mark} ist nicht angekommen", subject=f"Paket {mark}"
    )
    conv = started["conversation"]["id"]
    assert (await customer.send(conv, f"Noch eine Nachricht {mark}")).status_code == 201
    assert (await admin.send(conv, f"Antwort {mark} vom Team")).status_code == 201
    assert (await admin.send(conv, f"Notiz {mark}", note=True)).status_code == 201
    r = await customer.http.post(
        f"{API}/conversations/{conv}/attachments",
        files={"file": (f"Rechnung-{mark}.pdf", pdf(mark), "application/pdf")},
        data={"body": f"Beleg {mark}"},
    )
    assert r.status_code == 201, r.text
    [attachment] = r.json()["attachments"]
    assert (await admin.get(f"{API}/attachments/{attachment['id']}")).status_code == 200
    r = await admin.get(f"{API}/companies/acme/search", params={"q": mark})
    assert r.status_code == 200, r.text
    await sock.frames_until_quiet(0.2)
    await sock.close()

    # an invitation by mail, accepted with a name and a password
    invited = f"{mark}.neu@example.com"
    r = await admin.post(f"{API}/companies/acme/invitations", {"email": invited})
    assert r.status_code == 201, r.text
    invitation = await server.mail_token(invited, r"/app/invite\?token=(\S+)")
    secrets.append(invitation)
    assert (await server.client().get("/app/invite", params={"token": invitation})).is_success
    newcomer = server.client("agent")
    r = await newcomer.post(
        f"{API}/auth/accept-invitation",
        {"token": invitation, "name": f"Neu {mark}", "password": f"neu-{mark}-passwort"},
    )
    assert r.status_code == 200, r.text

    # an API token: created by the admin, then used (and a wrong one refused)
    r = await admin.post(
        f"{API}/companies/acme/tokens",
        {"name": f"CRM {mark}", "scopes": ["conversations:read", "messages:write"]},
    )
    assert r.status_code == 201, r.text
    api = server.client("token")
    api.token = r.json()["token"]
    secrets.append(api.token)
    assert (await api.get(f"{API}/conversations")).status_code == 200
    assert (await api.send(conv, f"Vom CRM {mark}")).status_code == 201
    forged = server.client("token")
    forged.token = f"elt_{mark}forgedforgedforged"
    assert (await forged.get(f"{API}/conversations")).status_code == 401

    # a website visitor: a bearer session, a conversation, a live socket, then a claim
    visitor = server.client("customer")
    r = await visitor.post(f"{API}/auth/visitor", {"display_name": f"Gast {mark}"})
    assert r.status_code == 201, r.text
    visitor.token = r.json()["token"]
    secrets.append(visitor.token)
    await visitor.start_conversation("acme", f"Frage als Gast {mark}")
    await visitor_socket(server, visitor)
    r = await visitor.post(
        f"{API}/auth/claim",
        {"email": f"{mark}.gast@example.org", "password": f"gast-{mark}-passwort"},
    )
    assert r.status_code == 200, r.text
    secrets.append(r.json().get("token", "") or "")
    return [s for s in secrets if s]


async def visitor_socket(server: Server, visitor: Client) -> None:
    """The widget's socket: the session token travels as a subprotocol."""
    assert visitor.token is not None
    async with websockets.connect(
        server.ws_url,
        subprotocols=[
            websockets.Subprotocol("eyelevel"),
            websockets.Subprotocol(f"bearer.{visitor.token}"),
        ],
        additional_headers={"Origin": server.url},
    ) as conn:
        assert json.loads(await conn.recv())["type"] == "hello"


def pdf(text: str) -> bytes:
    return (
        b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
        + f"% {text}\n".encode()
        + b"trailer << /Root 1 0 R >>\n%%EOF\n"
    )


async def test_no_canary_or_secret_reaches_the_logs(
    db_url: str, tmp_path: Path, captured: io.StringIO
) -> None:
    mark = f"kanarie{uuid.uuid4().hex[:10]}"
    async with start_server(db_url, tmp_path) as server:
        with uvicorn_into_root():
            secrets = await flows(server, mark)
    text = captured.getvalue()
    lines = text.splitlines()

    # the capture saw the traffic: eyelevel's request events and uvicorn's access lines, each
    # a JSON line from the production chain — so a leak would have been seen
    records = [json.loads(line) for line in lines]
    routes = {r.get("route") for r in records if r.get("event") == "request"}
    assert {
        "/api/v1/auth/signup",
        "/api/v1/auth/login",
        "/api/v1/conversations/{conversation_id}/messages",
        "/api/v1/conversations/{conversation_id}/attachments",
        "/api/v1/companies/{slug}/tokens",
        "/api/v1/auth/visitor",
    } <= routes, routes
    access = [r["event"] for r in records if r.get("logger") == "uvicorn.access"]
    assert '- - "GET /verify HTTP/1.1" 200' in access, access[:20]
    # the client's own request lines carried the search query and the mail links: masked
    assert any("/search?[redacted]" in r["event"] for r in records), lines[-20:]

    assert mark.lower() not in text.lower(), [line for line in lines if mark in line][:5]
    assert len(secrets) >= 6, secrets
    for secret in [PASSWORD, *secrets]:
        for form in encodings(secret):
            assert form not in text.lower(), f"a secret ({secret[:6]}…) was logged"


def test_the_redaction_itself(captured: io.StringIO) -> None:
    """Sensitive keys, secrets inside strings, exceptions without their messages; the same for
    standard-library records."""
    log = structlog.get_logger("test")
    log.info(
        "probe",
        display_name="Kim Kanarie",
        body="Kanarie-Text",
        nested={"email": "kim@example.org", "ids": [1, 2], "note": "Bearer abc.def-ghi"},
        detail="els_AAAAAAAAAAAAAAAAAAAAAAAA from kim@example.org at /verify?token=t0k3n",
        count=3,
    )
    try:
        try:
            raise ValueError("INSERT … parameters: ('Kanarie-Parameter',)")
        except ValueError as exc:
            raise RuntimeError("wrapped Kanarie") from exc
    except RuntimeError:
        log.exception("failed")
        with uvicorn_into_root():
            logging.getLogger("uvicorn.error").exception("Exception in ASGI application")
    logging.getLogger("somelib").warning("login with password=%s for %s", "hunter2", "a@b.de")
    with uvicorn_into_root():
        logging.getLogger("uvicorn.access").info(
            '%s - "%s %s HTTP/%s" %d', "203.0.113.9:5555", "GET", "/verify?token=t0k3n", "1.1", 200
        )
    records = [json.loads(line) for line in captured.getvalue().splitlines()]
    assert [r["event"] for r in records] == [
        "probe",
        "failed",
        "Exception in ASGI application",
        "login with password=[redacted] for [redacted]",
        '- - "GET /verify HTTP/1.1" 200',
    ]
    probe = records[0]
    assert probe["display_name"] == probe["body"] == probe["nested"]["email"] == "[redacted]"
    assert probe["nested"]["ids"] == [1, 2] and probe["count"] == 3
    assert probe["nested"]["note"] == "Bearer [redacted]"
    assert probe["detail"] == "els_[redacted] from [redacted] at /verify?[redacted]"
    for failed in records[1:3]:
        assert failed["exception"].startswith("Traceback (messages left out):\nRuntimeError\n")
        assert "\nfrom ValueError\n" in failed["exception"]
        assert "test_log_hygiene.py:" in failed["exception"]
    text = captured.getvalue()
    for leak in ("Kanarie", "kim@example", "hunter2", "t0k3n", "203.0.113.9", "a@b.de"):
        assert leak not in text, leak


async def newer_flows(server: Server, mark: str, port: int) -> None:
    """The flows of the newer features with the mark in every personal field: a mail in (the
    sender's address and name, the subject, the text, a file's name) and a reply out, an
    automatic mail, routing by a keyword, a callback (phone, note, the call's summary), a
    complaint case (product, reference, the promise, an internal note, the rule's name)."""
    company, _ = await operator.ensure_company(
        server.runtime.ctx,
        slug="acme",
        name="Acme AG",
        business_hours={d: [["00:00", "24:00"]] for d in WEEKDAYS},
    )
    admin = await server.agent(company, name=f"Admin {mark}", role=Role.ADMIN)
    base = f"{API}/companies/acme"
    inbound = f"service.{mark}@acme.example"
    r = await admin.http.put(f"{base}/mail-addresses", json={"addresses": [inbound]})
    assert r.status_code == 200, r.text
    team = await admin.post(f"{base}/teams", {"name": f"Team {mark}"})
    assert team.status_code == 201, team.text
    rule = {"name": f"Regel {mark}", "team_id": team.json()["id"]}
    rule["conditions"] = {"keywords": [mark]}
    assert (await admin.post(f"{base}/routing-rules", rule)).status_code == 201
    offer = {"slot_minutes": 30, "days_ahead": 2, "lead_minutes": 0, "all_agents": True}
    r = await admin.http.put(f"{base}/callback-settings", json=offer)
    assert r.status_code == 200, r.text
    policy = {"rules": [{"name": f"Kulanz {mark}", "agent_remedies": ["voucher"]}]}
    r = await admin.http.put(f"{base}/goodwill-policy", json=policy)
    assert r.status_code == 200, r.text

    sender = f"{mark}.mail@example.org"
    mail = EmailMessage()
    mail["From"] = f"Mailkunde {mark} <{sender}>"
    mail["To"] = inbound
    mail["Subject"] = f"Betreff {mark}"
    mail["Message-ID"] = make_msgid(domain=f"{mark}.example.org")
    mail.set_content(f"Text {mark} der Mail")
    mail.add_attachment(pdf(mark), maintype="application", subtype="pdf", filename=f"{mark}.pdf")
    await aiosmtplib.send(
        mail, hostname="127.0.0.1", port=port, sender=sender, recipients=[inbound]
    )
    listed = (await admin.get(f"{API}/conversations")).json()["items"]
    conv = next(c for c in listed if c["channel"] == "email")
    assert conv["routing_rule_id"] is not None  # routed by the keyword
    assert (await admin.send(conv["id"], f"Antwort {mark} per Mail")).status_code == 201
    bounce = EmailMessage()
    bounce["From"] = f"postmaster@{mark}.example.org"
    bounce["To"] = inbound
    bounce["Subject"] = f"Abwesend {mark}"
    bounce["Auto-Submitted"] = "auto-replied"
    bounce["In-Reply-To"] = mail["Message-ID"]
    bounce.set_content(f"Abwesend {mark}")
    await aiosmtplib.send(bounce, hostname="127.0.0.1", port=port, recipients=[inbound])

    kim = await server.customer(f"{mark}.kim@example.org", name=f"Kim {mark}")
    started = await kim.start_conversation("acme", f"Rückruf bitte {mark}")
    cid = started["conversation"]["id"]
    slots = (await kim.get(f"{API}/conversations/{cid}/callbacks/slots")).json()["items"]
    phone = f"+49 30 {int(mark[-6:], 16) % 10_000_000:07d}"
    booking = {"start": slots[-1]["start"], "phone": phone, "note": f"Notiz {mark}"}
    r = await kim.post(f"{API}/conversations/{cid}/callbacks", booking)
    assert r.status_code == 201, r.text
    callback = r.json()["id"]
    assert (await admin.post(f"{API}/callbacks/{callback}/start")).status_code == 200
    outcome = {"reached": True, "duration_seconds": 60, "summary": f"Gespräch {mark}"}
    assert (await admin.post(f"{API}/callbacks/{callback}/outcome", outcome)).status_code == 200

    facts = {
        "product": f"Produkt {mark}",
        "reference": f"Bestellung {mark}",
        "category": f"Kategorie {mark}",
        "requested_remedy": "replacement",
        "amount_cents": 4999,
    }
    r = await admin.post(f"{API}/conversations/{cid}/complaint", facts)
    assert r.status_code == 201, r.text
    step = {
        "kind": "granted",
        "remedy": "replacement",
        "amount_cents": 4999,
        "promise": f"Versprechen {mark}",
        "note": f"Intern {mark}",
    }
    r = await admin.post(f"{API}/conversations/{cid}/complaint/steps", step)
    assert r.status_code == 200, r.text
    assert (await kim.get(f"{API}/conversations/{cid}/complaint")).status_code == 200
    for _ in range(500):  # the reply by mail is sent by the worker
        if any(m.to == sender for m in server.mailer.sent):
            break
        await asyncio.sleep(0.02)
    assert any(m.to == sender for m in server.mailer.sent)


async def test_the_newer_flows_log_no_canary(
    db_url: str, tmp_path: Path, captured: io.StringIO
) -> None:
    mark = f"kanarie{uuid.uuid4().hex[:10]}"
    sock = free_socket()
    port = sock.getsockname()[1]
    sock.close()
    async with start_server(db_url, tmp_path, smtp_listen=f"127.0.0.1:{port}") as server:
        with uvicorn_into_root():
            await newer_flows(server, mark, port)
    text = captured.getvalue()
    records = [json.loads(line) for line in text.splitlines()]
    events = {r.get("event") for r in records}
    assert "mail_received" in events, sorted(e for e in events if e)[:40]
    routes = {r.get("route") for r in records if r.get("event") == "request"}
    assert {
        "/api/v1/conversations/{conversation_id}/callbacks",
        "/api/v1/callbacks/{callback_id}/outcome",
        "/api/v1/conversations/{conversation_id}/complaint/steps",
    } <= routes, routes
    assert mark.lower() not in text.lower(), [
        line for line in text.splitlines() if mark in line.lower()
    ][:5]
