"""Every string a person reads has a German translation; a forgotten one fails here.

The msgids are extracted from the sources as Babel sees them: Python (``gettext`` and
friends), Jinja2 templates (``_()``, ``{% trans %}``) and the messenger's ES modules
(``t("…")``, ``tn("…", "…", n)``). Run ``python -m tests.test_i18n`` to write new msgids into
the catalogs (existing translations are kept); then translate the empty German entries.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.pofile import read_po, write_po

from eyelevel.web.i18n import Catalogs, pick_language

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ROOT / "src" / "eyelevel"
LOCALE = SOURCES / "web" / "locale"
PAGES = [("**.py", "python"), ("**/templates/**.html", "jinja2.ext:babel_extract")]
SCRIPTS = [("**/static/**.js", "javascript")]
SCRIPT_KEYWORDS = {"t": None, "tn": (1, 2)}

HEADER = (
    "# eyelevel: the user interface in {lang}. Source strings are English msgids.\n"
    "# New strings: python -m tests.test_i18n, then translate the empty German entries."
)
Msgid = str | tuple[str, str]


def extract() -> Iterator[tuple[Msgid, str, int]]:
    """(msgid, source path relative to the repository, line) for every translatable string."""
    runs = [
        (PAGES, dict(DEFAULT_KEYWORDS), {"**/templates/**.html": {"trimmed": "true"}}),
        (SCRIPTS, SCRIPT_KEYWORDS, {}),
    ]
    for method_map, keywords, options in runs:
        for filename, lineno, message, _, _ in extract_from_dir(
            str(SOURCES), method_map, options, keywords=keywords
        ):
            msgid: Msgid = (message[0], message[1]) if isinstance(message, tuple) else message
            if msgid:
                yield msgid, f"src/eyelevel/{filename}", lineno


def _catalog_path(lang: str) -> Path:
    return LOCALE / lang / "LC_MESSAGES" / "messages.po"


def _read(lang: str) -> Catalog:
    with _catalog_path(lang).open("rb") as fp:
        return read_po(fp, locale=lang)


def update_catalogs() -> None:
    """Write the extracted msgids into both catalogs, keeping every existing translation."""
    for lang in ("de", "en"):
        old = _read(lang)
        new = Catalog(
            locale=lang,
            header_comment=HEADER.format(lang=lang),
            project="eyelevel",
            version="1",
            msgid_bugs_address="eyelevel issues",
            creation_date=old.creation_date,
            revision_date=old.creation_date,
            last_translator="eyelevel",
            language_team="eyelevel",
            fuzzy=False,
        )
        for msgid, path, line in extract():
            existing = old.get(msgid)
            string: str | tuple[str, ...] = ("", "") if isinstance(msgid, tuple) else ""
            if existing is not None and existing.string:
                string = existing.string
            present = new.get(msgid)
            if present is None:
                new.add(msgid, string, locations=[(path, line)])
            else:
                present.locations.append((path, line))
        with _catalog_path(lang).open("wb") as fp:
            write_po(fp, new, width=100, sort_output=True)


def test_every_string_has_a_german_translation() -> None:
    german = _read("de")
    missing = []
    for msgid, path, line in extract():
        message = german.get(msgid)
        strings = (
            []
            if message is None
            else list(message.string)
            if isinstance(message.string, tuple)
            else [message.string]
        )
        if message is None or message.fuzzy or not all(s.strip() for s in strings):
            missing.append(f"{path}:{line}: {msgid!r}")
    assert not missing, "untranslated (run python -m tests.test_i18n):\n" + "\n".join(missing)


def test_the_catalogs_hold_no_stale_strings() -> None:
    extracted = {msgid if isinstance(msgid, str) else msgid[0] for msgid, _, _ in extract()}
    for lang in ("de", "en"):
        stale = [
            m.id
            for m in _read(lang)
            if m.id and (m.id if isinstance(m.id, str) else m.id[0]) not in extracted
        ]
        assert not stale, f"{lang}: msgids no source uses: {stale}"


def test_the_extraction_sees_all_three_kinds_of_source() -> None:
    paths = {path for _, path, _ in extract()}
    assert any(p.endswith(".py") for p in paths)
    assert any(p.endswith(".html") for p in paths)
    assert any(p.endswith(".js") for p in paths)


def test_german_plurals_and_script_strings() -> None:
    de = Catalogs(LOCALE).get("de")
    assert de.gettext("Confirm now") == "Jetzt bestätigen"
    assert de.ngettext("{n} unread message", "{n} unread messages", 2) == (
        "{n} ungelesene Nachrichten"
    )
    assert '"Sent":' in de.for_scripts()
    assert "</" not in de.for_scripts()


def test_the_language_comes_from_query_cookie_header_or_english() -> None:
    assert pick_language(query="de", cookie="en", accept="en") == "de"
    assert pick_language(query="xx", cookie="de", accept="en") == "de"
    assert pick_language(query=None, cookie=None, accept="fr-FR,de;q=0.8,en;q=0.5") == "de"
    assert pick_language(query=None, cookie=None, accept="en;q=0.3,de;q=0.9") == "de"
    assert pick_language(query=None, cookie=None, accept="fr, it") == "en"
    assert pick_language(query=None, cookie=None, accept=None) == "en"


if __name__ == "__main__":
    update_catalogs()
