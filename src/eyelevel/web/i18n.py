"""German and English for every page: gettext catalogs, the language choice, Jinja2 wiring.

The catalogs are the ``.po`` files under ``web/locale/<lang>/LC_MESSAGES/messages.po``; they
are read once when this module is imported (``read_po``) and compiled in memory, so an install
needs no compile step. Source strings are English msgids; ``en`` is the fallback for anything
untranslated. Pages in ``web`` and ``channels`` both use this module.

The language of a request: ``?lang=`` (the widget iframe, whose third-party cookies a browser
may drop), else the ``lang`` cookie the language switcher sets, else ``Accept-Language``, else
English.

Scripts get their strings from :meth:`Translator.for_scripts`, embedded in the page as JSON
(``<script type="application/json" id="i18n">``), and look them up with ``t("English text")``.
To refresh the catalogs after changing strings run ``python -m tests.test_i18n``; the test of
the same name fails while any msgid lacks a German translation.
"""

from __future__ import annotations

import gettext as _gettext_module
import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import jinja2
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from starlette.requests import Request

LANGUAGES = ("en", "de")
DEFAULT_LANGUAGE = "en"
LANG_COOKIE = "lang"
SCRIPT_SUFFIXES = (".js",)


@dataclass(frozen=True)
class Translator:
    """One language's catalog: gettext for pages, a JSON-ready subset for scripts."""

    lang: str
    translations: _gettext_module.NullTranslations
    script_messages: Mapping[str, str | list[str]]

    def gettext(self, message: str) -> str:
        return self.translations.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.translations.ngettext(singular, plural, n)

    def for_scripts(self) -> str:
        """The strings the ES modules use, as JSON safe to embed in a ``<script>`` element."""
        text = json.dumps(dict(self.script_messages), ensure_ascii=False, sort_keys=True)
        return _script_safe(text)


def _script_safe(text: str) -> str:
    """JSON that cannot end its ``<script>`` element or open a comment inside it."""
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def script_json(value: Any) -> str:
    """Any JSON value, safe to embed in a ``<script type="application/json">`` element."""
    return _script_safe(json.dumps(value, ensure_ascii=False, separators=(",", ":")))


def _used_by_scripts(locations: Sequence[tuple[str, int | None]]) -> bool:
    return any(path.endswith(SCRIPT_SUFFIXES) for path, _ in locations)


def _translator(lang: str, catalog: Catalog) -> Translator:
    compiled = io.BytesIO()
    write_mo(compiled, catalog)
    compiled.seek(0)
    translations = Translations(fp=compiled)
    scripts: dict[str, str | list[str]] = {}
    for message in catalog:
        if not message.id or not _used_by_scripts(message.locations):
            continue
        if isinstance(message.id, str):
            if message.string:
                scripts[message.id] = str(message.string)
            continue
        forms = [str(s) for s in message.string or ()]
        if forms and all(forms):
            scripts[str(message.id[0])] = forms
    return Translator(lang=lang, translations=translations, script_messages=scripts)


class Catalogs:
    """All languages, read from ``<directory>/<lang>/LC_MESSAGES/messages.po``."""

    def __init__(self, directory: Traversable | Path) -> None:
        self._by_lang: dict[str, Translator] = {}
        for lang in LANGUAGES:
            source = directory / lang / "LC_MESSAGES" / "messages.po"
            with source.open("rb") as fp:
                catalog = read_po(fp, locale=lang)
            self._by_lang[lang] = _translator(lang, catalog)

    def get(self, lang: str) -> Translator:
        return self._by_lang.get(lang, self._by_lang[DEFAULT_LANGUAGE])


CATALOGS = Catalogs(files("eyelevel.web") / "locale")


def _accepted(header: str) -> list[str]:
    """Language codes of an ``Accept-Language`` header, most preferred first."""
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")[:20]):
        code, _, params = part.strip().partition(";")
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                quality = 0.0
        if code and quality > 0:
            ranked.append((-quality, index, code.strip().lower()[:2]))
    return [code for _, _, code in sorted(ranked)]


def pick_language(*, query: str | None, cookie: str | None, accept: str | None) -> str:
    for choice in (query, cookie):
        if choice in LANGUAGES:
            return choice
    for code in _accepted(accept or ""):
        if code in LANGUAGES:
            return code
    return DEFAULT_LANGUAGE


def language_of(request: Request) -> str:
    return pick_language(
        query=request.query_params.get("lang"),
        cookie=request.cookies.get(LANG_COOKIE),
        accept=request.headers.get("accept-language"),
    )


def translator_for(request: Request) -> Translator:
    return CATALOGS.get(language_of(request))


@jinja2.pass_context
def _context_gettext(context: jinja2.runtime.Context, message: str) -> str:
    translator: Translator = context["translator"]
    return translator.gettext(message)


@jinja2.pass_context
def _context_ngettext(context: jinja2.runtime.Context, singular: str, plural: str, n: int) -> str:
    translator: Translator = context["translator"]
    return translator.ngettext(singular, plural, n)


def template_environment(directory: Traversable | Path) -> jinja2.Environment:
    """Autoescaping templates with ``{% trans %}``, ``_()``, ``gettext`` and ``ngettext``.

    The gettext callables read the :class:`Translator` passed to :func:`render`, so one
    environment serves every language at once.
    """
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(directory)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(  # type: ignore[attr-defined]
        _context_gettext, _context_ngettext, newstyle=True
    )
    return env


def render(env: jinja2.Environment, name: str, translator: Translator, **context: Any) -> str:
    return env.get_template(name).render(translator=translator, lang=translator.lang, **context)
