"""Email as a channel, through real SMTP sessions on loopback (docs/email.md).

Inbound: ``aiosmtplib`` talks to the server's own listener (``EYELEVEL_SMTP_LISTEN``), which
answers only after the mail is committed, so the API shows it as soon as the session ends.
Outbound: the worker's mailer sends agents' replies over SMTP to a :class:`SmtpSink`.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import make_msgid
from pathlib import Path
from typing import Any

import aiosmtplib
import pytest
from PIL import Image
from playwright.async_api import Browser, expect
from sqlalchemy import select

from eyelevel.channels.email.html import html_to_text
from eyelevel.core.entities import Company, Role
from eyelevel.core.ports import OutgoingMail
from eyelevel.core.rules.mail import automatic_reason, parse_refs, trim_quoted_tail
from eyelevel.jobs.mailers import MemoryMailer, SmtpMailer
from eyelevel.storage import schema
from tests.browser_support import screenshot
from tests.harness import PASSWORD, Client, Server, all_messages, free_socket, start_server
from tests.smtp_sink import SmtpSink

API = "/api/v1"
INBOUND = "support@beispiel.example"
KIM = "kim@example.org"


class SinkMailer(MemoryMailer):
    """Keeps every mail (the harness reads sign-up links from it) and sends the companies'
    replies (mails with their own sender) over real SMTP to the sink."""

    def __init__(self, url: str) -> None:
        super().__init__()
        self._smtp = SmtpMailer(url, "eyelevel <noreply@eyelevel.example>")

    async def send(self, mail: OutgoingMail) -> None:
        await super().send(mail)
        if mail.sender is not None:
            await self._smtp.send(mail)


@dataclass
class World:
    server: Server
    sink: SmtpSink
    port: int
    company: Company
    admin: Client

    async def mail(
        self,
        body: str = "Hallo, mein Paket ist nicht angekommen.",
        *,
        subject: str = "Paket fehlt",
        sender: str = KIM,
        name: str = "Kim Muster",
        to: str = INBOUND,
        envelope_sender: str | None = None,
        headers: dict[str, str] | None = None,
        html: str | None = None,
        plain: bool = True,
        files: list[tuple[str, str, bytes]] = (),  # type: ignore[assignment]
    ) -> str:
        """Send a mail over SMTP to the server's listener; returns its Message-ID (no <>)."""
        msg = EmailMessage()
        msg["From"] = f"{name} <{sender}>"
        msg["To"] = to
        msg["Subject"] = subject
        message_id = make_msgid(domain="example.org")
        msg["Message-ID"] = message_id
        for key, value in (headers or {}).items():
            msg[key] = value
        if plain:
            msg.set_content(body)
            if html is not None:
                msg.add_alternative(html, subtype="html")
        else:
            msg.set_content(html or "", subtype="html")
        for filename, content_type, data in files:
            maintype, _, subtype = content_type.partition("/")
            msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)
        await aiosmtplib.send(
            msg,
            hostname="127.0.0.1",
            port=self.port,
            sender=sender if envelope_sender is None else envelope_sender,
            recipients=[to],
        )
        return message_id.strip("<>")

    async def conversations(self) -> list[dict[str, Any]]:
        r = await self.admin.get(f"{API}/conversations", params={"limit": 200})
        assert r.status_code == 200, r.text
        return list(r.json()["items"])

    async def only_conversation(self) -> dict[str, Any]:
        items = await self.conversations()
        assert len(items) == 1, items
        return items[0]


@pytest.fixture
async def world(db_url: str, tmp_path: Path) -> AsyncIterator[World]:
    with SmtpSink() as sink:
        sock = free_socket()
        port = sock.getsockname()[1]
        sock.close()
        async with start_server(
            db_url,
            tmp_path,
            mailer=SinkMailer(sink.url),
            smtp_listen=f"127.0.0.1:{port}",
            smtp_max_bytes=400_000,
            mail_from="eyelevel <noreply@eyelevel.example>",
        ) as server:
            company = await server.company("beispiel", "Beispiel GmbH")
            admin = await server.agent(company, role=Role.ADMIN, name="Anna Admin")
            r = await admin.http.put(
                f"{API}/companies/beispiel/mail-addresses",
                json={"addresses": ["Support@Beispiel.example"]},
            )
            assert r.status_code == 200, r.text
            assert r.json() == {"addresses": [INBOUND]}
            yield World(server, sink, port, company, admin)


