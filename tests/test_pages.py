"""The pages that mail links open: confirm an email, accept an invitation."""

from __future__ import annotations

import re

from eyelevel.core.actions import operator
from eyelevel.core.entities import Role
from tests.harness import PASSWORD, Server

EXTERNAL = re.compile(r"""(?:src|href|action)=["']?(?:https?:)?//""", re.I)


async def test_verify_page_confirms_the_email_in_german(server: Server) -> None:
    c = server.client()
    r = await c.post(
        "/api/v1/auth/signup",
        {"email": "kim@example.org", "password": PASSWORD, "display_name": "Kim"},
    )
    assert r.status_code == 201, r.text
    token = await server.mail_token("kim@example.org", r"/verify\?token=(\S+)")
    browser = server.client()
    de = {"accept-language": "de-DE,de;q=0.9,en;q=0.5"}
    page = await browser.get(f"/verify?token={token}", headers=de)
    assert page.status_code == 200
    assert "E-Mail-Adresse bestätigen" in page.text
    assert not EXTERNAL.search(page.text)
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert page.headers["referrer-policy"] == "same-origin"
    assert (await c.get("/api/v1/auth/me")).json()["email_verified"] is False  # GET changes nothing

    done = await browser.http.post("/verify", data={"token": token}, headers=de)
    assert done.status_code == 200
    assert "ist bestätigt" in done.text
    assert (await c.get("/api/v1/auth/me")).json()["email_verified"] is True


async def test_verify_page_refuses_bad_tokens_and_foreign_origins(server: Server) -> None:
    browser = server.client()
    bad = await browser.http.post("/verify", data={"token": "1.99999999999.abc"})
    assert bad.status_code == 400
    assert "invalid or has expired" in bad.text
    assert (await browser.get("/verify")).status_code == 400
    foreign = await browser.http.post(
        "/verify", data={"token": "x"}, headers={"origin": "https://evil.example"}
    )
    assert foreign.status_code == 400


async def test_invitation_page_creates_the_agent_and_signs_in(server: Server) -> None:
    company = await server.company("acme", "Acme AG")
    token = await operator.operator_invite(
        server.runtime.ctx, company_slug="acme", email="lea@acme.example", role=Role.LEAD
    )
    browser = server.client()
    form = await browser.get(f"/app/invite?token={token}")
    assert form.status_code == 200
    assert f'name=token value="{token}"' in form.text
    short = await browser.http.post(
        "/app/invite", data={"token": token, "name": "Lea", "password": "short"}
    )
    assert short.status_code == 400
    assert "eyelevel_session" not in browser.http.cookies
    ok = await browser.http.post(
        "/app/invite", data={"token": token, "name": "Lea Lang", "password": PASSWORD}
    )
    assert ok.status_code == 200, ok.text
    me = (await browser.get("/api/v1/auth/me")).json()
    assert me["kind"] == "agent" and me["companies"] == {str(company.id): "lead"}
    reused = await server.client().http.post(
        "/app/invite", data={"token": token, "name": "Mallory", "password": PASSWORD}
    )
    assert reused.status_code == 400  # an invitation works once
