"""The command line, run as a real process against the test database."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from eyelevel.app import build_runtime
from eyelevel.config import Settings
from eyelevel.core import queries
from eyelevel.core.entities import Role
from eyelevel.core.ids import AgentId
from eyelevel.core.ports import ConversationFilter
from eyelevel.core.principals import AgentPrincipal
from eyelevel.demo import seed
from eyelevel.security import Argon2Hasher
from tests.harness import PASSWORD, start_server

COMMANDS = [
    [],
    ["serve"],
    ["demo"],
    ["migrate"],
    ["worker"],
    ["company", "create"],
    ["agent", "invite"],
    ["token", "create"],
    ["bench"],
    ["bench", "inbox"],
    ["seed"],
]


def run(
    args: list[str], db_url: str, tmp_path: Path, **env: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "eyelevel", *args],
        env={
            **os.environ,
            "EYELEVEL_DATABASE_URL": db_url,
            "EYELEVEL_DATA_DIR": str(tmp_path / "data"),
            "EYELEVEL_PUBLIC_URL": "http://127.0.0.1:8000",
            "EYELEVEL_REDIS_URL": "",
            "COLUMNS": "200",
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: " ".join(c) or "eyelevel")
def test_every_command_has_help(command: list[str], tmp_path: Path) -> None:
    result = run([*command, "--help"], "sqlite+aiosqlite:///unused.db", tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Usage:" in result.stdout
    assert not (tmp_path / "data").exists()  # --help does nothing else


async def test_company_token_and_invite_commands_work_end_to_end(
    db_url: str, tmp_path: Path
) -> None:
    first = run(["company", "create", "acme", "Acme AG", "--phone", "+49 40 111"], db_url, tmp_path)
    assert first.returncode == 0, first.stderr
    assert "created: acme" in first.stdout
    again = run(["company", "create", "acme", "Acme AG"], db_url, tmp_path)
    assert "exists: acme" in again.stdout

    token = run(["token", "create", "acme", "CRM sync"], db_url, tmp_path)
    assert token.returncode == 0, token.stderr
    secret = token.stdout.strip()
    assert re.fullmatch(r"elt_[A-Za-z0-9_-]{20,}", secret)

    invite = run(
        ["agent", "invite", "acme", "Boss@Example.com", "--role", "admin"], db_url, tmp_path
    )
    assert invite.returncode == 0, invite.stderr
    link = re.search(r"/app/invite\?token=(\S+)", invite.stdout)
    assert link is not None
    assert "mail to boss@example.com" in invite.stdout  # the console outbox delivered it

    missing = run(["token", "create", "nope", "x"], db_url, tmp_path)
    assert missing.returncode == 2
    assert "not_found" in missing.stdout

    async with start_server(db_url, tmp_path) as server:
        api = server.client()
        api.token = secret
        card = await api.get("/api/v1/companies/acme")
        assert card.json()["phone"] == "+49 40 111"
        me = await api.get("/api/v1/auth/me")
        assert me.status_code == 200 and me.json()["kind"] == "token"

        agent = server.client()
        r = await agent.post(
            "/api/v1/auth/accept-invitation",
            {"token": link.group(1), "name": "Bea Boss", "password": PASSWORD},
        )
        assert r.status_code == 200, r.text
        me = (await agent.get("/api/v1/auth/me")).json()
        assert me["kind"] == "agent" and list(me["companies"].values()) == ["admin"]


async def test_demo_seed_is_idempotent(db_url: str, tmp_path: Path) -> None:
    settings = Settings(database_url=db_url, data_dir=tmp_path / "data", redis_url=None)
    rt = build_runtime(settings, passwords=Argon2Hasher(fast=True))
    await rt.start()
    try:
        first = await seed(rt.ctx)
        second = await seed(rt.ctx)
        assert first == second
        assert [x.kind for x in first].count("agent") == 3
        assert [x.kind for x in first].count("customer") == 2
        companies = await queries.search_companies(rt.ctx, "", 50)
        assert sorted(c.slug for c in companies) == ["beispiel", "stadtwerke"]
        beispiel = next(c for c in companies if c.slug == "beispiel")
        admin = AgentPrincipal(AgentId(0), "operator", {beispiel.id: Role.ADMIN})
        _, teams, _, members = await queries.company_staff(rt.ctx, admin, "beispiel")
        assert sorted(t.name for t in teams) == ["Reklamationen", "Support"]
        assert len(members) == 3
        rows = await queries.list_conversations(rt.ctx, admin, ConversationFilter())
        assert len(rows) == 2  # one per customer, not doubled by the second run
    finally:
        await rt.close()


def test_production_refuses_a_weak_secret_key(tmp_path: Path) -> None:
    db = f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"
    result = run(
        ["serve", "--port", "1"],
        db,
        tmp_path,
        EYELEVEL_ENV="production",
        EYELEVEL_SECRET_KEY="short",
    )
    assert result.returncode != 0
    assert "EYELEVEL_SECRET_KEY is weak" in result.stderr + result.stdout
    missing = run(["serve", "--port", "1"], db, tmp_path, EYELEVEL_ENV="production")
    assert missing.returncode != 0
    assert "EYELEVEL_SECRET_KEY (or _FILE) is required" in missing.stderr + missing.stdout
