"""HTML mail bodies as plain text, with the standard library's tokenizer.

Why no third-party sanitiser: the result is plain text that every client shows as text (never
as markup), so nothing is "allowed through" that could need a policy — ``nh3`` / ``bleach``
clean HTML *to HTML*, and ``html2text`` writes Markdown. Walking the tokens ourselves keeps
exactly the text a reader sees: scripts, styles, the head, templates and hidden media vanish,
block elements become line breaks, links keep their target, entities are decoded.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

_SKIP = frozenset(
    {
        "script",
        "style",
        "head",
        "title",
        "template",
        "noscript",
        "svg",
        "math",
        "iframe",
        "object",
        "embed",
        "audio",
        "video",
        "canvas",
        "select",
        "button",
    }
)
_BLOCK = frozenset(
    {
        "p",
        "div",
        "section",
        "article",
        "header",
        "footer",
        "main",
        "aside",
        "nav",
        "table",
        "tr",
        "ul",
        "ol",
        "dl",
        "dt",
        "dd",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "pre",
        "hr",
        "address",
        "figure",
        "figcaption",
        "form",
        "fieldset",
        "center",
    }
)
_QUOTE_START, _QUOTE_END = "\x01", "\x02"
_SPACES = re.compile(r"[ \t\r\f\v\u00a0]+")


class _TextOf(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self._skip = 0
        self._pre = 0
        self._href: list[tuple[str | None, int]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self._skip += 1
        elif self._skip:
            return
        elif tag == "br":
            self.out.append("\n")
        elif tag == "li":
            self.out.append("\n• ")
        elif tag == "blockquote":
            self.out.append(f"\n{_QUOTE_START}")
        elif tag in _BLOCK:
            self.out.append("\n\n" if tag in ("p", "table", "ul", "ol", "pre") else "\n")
            if tag == "pre":
                self._pre += 1
            if tag == "hr":
                self.out.append("----\n")
        elif tag in ("td", "th"):
            self.out.append(" ")
        elif tag == "a":
            href = dict(attrs).get("href")
            self._href.append((href, len("".join(self.out))))
        elif tag == "img":
            alt = (dict(attrs).get("alt") or "").strip()
            if alt:
                self.out.append(f"[{alt}]")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _SKIP:  # <script/> opens nothing
            self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self._skip = max(0, self._skip - 1)
        elif self._skip:
            return
        elif tag == "blockquote":
            self.out.append(f"{_QUOTE_END}\n")
        elif tag in _BLOCK:
            self.out.append("\n\n" if tag in ("p", "table", "ul", "ol", "pre") else "\n")
            if tag == "pre":
                self._pre = max(0, self._pre - 1)
        elif tag == "a" and self._href:
            href, start = self._href.pop()
            label = "".join(self.out)[start:].strip()
            if href and href.startswith(("http://", "https://")) and href not in label:
                self.out.append(f" <{href}>")

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        self.out.append(data if self._pre else _SPACES.sub(" ", data.replace("\n", " ")))


def html_to_text(markup: str) -> str:
    """The text a reader sees in ``markup``; quoted blocks (``<blockquote>``) as ``>`` lines."""
    parser = _TextOf()
    parser.feed(markup)
    parser.close()
    raw = "".join(parser.out)
    lines: list[str] = []
    depth = 0
    for line in raw.split("\n"):
        prefix_depth = depth
        depth += line.count(_QUOTE_START) - line.count(_QUOTE_END)
        prefix_depth = max(prefix_depth, depth) if _QUOTE_START in line else prefix_depth
        text = line.replace(_QUOTE_START, "").replace(_QUOTE_END, "").strip()
        lines.append(("> " * prefix_depth + text).rstrip() if text else "")
    out = "\n".join(lines)
    out = re.sub(r"\n{3,}", "\n\n", out)
    return "".join(c for c in out if c.isprintable() or c in "\n\t").strip()