# -- inbound -----------------------------------------------------------------------------------


async def test_a_plain_mail_opens_an_email_conversation(world: World) -> None:
    await world.mail("Hallo,\nmein Paket ist nicht angekommen.\n\nGruß Kim")
    conv = await world.only_conversation()
    assert conv["channel"] == "email"
    assert conv["subject"] == "Paket fehlt"
    assert conv["status"] == "open"
    assert conv["customer"]["name"] == "Kim Muster"
    assert conv["customer"]["email"] is None  # the address is not a granted profile field
    messages = await all_messages(world.admin.http, conv["id"])
    assert [(m["kind"], m["body"]) for m in messages] == [
        ("customer", "Hallo,\nmein Paket ist nicht angekommen.\n\nGruß Kim")
    ]
    r = await world.admin.get(f"{API}/conversations/{conv['id']}/email")
    assert r.status_code == 200, r.text
    assert r.json() == {"address": KIM, "inbound_address": INBOUND}


async def test_an_html_only_mail_becomes_safe_text(world: World) -> None:
    html = (
        "<html><head><title>T</title><style>p{color:red}</style>"
        "<script>alert('x')</script></head><body>"
        "<p>Guten&nbsp;Tag,</p><p>die <b>Rechnung</b> ist <a href='https://shop.example/r/1'>"
        "hier</a>.</p><script>document.cookie</script><ul><li>eins</li><li>zwei</li></ul>"
        "<img src=x onerror=alert(1)></body></html>"
    )
    await world.mail(html=html, plain=False)
    conv = await world.only_conversation()
    body = (await all_messages(world.admin.http, conv["id"]))[0]["body"]
    assert body == (
        "Guten Tag,\n\ndie Rechnung ist hier <https://shop.example/r/1>.\n\n• eins\n• zwei"
    )
    for gone in ("alert", "cookie", "color", "<", "onerror"):
        assert gone not in body.replace("<https://shop.example/r/1>", "")


def _jpeg_with_exif() -> bytes:
    image = Image.new("RGB", (64, 48), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "KanarieCam"  # Make
    exif[0x013B] = "Kanarie Artist"  # Artist
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes())
    data = out.getvalue()
    assert b"Kanarie" in data
    return data


PDF = (
    b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
    b"2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
    b"3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 100 100]>>endobj\n"
    b"trailer<</Root 1 0 R>>\n%%EOF\n"
)


async def test_attachments_are_kept_and_images_lose_their_metadata(world: World) -> None:
    await world.mail(
        "Fotos anbei.",
        files=[
            ("schaden.jpg", "image/jpeg", _jpeg_with_exif()),
            ("rechnung.pdf", "application/pdf", PDF),
            ("tool.exe", "application/octet-stream", b"MZ\x90\x00binary"),
        ],
    )
    conv = await world.only_conversation()
    (message,) = await all_messages(world.admin.http, conv["id"])
    assert message["body"].startswith("Fotos anbei.")
    assert "[not kept: tool" in message["body"]  # not on the type allow-list
    files = {a["name"]: a for a in message["attachments"]}
    assert set(files) == {"schaden.jpg", "rechnung.pdf"}
    image = await world.admin.get(f"{API}/attachments/{files['schaden.jpg']['id']}")
    assert image.status_code == 200
    assert b"Kanarie" not in image.content
    assert dict(Image.open(io.BytesIO(image.content)).getexif()) == {}
    pdf = await world.admin.get(f"{API}/attachments/{files['rechnung.pdf']['id']}")
    assert pdf.content == PDF


