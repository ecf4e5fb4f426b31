"""``GET /api/v1/companies/{slug}/search``: full-text search for company members."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import Field

from eyelevel.core.actions.search import MAX_QUERY_CHARS, MAX_RESULTS, search_messages
from eyelevel.core.entities import Scope
from eyelevel.core.ports import SearchHit
from eyelevel.web.auth import CurrentPrincipal, Svc
from eyelevel.web.schemas import ERRORS, Out
from eyelevel.web.scopes import needs

router = APIRouter(prefix="/api/v1/companies", tags=["search"], responses=ERRORS)
Slug = Annotated[str, Path(max_length=50, pattern=r"^[a-z0-9-]+$")]


class SnippetPartOut(Out):
    text: str
    match: bool = Field(description="this piece matched the query (render it highlighted)")


class CustomerRefOut(Out):
    id: int
    name: str


class SearchHitOut(Out):
    conversation_id: int
    seq: int
    kind: str = Field(description="customer | agent | note | bot | system")
    snippet: str = Field(description="an excerpt of the message, plain text")
    parts: list[SnippetPartOut] = Field(
        description="the same excerpt in pieces; those that matched have match=true. Plain "
        "text: insert as text, never as HTML"
    )
    created_at: datetime
    customer: CustomerRefOut

    @classmethod
    def of(cls, hit: SearchHit) -> SearchHitOut:
        return cls(
            conversation_id=hit.conversation_id,
            seq=hit.seq,
            kind=hit.kind.value,
            snippet="".join(p.text for p in hit.parts),
            parts=[SnippetPartOut(text=p.text, match=p.match) for p in hit.parts],
            created_at=hit.created_at,
            customer=CustomerRefOut(id=hit.customer_id, name=hit.customer_name),
        )


class SearchOut(Out):
    items: list[SearchHitOut]


@router.get(
    "/{slug}/search",
    summary="Search the company's messages and notes (members)",
    openapi_extra=needs(Scope.CONVERSATIONS_READ),
)
async def search(
    slug: Slug,
    svc: Svc,
    principal: CurrentPrincipal,
    q: Annotated[str, Query(min_length=1, max_length=MAX_QUERY_CHARS)],
    limit: Annotated[int, Query(ge=1, le=MAX_RESULTS)] = 20,
) -> SearchOut:
    """Best match first. SQLite matches each word as a prefix ("Rech" finds "Rechnung");
    PostgreSQL matches German word forms ("Rechnungen" finds "Rechnung") and understands
    "quoted phrases", `or` and `-word`. The newest 2,000 matches are ranked by relevance."""
    hits = await search_messages(svc.ctx, principal, slug, q, limit=limit)
    return SearchOut(items=[SearchHitOut.of(h) for h in hits])
