"""Full-text search over message bodies, one implementation per engine (migration 0004).

SQLite: the FTS5 table ``messages_fts`` (external content: the bodies stay in ``messages``;
rowid = message id), kept in sync by :func:`index_message_txn`, which ``SqlMessages.insert``
calls for every new message; bulk loaders call :func:`index_messages_txn` for a range of ids.
Every word the user typed becomes a quoted prefix term (``"rech"*``), so input is never parsed
as FTS5 syntax. The company filter joins ``messages`` by rowid.

PostgreSQL: the generated column ``messages.body_tsv`` (``to_tsvector('german', body)``) with
a GIN index, queried with ``websearch_to_tsquery('german', q)`` (German stemming:
"Rechnungen" finds "Rechnung"; the function never raises on user input) and ranked with
``ts_rank``. Which way the matches are read (a company's newest messages first, or every
match through the GIN index) is decided by a capped count first (see ``_pg_probe``).

Ranking: the newest :data:`RANKED` matches of the company are ranked by relevance (FTS5's
bm25, PostgreSQL's ``ts_rank``), best first. Ranking every match instead costs time in
proportion to how common the words are (200–450 ms for a word in a fifth of a million
messages, on either engine); a word that rare (fewer than :data:`RANKED` matches) is ranked
over all of them. In an inbox the recent conversations are the ones people look for, so the
bound costs little and keeps search within its 100 ms budget (docs/benchmark.md).

Snippets leave here as :class:`~eyelevel.core.ports.SnippetPart` segments, plain text and
never markup: PostgreSQL's ``ts_headline`` marks the matches with private-use characters that
are split on; on SQLite :func:`snippet_parts` cuts the excerpt from the body itself.

The search objects exist on one engine each and are not in ``schema.py``;
:func:`include_name` keeps them out of schema comparisons (Alembic autogenerate and
``tests/test_migrations.py``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import MutableMapping
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncConnection

from eyelevel.core.entities import MessageKind
from eyelevel.core.ids import CompanyId, ConversationId, CustomerId, MessageId
from eyelevel.core.ports import SearchHit, SnippetPart
from eyelevel.storage import schema as t
from eyelevel.storage.rows import Repo

FTS_TABLE = "messages_fts"
PG_COLUMN = "body_tsv"
PG_INDEX = "ix_messages_body_tsv"
PG_ORDER_INDEX = "ix_messages_company_newest"  # (company_id, id): a company's newest first
DENSE = 10_000  # PostgreSQL: a query matching this many messages is read newest first
MAX_TERMS = 8  # words of a query used; the rest are ignored (each one narrows the result)
RANKED = 2_000  # the newest matches that are ranked by relevance (see the module doc)

_START, _STOP = "\ue000", "\ue001"  # match markers: private-use characters, never markup
_LT = "\ue002"  # stands for "<" in PostgreSQL's ts_headline (see _PG_SEARCH)
_WORD = re.compile(r"[^\W_]+")  # letters and digits, as FTS5's unicode61 tokenizer splits
MIN_PREFIX = 3  # shorter words match whole words only
SNIPPET_TOKENS = 16


def include_name(name: str | None, type_: str, parent_names: MutableMapping[Any, Any]) -> bool:
    """Alembic ``include_name`` hook: False for the search index's engine-specific objects.

    FTS5 creates ``messages_fts`` and its shadow tables (``messages_fts_data``, ``_idx``,
    ``_docsize``, ``_config``) on SQLite; PostgreSQL has the column ``messages.body_tsv``, its
    GIN index and the ``(company_id, id)`` index frequent words are searched with. They are
    made by migration 0004 and managed here, not by ``schema.py``.
    """
    if name is None:
        return True
    if type_ == "table":
        return not (name == FTS_TABLE or name.startswith(FTS_TABLE + "_"))
    if type_ == "column":
        return not (parent_names.get("table_name") == "messages" and name == PG_COLUMN)
    if type_ == "index":
        return name not in (PG_INDEX, PG_ORDER_INDEX)
    return True


def query_words(query: str) -> list[str]:
    """The words of a query: runs of letters and digits, at most :data:`MAX_TERMS`."""
    return _WORD.findall(query)[:MAX_TERMS]


def fts5_query(words: list[str]) -> str | None:
    """The FTS5 MATCH expression for a query's words, or None when there are none.

    Each word is quoted (nothing the user types is syntax); words of :data:`MIN_PREFIX`
    characters or more match as prefixes, shorter ones as whole words (a one-letter prefix
    would expand to most of the vocabulary). All words must match (AND).
    """
    if not words:
        return None
    # a [^\W_]+ word has no quote to escape
    return " AND ".join(f'"{w}"*' if len(w) >= MIN_PREFIX else f'"{w}"' for w in words)


def fold(word: str) -> str:
    """Like FTS5's ``unicode61 remove_diacritics 2``: case-folded, without diacritics."""
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def snippet_parts(body: str, words: list[str]) -> tuple[SnippetPart, ...]:
    """An excerpt of ``body`` around the words (matched as :func:`fts5_query` does).

    Computed here rather than by FTS5's ``snippet()``, which sets up every prefix term's
    whole merged posting list again for each row (tens of ms per row for a common prefix).
    The window of :data:`SNIPPET_TOKENS` tokens with the most distinct matched words wins.
    """
    wanted = [(fold(w), len(w) >= MIN_PREFIX) for w in words]
    tokens = [(m.start(), m.end()) for m in _WORD.finditer(body)]
    if not tokens:
        return (SnippetPart(body, False),) if body else ()
    seen: dict[str, int] = {}
    hits: list[int] = []  # per token: the first query word it matches, or -1
    for start, end in tokens:
        tok = fold(body[start:end])
        if tok not in seen:
            seen[tok] = next(
                (i for i, (w, pre) in enumerate(wanted) if tok == w or (pre and tok.startswith(w))),
                -1,
            )
        hits.append(seen[tok])
    # slide the window: the first one with the most distinct matched words
    counts = [0] * len(wanted)
    distinct = 0
    best, best_distinct = 0, -1
    for k, h in enumerate(hits):
        if h >= 0:
            counts[h] += 1
            distinct += counts[h] == 1
        gone = k - SNIPPET_TOKENS
        if gone >= 0 and hits[gone] >= 0:
            counts[hits[gone]] -= 1
            distinct -= counts[hits[gone]] == 0
        first = max(0, gone + 1)
        if distinct > best_distinct:
            best, best_distinct = first, distinct
    # then centre the matches of that window in it
    inside = [k for k in range(best, min(len(hits), best + SNIPPET_TOKENS)) if hits[k] >= 0]
    if inside:
        lead = (SNIPPET_TOKENS - (inside[-1] - inside[0] + 1)) // 2
        best = max(0, min(inside[0] - lead, len(tokens) - SNIPPET_TOKENS))
    last = min(len(tokens), best + SNIPPET_TOKENS) - 1
    # the window grows to the text's edges when they are near (punctuation, a short lead)
    begin = 0 if best == 0 else tokens[best][0]
    finish = len(body) if last == len(tokens) - 1 else tokens[last][1]
    out: list[SnippetPart] = [SnippetPart("…", False)] if begin > 0 else []
    at = begin
    for k in range(best, last + 1):
        if hits[k] < 0:
            continue
        start, end = tokens[k]
        if start > at:
            out.append(SnippetPart(body[at:start], False))
        out.append(SnippetPart(body[start:end], True))
        at = end
    if finish > at:
        out.append(SnippetPart(body[at:finish], False))
    if finish < len(body):
        out.append(SnippetPart("…", False))
    return _merged(out)