async def test_replies_thread_by_message_ids_only(world: World) -> None:
    first = await world.mail("Erste Mail")
    conv = await world.only_conversation()
    await world.mail("Nachtrag", subject="Re: Paket fehlt", headers={"In-Reply-To": f"<{first}>"})
    second = await world.conversations()
    assert [c["id"] for c in second] == [conv["id"]]
    # only References, naming an unknown id and then the known one
    await world.mail(
        "Noch ein Nachtrag",
        subject="ganz anderer Betreff",
        headers={"References": f"<{first}> <unknown.1@example.org>"},
    )
    assert [c["id"] for c in await world.conversations()] == [conv["id"]]
    bodies = [m["body"] for m in await all_messages(world.admin.http, conv["id"])]
    assert bodies == ["Erste Mail", "Nachtrag", "Noch ein Nachtrag"]
    # the same subject without threading headers is a new conversation
    await world.mail("Wieder was", subject="Paket fehlt")
    assert len(await world.conversations()) == 2


async def test_a_person_cannot_write_into_someone_elses_thread(world: World) -> None:
    first = await world.mail("Meins")
    await world.mail("Fremd", sender="mallory@example.net", headers={"In-Reply-To": f"<{first}>"})
    items = await world.conversations()
    assert len(items) == 2
    assert {c["customer"]["name"] for c in items} == {"Kim Muster"}  # both named by the mails
    assert {len(await all_messages(world.admin.http, c["id"])) for c in items} == {1}


async def test_a_repeated_delivery_is_stored_once(world: World) -> None:
    msg = EmailMessage()
    msg["From"] = KIM
    msg["To"] = INBOUND
    msg["Subject"] = "Doppelt"
    msg["Message-ID"] = "<same.1@example.org>"
    msg.set_content("einmal")
    for _ in range(2):
        await aiosmtplib.send(msg, hostname="127.0.0.1", port=world.port)
    conv = await world.only_conversation()
    assert len(await all_messages(world.admin.http, conv["id"])) == 1


async def test_unknown_recipients_are_refused_at_rcpt(world: World) -> None:
    msg = EmailMessage()
    msg["From"] = KIM
    msg["Subject"] = "x"
    msg.set_content("x")
    with pytest.raises(aiosmtplib.SMTPRecipientsRefused) as refused:
        await aiosmtplib.send(
            msg,
            hostname="127.0.0.1",
            port=world.port,
            sender=KIM,
            recipients=["info@nowhere.example"],
        )
    assert [e.code for e in refused.value.recipients] == [550]
    assert await world.conversations() == []


async def test_oversize_mails_are_refused_at_data(world: World) -> None:
    with pytest.raises(aiosmtplib.SMTPResponseException) as refused:
        await world.mail("x" * 500_000)
    assert refused.value.code == 552
    assert await world.conversations() == []


async def test_mail_from_our_own_address_is_dropped(world: World) -> None:
    await world.mail("Schleife", sender=INBOUND)
    await world.mail("Schleife", sender="noreply@eyelevel.example")
    assert await world.conversations() == []


# -- outbound ----------------------------------------------------------------------------------


async def _reply(world: World, conv_id: int, body: str, **kw: Any) -> dict[str, Any]:
    r = await world.admin.send(conv_id, body, **kw)
    assert r.status_code == 201, r.text
    return dict(r.json())


