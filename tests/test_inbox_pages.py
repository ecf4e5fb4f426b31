"""The agent inbox's server side (web/inbox): the /app shell, its security headers, the static
modules (its own and the messenger's shared ones), and what the scripts rely on: every import
resolves, every string is in the catalogs, nothing points to another host; and ``/auth/me``
naming the companies the inbox works for."""

from __future__ import annotations

import json
import re
from importlib.resources import files
from importlib.resources.abc import Traversable

import httpx
from babel.messages.extract import extract

from eyelevel.core.entities import Role
from eyelevel.web.i18n import CATALOGS
from eyelevel.web.inbox.pages import ASSETS, SHARED
from tests.harness import Server

STATIC = files("eyelevel.web.inbox") / "static"
TEMPLATES = files("eyelevel.web.inbox") / "templates"
MESSENGER = files("eyelevel.channels.messenger") / "static"
URL = re.compile(r"""https?://[^\s"'`)<>]+""")
NOT_REQUESTS = re.compile(r"^https?://www\.w3\.org/2000/svg$")  # an XML namespace, never fetched


def _csp(response: httpx.Response) -> dict[str, str]:
    policy = response.headers["content-security-policy"]
    return {d.strip().split(" ", 1)[0]: d.strip().partition(" ")[2] for d in policy.split(";") if d}


def _embedded(html: str, element_id: str) -> object:
    match = re.search(rf'<script type="application/json" id="{element_id}">(.*?)</script>', html)
    assert match, element_id
    return json.loads(match.group(1))


def _sources(folder: Traversable, suffixes: tuple[str, ...], prefix: str = "") -> dict[str, str]:
    found: dict[str, str] = {}
    for item in folder.iterdir():
        if item.is_dir():
            found |= _sources(item, suffixes, f"{prefix}{item.name}/")
        elif item.name.endswith(suffixes):
            found[f"{prefix}{item.name}"] = item.read_text(encoding="utf-8")
    return found


async def test_the_shell_is_strict_and_carries_no_personal_data(server: Server) -> None:
    anonymous = await server.client().get("/app")
    assert anonymous.status_code == 200
    assert anonymous.headers["content-type"].startswith("text/html")
    csp = _csp(anonymous)
    assert csp["default-src"] == "'none'"
    assert csp["script-src"] == "'self'"
    assert csp["connect-src"] == "'self'"
    assert csp["style-src"] == "'self'"
    assert csp["img-src"] == "'self' blob: data:"
    assert csp["frame-ancestors"] == "'none'"
    assert csp["base-uri"] == "'none'"
    assert csp["form-action"] == "'self'"
    assert "unsafe" not in anonymous.headers["content-security-policy"]
    assert anonymous.headers["x-frame-options"] == "DENY"
    assert anonymous.headers["referrer-policy"] == "same-origin"
    assert anonymous.headers["x-content-type-options"] == "nosniff"
    assert anonymous.headers["cache-control"] == "no-cache"
    assert f'src="/app/static/{ASSETS.version}/main.js"' in anonymous.text
    assert f'href="/app/static/{ASSETS.version}/inbox.css"' in anonymous.text
    assert "<script>" not in anonymous.text  # no inline script: only JSON data blocks
    config = _embedded(anonymous.text, "config")
    assert isinstance(config, dict)
    assert config["mode"] == "inbox" and config["lang"] == "en"
    assert config["version"] == ASSETS.version

    # a signed-in agent gets the very same bytes: everything personal comes from the API
    company = await server.company("acme", "Acme AG")
    agent = await server.agent(company, name="Anna Agent")
    signed_in = await agent.get("/app")
    assert signed_in.status_code == 200
    assert signed_in.text == anonymous.text
    assert "Anna" not in signed_in.text and "acme" not in signed_in.text.lower()


async def test_the_shell_speaks_german_and_english(server: Server) -> None:
    german = await server.client().get("/app", headers={"accept-language": "de-DE,de;q=0.9"})
    assert '<html lang="de">' in german.text
    strings = _embedded(german.text, "i18n")
    assert isinstance(strings, dict)
    assert strings["Mine"] == "Meine"
    assert strings["Private note — the customer does not see this"].startswith("Interne Notiz")
    assert "</" not in german.text.split('id="i18n">', 1)[1].split("</script>", 1)[0]
    english = await server.client().get(
        "/app", headers={"cookie": "lang=en", "accept-language": "de"}
    )
    assert '<html lang="en">' in english.text
    assert _embedded(english.text, "i18n") == {}  # English is the msgids themselves