def _merged(parts: list[SnippetPart]) -> tuple[SnippetPart, ...]:
    out: list[SnippetPart] = []
    for p in parts:
        if out and out[-1].match == p.match:
            out[-1] = SnippetPart(out[-1].text + p.text, p.match)
        else:
            out.append(p)
    return tuple(out)


def parts_of(marked: str) -> tuple[SnippetPart, ...]:
    """Split a snippet with marker characters (PostgreSQL's) into plain-text segments."""
    out: list[SnippetPart] = []
    match = False
    for piece in re.split(f"([{_START}{_STOP}])", marked):
        if piece == _START:
            match = True
        elif piece == _STOP:
            match = False
        elif piece:
            out.append(SnippetPart(piece, match))
    return _merged(out)


# -- SQLite ------------------------------------------------------------------------------------

_fts_insert = text("INSERT INTO messages_fts(rowid, body) VALUES (:p_id, :p_body)")
_fts_insert_range = text(
    "INSERT INTO messages_fts(rowid, body) "
    "SELECT id, body FROM messages WHERE id BETWEEN :p_first AND :p_last"
)
_fts_top = text(
    "SELECT id FROM ("
    "  SELECT f.rowid AS id, f.rank AS r FROM messages_fts AS f "
    "  JOIN messages AS m ON m.id = f.rowid "
    "  WHERE f.messages_fts MATCH :p_q AND m.company_id = :p_company_id "
    "  ORDER BY f.rowid DESC LIMIT :p_ranked"
    ") ORDER BY r, id DESC LIMIT :p_limit"
)