async def test_an_agent_reply_goes_out_with_threading_headers(world: World) -> None:
    first = await world.mail("Wo ist mein Paket?")
    conv = await world.only_conversation()
    await _reply(world, conv["id"], "Interne Notiz", note=True)
    await _reply(world, conv["id"], "Hallo Kim,\n\nes ist <unterwegs> & kommt morgen.")
    (mail,) = await world.sink.wait_for(1)
    assert world.sink.envelopes[0].rcpt_tos == [KIM]
    assert mail["To"] == KIM
    assert mail["From"].addresses[0].display_name == "Beispiel GmbH"
    assert mail["From"].addresses[0].addr_spec == INBOUND
    assert mail["Reply-To"] == INBOUND
    assert mail["Subject"] == "Re: Paket fehlt"
    assert mail["In-Reply-To"] == f"<{first}>"
    assert mail["References"] == f"<{first}>"
    reply_id = mail["Message-ID"].strip("<>")
    assert reply_id.endswith("@beispiel.example")
    text = mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = mail.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "es ist <unterwegs> & kommt morgen." in text
    assert "Interne Notiz" not in text
    assert "es ist &lt;unterwegs&gt; &amp; kommt morgen." in html
    assert "<unterwegs>" not in html
    # the customer answers the reply: same conversation, and the next reply names both
    second = await world.mail("Danke!", headers={"In-Reply-To": f"<{reply_id}>"})
    assert [c["id"] for c in await world.conversations()] == [conv["id"]]
    await _reply(world, conv["id"], "Gern!")
    mails = await world.sink.wait_for(2)
    assert mails[1]["In-Reply-To"] == f"<{second}>"
    assert mails[1]["References"] == f"<{first}> <{reply_id}> <{second}>"


async def test_a_reply_with_a_file_carries_it(world: World) -> None:
    await world.mail("Rechnung bitte")
    conv = await world.only_conversation()
    r = await world.admin.http.post(
        f"{API}/conversations/{conv['id']}/attachments",
        files={"file": ("rechnung.pdf", PDF, "application/pdf")},
        data={"body": "Anbei"},
    )
    assert r.status_code == 201, r.text
    (mail,) = await world.sink.wait_for(1)
    files = [(p.get_filename(), p.get_content()) for p in mail.iter_attachments()]
    assert files == [("rechnung.pdf", PDF)]


async def test_auto_replies_are_never_answered(world: World) -> None:
    await world.mail("Hallo")
    conv = await world.only_conversation()
    await _reply(world, conv["id"], "Antwort eins")
    (first,) = await world.sink.wait_for(1)
    reply_id = first["Message-ID"].strip("<>")
    # an out-of-office notice to our reply: kept for the agents as a note, nothing goes out
    await world.mail(
        "Ich bin bis Montag nicht im Büro.",
        subject="Abwesend: Re: Paket fehlt",
        headers={"Auto-Submitted": "auto-replied", "In-Reply-To": f"<{reply_id}>"},
    )
    # and one that continues nothing opens no conversation
    await world.mail("Newsletter", subject="News", headers={"Precedence": "bulk"})
    await world.mail("Bounce", subject="Undelivered", envelope_sender="")
    assert [c["id"] for c in await world.conversations()] == [conv["id"]]
    messages = await all_messages(world.admin.http, conv["id"])
    assert [m["kind"] for m in messages] == ["customer", "agent", "note"]
    assert "nicht im Büro" in messages[2]["body"]
    conv = (await world.admin.get(f"{API}/conversations/{conv['id']}")).json()
    assert conv["waiting_since"] is None  # nobody waits for an answer to a machine
    # the next mail out is the agent's next reply: nothing was sent in between
    await _reply(world, conv["id"], "Antwort zwei")
    mails = await world.sink.wait_for(2)
    assert len(mails) == 2
    assert "Antwort zwei" in mails[1].get_body(("plain",)).get_content()  # type: ignore[union-attr]


# -- one history -------------------------------------------------------------------------------


async def test_a_later_verified_account_sees_the_mail_history(world: World) -> None:
    await world.mail("Per Mail geschrieben")
    conv = await world.only_conversation()
    await _reply(world, conv["id"], "Per Mail beantwortet")
    customer = await world.server.customer(KIM, name="Kim Muster")  # signs up and verifies
    r = await customer.get(f"{API}/conversations")
    assert r.status_code == 200, r.text
    assert [c["id"] for c in r.json()["items"]] == [conv["id"]]
    bodies = [m["body"] for m in await all_messages(customer.http, conv["id"])]
    assert bodies == ["Per Mail geschrieben", "Per Mail beantwortet"]
    # the customer continues in the messenger; the answer still reaches the mailbox too
    r = await customer.send(conv["id"], "Und jetzt im Messenger")
    assert r.status_code == 201, r.text
    # a further mail from the address lands in the same account
    await world.mail("Wieder per Mail", subject="Neue Frage")
    r = await customer.get(f"{API}/conversations")
    assert len(r.json()["items"]) == 2