async def test_static_files_are_versioned_and_the_messenger_modules_shared(server: Server) -> None:
    browser = server.client()
    base = f"/app/static/{ASSETS.version}"
    main = await browser.get(f"{base}/main.js")
    assert main.status_code == 200
    assert main.headers["content-type"] == "text/javascript; charset=utf-8"
    assert "immutable" in main.headers["cache-control"]
    assert main.headers["x-content-type-options"] == "nosniff"
    css = await browser.get(f"{base}/inbox.css")
    assert css.headers["content-type"] == "text/css; charset=utf-8"
    # the messenger's generic modules, byte for byte, under this version
    for name in SHARED:
        shared = await browser.get(f"{base}/messenger/{name}")
        assert shared.status_code == 200, name
        assert shared.content == (MESSENGER / name).read_bytes(), name
    # only those: the messenger's customer views are not part of the inbox
    assert (await browser.get(f"{base}/messenger/store.js")).status_code == 404
    older = await browser.get("/app/static/0123456789ab/main.js")
    assert older.status_code == 200 and older.headers["cache-control"] == "no-cache"
    assert (await browser.get(f"{base}/nope.js")).status_code == 404
    escaped = await browser.get(f"{base}/%2E%2E/pages.py")
    assert escaped.status_code == 404  # a fixed table of files, never a file system path


async def test_the_invitation_page_stays_where_the_mails_point(server: Server) -> None:
    page = await server.client().get("/app/invite", params={"token": "abc"})
    assert page.status_code == 200
    assert 'action="/app/invite"' in page.text or "action=/app/invite" in page.text


async def test_me_names_the_companies_of_an_agent_with_slug_and_role(server: Server) -> None:
    acme = await server.company("acme", "Acme AG")
    beta = await server.company("beta", "Beta GmbH")
    admin = await server.agent(acme, role=Role.ADMIN, name="Ada Admin")
    me = (await admin.get("/api/v1/auth/me")).json()
    assert me["memberships"] == [
        {"company_id": acme.id, "slug": "acme", "name": "Acme AG", "role": "admin"}
    ]
    token = await server.token_client(beta)
    assert (await token.get("/api/v1/auth/me")).json()["memberships"] == [
        {"company_id": beta.id, "slug": "beta", "name": "Beta GmbH", "role": "admin"}
    ]
    customer = await server.customer()
    assert (await customer.get("/api/v1/auth/me")).json()["memberships"] == []


def test_no_static_file_or_template_points_to_another_host() -> None:
    texts = _sources(STATIC, (".js", ".css")) | _sources(TEMPLATES, (".html",))
    assert {"main.js", "inbox.css", "inbox.html", "views/reply.js", "admin/audit.js"} <= set(texts)
    foreign = {
        name: urls
        for name, text in texts.items()
        if (urls := [u for u in URL.findall(text) if not NOT_REQUESTS.match(u)])
    }
    assert foreign == {}
    for name, text in texts.items():
        assert "@import" not in text and "@font-face" not in text, name
        assert ".innerHTML" not in text and "insertAdjacentHTML" not in text, name
        assert "outerHTML" not in text and "document.write" not in text, name
        assert "eval(" not in text and "new Function" not in text, name


def test_every_module_import_resolves_to_a_served_file() -> None:
    modules = _sources(STATIC, (".js",))
    served = set(ASSETS.files)
    assert {f"messenger/{name}" for name in SHARED} <= served
    for name, text in modules.items():
        folder = name.rsplit("/", 1)[0] + "/" if "/" in name else ""
        for target in re.findall(r'from "(\.{1,2}/[^"]+)"', text):
            resolved: list[str] = []
            for part in (folder + target).split("/"):
                if part == "..":
                    resolved.pop()
                elif part not in (".", ""):
                    resolved.append(part)
            assert "/".join(resolved) in served, f"{name} imports {target}"
    # the shared modules' own imports stay among the shared ones
    for shared in SHARED:
        text = (MESSENGER / shared).read_text(encoding="utf-8")
        for target in re.findall(r'from "\./([^"]+)"', text):
            assert target in SHARED, f"messenger/{shared} imports {target}"


def test_every_string_the_scripts_show_reaches_the_catalogs() -> None:
    """Babel's JavaScript lexer loses its way in some template literals and then silently
    skips the rest of a file: every ``t("…")`` written must come out of the extraction, and
    have a German translation."""
    german = CATALOGS.get("de")
    for name, text in _sources(STATIC, (".js",)).items():
        written = set(re.findall(r'\bt\(\s*"((?:[^"\\]|\\.)*)"', text))
        written |= set(re.findall(r'\btn\(\s*"((?:[^"\\]|\\.)*)"', text))
        with (STATIC / name).open("rb") as source:
            found = extract("javascript", source, keywords={"t": None, "tn": (1, 2)})
            extracted = {m[1] if isinstance(m[1], str) else m[1][0] for m in found}
        assert written <= extracted, f"{name}: not extracted: {sorted(written - extracted)}"
        for msgid in written:
            assert msgid in german.script_messages, f"{name}: {msgid!r} has no German text"