async def index_message_txn(conn: AsyncConnection, *, message_id: int, body: str) -> None:
    """Add one new message to the SQLite index (in the transaction that inserts it)."""
    await conn.execute(_fts_insert, {"p_id": message_id, "p_body": body})


async def index_messages_txn(conn: AsyncConnection, first_id: int, last_id: int) -> None:
    """Add the messages with ids ``first_id..last_id`` (just inserted in bulk) to the index."""
    await conn.execute(_fts_insert_range, {"p_first": first_id, "p_last": last_id})


# -- PostgreSQL --------------------------------------------------------------------------------

_HEADLINE_OPTIONS = (
    f'StartSel="{_START}", StopSel="{_STOP}", MaxWords=24, MinWords=10, '
    'MaxFragments=2, FragmentDelimiter=" … "'
)
# The plan is chosen here, not by PostgreSQL: its estimate for "a & b" assumes independent
# words, and words that occur together (as in real conversations) then look rare. A query
# that matches many messages is read walking the company's messages newest first (the
# (company_id, id) index; 20 ms for the newest 2,000 of 30,000 matches), any other through
# the GIN index (all its matches, so only when they are few: reading 30,000 matches that way
# takes 250 ms, and walking a company for a rare word reads all of its messages). A capped
# count over the GIN index and the visibility map (no rows read) tells which it is.
_pg_probe = text(
    "SELECT count(*) FROM (SELECT 1 FROM messages "
    "WHERE body_tsv @@ websearch_to_tsquery('german', :p_q) LIMIT :p_cap) AS probe"
)
_pg_newest_first = [
    text("SET LOCAL enable_bitmapscan = off"),
    text("SET LOCAL enable_seqscan = off"),
]
_pg_matches_first = [
    text("SET LOCAL enable_indexscan = off"),
    text("SET LOCAL enable_seqscan = off"),
]
_pg_planner_defaults = [
    text("RESET enable_bitmapscan"),
    text("RESET enable_indexscan"),
    text("RESET enable_seqscan"),
]