async def test_an_unverified_account_does_not_see_mail_history(world: World) -> None:
    c = world.server.client("customer")
    r = await c.post(
        f"{API}/auth/signup",
        {"email": KIM, "password": "correct horse battery", "display_name": "Not Kim"},
    )
    assert r.status_code == 201, r.text
    await world.mail("Nur für die echte Kim")
    r = await c.get(f"{API}/conversations")
    assert r.status_code == 200
    assert r.json()["items"] == []


# -- with the other features: routing, complaints, erasure ------------------------------------


async def test_an_inbound_mail_is_routed_and_auto_assigned(world: World) -> None:
    """The channel condition ``email`` holds for a mail's conversation (docs/routing.md), and
    the team's auto-assignment gives it to an online agent, as for a messenger start."""
    agent = await world.server.agent(world.company, name="Mia Mail")
    base = f"{API}/companies/beispiel"
    team = await world.admin.post(f"{base}/teams", {"name": "Postfach"})
    assert team.status_code == 201, team.text
    team_id = team.json()["id"]
    r = await world.admin.http.put(
        f"{base}/teams/{team_id}/members", json={"agent_ids": [agent.id]}
    )
    assert r.status_code == 200, r.text
    r = await world.admin.http.put(
        f"{base}/teams/{team_id}/assignment", json={"auto_assign": True, "max_open": 5}
    )
    assert r.status_code == 200, r.text
    body = {"name": "Mails", "team_id": team_id, "conditions": {"channels": ["email"]}}
    rule = await world.admin.post(f"{base}/routing-rules", body)
    assert rule.status_code == 201, rule.text
    r = await agent.http.put(f"{API}/me/presence", json={"presence": "online"})
    assert r.status_code == 204, r.text

    await world.mail("Hallo per Mail")
    conv = await world.only_conversation()
    assert conv["channel"] == "email"
    assert conv["routing_rule_id"] == rule.json()["id"]
    assert conv["owner"] == {"type": "agent", "id": agent.id}
    # a messenger conversation does not match the email rule
    kim = await world.server.customer()
    started = await kim.start_conversation("beispiel", "Hallo im Messenger")
    other = (await world.admin.get(f"{API}/conversations/{started['conversation']['id']}")).json()
    assert (other["routing_rule_id"], other["owner"]) == (None, None)


async def test_an_integration_reply_goes_out_by_mail(world: World) -> None:
    await world.mail("Wo bleibt die Gutschrift?")
    conv = await world.only_conversation()
    crm = await world.server.token_client(world.company, name="CRM")
    r = await crm.send(conv["id"], "Die Gutschrift ist gebucht.")
    assert r.status_code == 201, r.text
    (mail,) = await world.sink.wait_for(1)
    assert mail["To"] == KIM
    assert "Die Gutschrift ist gebucht." in mail.get_body(("plain",)).get_content()  # type: ignore[union-attr]


async def test_a_complaint_case_moves_with_the_mail_history(world: World) -> None:
    """An email-only customer's conversation became a complaint case; the address's later
    account adopts the conversation with its case (the case names its customer too)."""
    await world.mail("Der Toaster ist kaputt")
    conv = await world.only_conversation()
    facts = {
        "product": "Toaster T2",
        "reference": "Bestellung 4711",
        "category": "Küche",
        "requested_remedy": "replacement",
        "amount_cents": 4999,
    }
    r = await world.admin.post(f"{API}/conversations/{conv['id']}/complaint", facts)
    assert r.status_code == 201, r.text
    customer = await world.server.customer(KIM, name="Kim Muster")  # signs up and verifies
    r = await customer.get(f"{API}/conversations")
    assert [c["id"] for c in r.json()["items"]] == [conv["id"]]
    r = await customer.get(f"{API}/conversations/{conv['id']}/complaint")
    assert r.status_code == 200, r.text
    assert (r.json()["product"], r.json()["state"]) == ("Toaster T2", "open")
    async with world.server.runtime.db.read_engine.connect() as conn:
        c = schema.complaint_cases.c
        owners = (await conn.execute(select(c.customer_id))).scalars().all()
    assert owners == [customer.id]


