"""Which API-token scope each operation needs: declared on its route, checked in one place.

A route that API tokens may call says so in its decorator, ``openapi_extra=needs(Scope.X)``
(or ``any_token()`` for what every token may do, such as ``GET /auth/me``); the declaration is
also published in the OpenAPI document as ``x-token-scope``. ``web.auth.caller`` checks it for
every token-authenticated request: a route without a declaration is closed to tokens (``403
forbidden``), a token without the declared scope gets ``403 insufficient_scope`` naming it.
Sessions (customers, agents) are not affected: their roles decide, as before.
"""

from __future__ import annotations

from typing import Any, TypeVar

from eyelevel.core.entities import Scope
from eyelevel.core.errors import DomainError, ErrorCode
from eyelevel.core.principals import Principal, TokenPrincipal

TOKEN_SCOPE = "x-token-scope"  # noqa: S105 - an OpenAPI extension name
ANY_TOKEN = "any"  # noqa: S105 - a declaration, not a secret


def needs(scope: Scope) -> dict[str, Any]:
    """``openapi_extra`` of a route that a token with ``scope`` may call."""
    return {TOKEN_SCOPE: scope.value}


def any_token() -> dict[str, Any]:
    """``openapi_extra`` of a route that every token may call, whatever its scopes."""
    return {TOKEN_SCOPE: ANY_TOKEN}


def declared_scope(route: object) -> str | None:
    """The route's declaration: a scope's value, ``ANY_TOKEN``, or None (closed to tokens)."""
    extra = getattr(route, "openapi_extra", None) or {}
    value = extra.get(TOKEN_SCOPE)
    return value if isinstance(value, str) else None


T = TypeVar("T")


def customer_data(principal: Principal, data: T | None) -> T | None:
    """Customer data inside another answer (a conversation's customer panel): a token sees it
    only with ``customers:read``; everyone else as their role and the customer's grants say."""
    if isinstance(principal, TokenPrincipal) and Scope.CUSTOMERS_READ not in principal.scopes:
        return None
    return data


def require_scope(principal: TokenPrincipal, declared: str | None) -> None:
    """Refuse a token the declaration does not let in."""
    if declared is None:
        raise DomainError(ErrorCode.FORBIDDEN, "API tokens cannot use this operation")
    if declared == ANY_TOKEN or declared in {s.value for s in principal.scopes}:
        return
    raise DomainError(
        ErrorCode.INSUFFICIENT_SCOPE,
        f"this API token lacks the scope {declared}",
        extra={"scope": declared},
    )