_PG_SEARCH = (
    # ts_headline drops what looks like an HTML tag: "<" goes in as a private-use character
    "SELECT top.id, ts_headline('german', replace(m.body, '<', '\ue002'), top.q, :p_options) "
    "AS snippet "
    "FROM ("
    "  SELECT id, q, ts_rank(body_tsv, q) AS r FROM ("
    "    SELECT id, body_tsv, q FROM messages, websearch_to_tsquery('german', :p_q) AS q "
    "    WHERE COMPANY_FILTER AND body_tsv @@ q "
    "    ORDER BY id DESC LIMIT :p_ranked"
    "  ) AS newest ORDER BY r DESC, id DESC LIMIT :p_limit"
    ") AS top JOIN messages AS m ON m.id = top.id "
    "ORDER BY top.r DESC, top.id DESC"
)


# newest first: along the (company_id, id) index; matches first: "+ 0" keeps that index out,
# so the only way in is the GIN index
_pg_search_newest_first = text(_PG_SEARCH.replace("COMPANY_FILTER", "company_id = :p_company_id"))
_pg_search_matches_first = text(
    _PG_SEARCH.replace("COMPANY_FILTER", "company_id + 0 = :p_company_id")
)


class SqlSearch(Repo):
    """Implements :class:`eyelevel.core.ports.SearchRepo`."""

    async def messages(self, company_id: CompanyId, query: str, limit: int) -> list[SearchHit]:
        if self._c.dialect.name == "postgresql":
            params = {
                "p_q": query,
                "p_company_id": company_id,
                "p_ranked": RANKED,
                "p_limit": limit,
                "p_options": _HEADLINE_OPTIONS,
            }
            dense = await self._dense(query)
            for stmt in _pg_newest_first if dense else _pg_matches_first:
                await self._c.execute(stmt)
            search = _pg_search_newest_first if dense else _pg_search_matches_first
            rows = await self._all(search.bindparams(**params))
            for stmt in _pg_planner_defaults:
                await self._c.execute(stmt)
            snippets: dict[int, str | None] = {
                int(r.id): str(r.snippet).replace(_LT, "<") for r in rows
            }
            return await self._hits(company_id, snippets)
        words = query_words(query)
        match = fts5_query(words)
        if match is None:
            return []
        params = {"p_q": match, "p_company_id": company_id, "p_ranked": RANKED, "p_limit": limit}
        top = [int(r.id) for r in await self._all(_fts_top.bindparams(**params))]
        return await self._hits(company_id, dict.fromkeys(top), words)

    async def _dense(self, query: str) -> bool:
        """PostgreSQL: does the query match at least :data:`DENSE` messages (any company)?"""
        n = (await self._c.execute(_pg_probe, {"p_q": query, "p_cap": DENSE})).scalar()
        return int(n or 0) >= DENSE

    async def _hits(
        self,
        company_id: CompanyId,
        snippets: dict[int, str | None],
        words: list[str] | None = None,
    ) -> list[SearchHit]:
        """The messages (best first, as ``snippets`` is ordered) with their customers; a
        snippet that is None is made from the body and ``words``."""
        if not snippets:
            return []
        m, c, cu = t.messages.c, t.conversations.c, t.customers.c
        columns = [m.id, m.conversation_id, m.seq, m.kind, m.created_at, c.customer_id]
        if words is not None:
            columns.append(m.body)
        rows = await self._all(
            select(*columns)
            .add_columns(cu.display_name)
            .join_from(t.messages, t.conversations, c.id == m.conversation_id)
            .join(t.customers, cu.id == c.customer_id)
            .where(
                m.company_id == company_id,
                m.id.in_(list(snippets)),
                c.restricted_at.is_(None),  # restricted: found by no search (docs/privacy.md)
            )
        )
        found = {int(r.id): r for r in rows}
        return [
            SearchHit(
                message_id=MessageId(mid),
                conversation_id=ConversationId(r.conversation_id),
                seq=r.seq,
                kind=MessageKind(r.kind),
                parts=parts_of(marked)
                if marked is not None
                else snippet_parts(r.body, words or []),
                created_at=r.created_at,
                customer_id=CustomerId(r.customer_id),
                customer_name=r.display_name,
            )
            for mid, marked in snippets.items()
            if (r := found.get(mid)) is not None
        ]