async def test_mail_never_lands_in_a_restricted_conversation(world: World) -> None:
    """The customer was erased while the conversation was under legal hold: it is read-only.
    A bounce naming it is dropped, a person's mail naming it opens a new conversation."""
    kim = await world.server.customer(KIM, name="Kim Muster")
    first = await world.mail("Bitte aufbewahren")
    conv = await world.only_conversation()
    path = f"{API}/conversations/{conv['id']}/legal-hold"
    r = await world.admin.http.put(path, json={"reason": "Prüfung"})
    assert r.status_code == 200, r.text
    r = await kim.post(f"{API}/me/erasure", {"password": PASSWORD})
    assert r.status_code == 200, r.text
    assert r.json()["held_conversations"] == 1

    await world.mail(
        "Mailbox full",
        subject="Undelivered Mail",
        headers={"Auto-Submitted": "auto-replied", "In-Reply-To": f"<{first}>"},
    )
    kept = await all_messages(world.admin.http, conv["id"])
    assert [m["body"] for m in kept] == ["Bitte aufbewahren"]
    await world.mail("Noch einmal", headers={"In-Reply-To": f"<{first}>"})
    (new,) = await world.conversations()  # the restricted one is in no list
    assert new["id"] != conv["id"]
    assert await all_messages(world.admin.http, conv["id"]) == kept


# -- the company's addresses -------------------------------------------------------------------


async def test_inbound_addresses_are_unique_and_valid(world: World) -> None:
    other = await world.server.company("andere", "Andere AG")
    admin = await world.server.agent(other, role=Role.ADMIN)
    path = f"{API}/companies/andere/mail-addresses"
    r = await admin.http.put(path, json={"addresses": [INBOUND.upper()]})
    assert r.status_code == 409
    assert r.json()["code"] == "mail_address_taken"
    for bad in ("not-an-address", "a@b", "noreply@eyelevel.example"):
        r = await admin.http.put(path, json={"addresses": [bad]})
        assert r.status_code == 422, bad
        assert r.json()["code"] == "validation_error"
    r = await admin.http.put(path, json={"addresses": ["hilfe@andere.example"]})
    assert r.status_code == 200
    agent = await world.server.agent(other)
    assert (await agent.get(path)).json() == {"addresses": ["hilfe@andere.example"]}
    r = await agent.http.put(path, json={"addresses": []})
    assert r.status_code == 403


async def test_operator_domains_limit_inbound_addresses(db_url: str, tmp_path: Path) -> None:
    async with start_server(db_url, tmp_path, mail_domains=["beispiel.example"]) as server:
        company = await server.company("beispiel")
        admin = await server.agent(company, role=Role.ADMIN)
        path = f"{API}/companies/beispiel/mail-addresses"
        r = await admin.http.put(path, json={"addresses": ["support@fremd.example"]})
        assert r.status_code == 422
        for ok in ("support@beispiel.example", "support@de.beispiel.example"):
            r = await admin.http.put(path, json={"addresses": [ok]})
            assert r.status_code == 200, r.text


# -- the inbox in a browser -------------------------------------------------------------------


