"""Full-text search over a company's messages, for its members (notes included).

A read, but it lives with the actions because it is authorized like one: the company comes
from the path and the caller must be a member (``access_company_txn``); customers and other
companies' staff get the same 404 as for a company that does not exist.
"""

from __future__ import annotations

from eyelevel.core.actions.access import access_company_txn
from eyelevel.core.entities import Role
from eyelevel.core.errors import DomainError, ErrorCode
from eyelevel.core.ports import Context, SearchHit, UnitOfWork
from eyelevel.core.principals import Principal

MAX_QUERY_CHARS = 200
MAX_RESULTS = 50


async def search_messages(
    ctx: Context, principal: Principal, slug: str, query: str, *, limit: int = 20
) -> list[SearchHit]:
    """The company's messages matching ``query``, best match first (see storage/search.py).

    The query is plain words: on SQLite each is matched as a prefix, on PostgreSQL by its
    German stem (and ``"a phrase"``, ``or`` and ``-word`` work there as in web searches).
    Nothing in it is passed on as query syntax the user could break.
    """
    # control characters (NUL among them, which PostgreSQL refuses in any text) separate words
    text = "".join(ch if ch.isprintable() else " " for ch in query).strip()
    if not text or len(text) > MAX_QUERY_CHARS:
        raise DomainError(
            ErrorCode.VALIDATION, f"the query must be 1 to {MAX_QUERY_CHARS} characters", field="q"
        )
    limit = max(1, min(limit, MAX_RESULTS))

    async def read(uow: UnitOfWork) -> list[SearchHit]:
        company = await access_company_txn(uow, principal, slug, Role.AGENT)
        return await uow.search.messages(company.id, text, limit)

    return await ctx.db.read(read)