async def test_admin_sets_the_address_and_the_inbox_marks_email(
    world: World, browser: Browser
) -> None:
    admin = await world.server.agent(world.company, "lena@beispiel.example", role=Role.ADMIN)
    assert admin.id
    context = await browser.new_context(locale="en-GB", viewport={"width": 1440, "height": 900})
    context.set_default_timeout(10_000)
    page = await context.new_page()
    try:
        r = await page.request.post(
            f"{world.server.url}{API}/auth/login",
            data={"kind": "agent", "email": "lena@beispiel.example", "password": PASSWORD},
        )
        assert r.status == 200
        await page.goto(f"{world.server.url}/app#/admin/profile")
        addresses = page.get_by_label("Inbound email addresses")
        await expect(addresses).to_have_value(INBOUND)
        await addresses.fill(f"{INBOUND}\nHilfe@Beispiel.example")
        await page.get_by_role("button", name="Save addresses").click()
        await expect(page.get_by_text("Saved.").last).to_be_visible()
        await expect(addresses).to_have_value(f"{INBOUND}\nhilfe@beispiel.example")
        r = await world.admin.get(f"{API}/companies/beispiel/mail-addresses")
        assert r.json() == {"addresses": [INBOUND, "hilfe@beispiel.example"]}
        await screenshot(page, "email-admin-profile")

        await world.mail("Hallo per Mail", to="hilfe@beispiel.example")
        conv = await world.only_conversation()
        await page.goto(f"{world.server.url}/app#/inbox/all/{conv['id']}")
        item = page.locator(f'.conv-item[data-id="{conv["id"]}"]')
        await expect(item.get_by_text("By email")).to_be_visible()
        header = page.locator(".conv-pane header")
        await expect(header.get_by_text(KIM)).to_be_visible()
        thread = page.get_by_role("list", name="Messages")
        await expect(thread.get_by_text("Hallo per Mail")).to_be_visible()
        await screenshot(page, "email-inbox-conversation")
    finally:
        await context.close()


# -- the pure rules ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "envelope", "reason"),
    [
        ({}, "kim@example.org", None),
        ({"auto-submitted": "no"}, "kim@example.org", None),
        ({"auto-submitted": "auto-replied"}, "kim@example.org", "auto-submitted"),
        ({"auto-submitted": "auto-generated; owner-email=x"}, "k@e.org", "auto-submitted"),
        ({"precedence": "Bulk"}, "kim@example.org", "precedence"),
        ({"precedence": "junk"}, "kim@example.org", "precedence"),
        ({"precedence": "list"}, "kim@example.org", "precedence"),
        ({"x-autoreply": "yes"}, "kim@example.org", "autoreply-header"),
        ({"x-autorespond": "1"}, "kim@example.org", "autoreply-header"),
        ({"list-id": "<news.example.org>"}, "kim@example.org", "mailing-list"),
        ({}, "", "bounce"),
        ({}, "<>", "bounce"),
        ({"content-type": "multipart/report; report-type=x"}, "k@e.org", "report"),
    ],
)
def test_automatic_mails_are_recognised(
    headers: dict[str, str], envelope: str, reason: str | None
) -> None:
    assert automatic_reason(headers, envelope_sender=envelope) == reason


def test_quoted_tails_are_trimmed() -> None:
    text = (
        "Danke!\n\nAm Mo., 1. Dez. 2026 um 10:00 schrieb Beispiel GmbH <s@b.example>:\n> alt\n>\n"
    )
    assert trim_quoted_tail(text) == "Danke!"
    assert trim_quoted_tail("Gut.\n\nOn Mon, Dec 1 wrote:\n> old") == "Gut."
    point_by_point = "> Frage eins\nAntwort eins\n> Frage zwei\nAntwort zwei"
    assert trim_quoted_tail(point_by_point) == point_by_point
    assert trim_quoted_tail("> nur Zitat") == "> nur Zitat"


def test_html_quotes_and_refs() -> None:
    assert html_to_text("<p>Ja</p><blockquote><p>alt</p></blockquote>") == "Ja\n\n> alt"
    assert parse_refs("<a@x> <b@y>\r\n <a@x>") == ("a@x", "b@y")
    assert parse_refs("bare@id") == ("bare@id",)
    assert parse_refs(None) == ()
