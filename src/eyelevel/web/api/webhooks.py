"""Webhook endpoints of a company (admins): create, change, rotate, delete, test, replay, log.

The signing secret is in the answer of ``POST …/webhooks`` and ``POST …/rotate`` only.
See docs/webhooks.md for receivers.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, status
from pydantic import AwareDatetime, ConfigDict, Field

from eyelevel.core.actions import webhooks
from eyelevel.core.entities import Scope
from eyelevel.core.webhooks import (
    EVENT_TYPES,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEndpointId,
)
from eyelevel.web.api.companies import Slug
from eyelevel.web.auth import CurrentPrincipal, Svc
from eyelevel.web.schemas import ERRORS, In, Out
from eyelevel.web.scopes import needs

router = APIRouter(prefix="/api/v1/companies", tags=["webhooks"], responses=ERRORS)
EndpointPath = Annotated[int, Path(ge=1, le=2**62, description="webhook endpoint id")]
EventTypes = list[Annotated[str, Field(max_length=60)]]


class WebhookIn(In):
    url: str = Field(max_length=2100, examples=["https://crm.example.com/hooks/eyelevel"])
    description: str = Field(default="", max_length=1000, description="≤ 500 characters")
    event_types: EventTypes = Field(
        max_length=20, examples=[list(EVENT_TYPES)], description="one or more of the event types"
    )
    include_notes: bool = Field(
        default=False, description="also send message.created for private notes"
    )
    enabled: bool = True


class WebhookPatchIn(In):
    model_config = ConfigDict(json_schema_extra={"examples": [{"enabled": False}]})

    url: str | None = Field(default=None, max_length=2100)
    description: str | None = Field(default=None, max_length=1000)
    event_types: EventTypes | None = Field(default=None, max_length=20)
    include_notes: bool | None = None
    enabled: bool | None = None


class ReplayIn(In):
    """One delivery (``delivery_id``) or every delivery created in a time range."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"since": "2026-12-01T00:00:00Z", "until": "2026-12-02T00:00:00Z"}]
        }
    )

    delivery_id: int | None = Field(default=None, ge=1, le=2**62)
    since: AwareDatetime | None = Field(default=None, strict=False)
    until: AwareDatetime | None = Field(default=None, strict=False)


class WebhookOut(Out):
    id: int
    url: str
    description: str
    event_types: list[str]
    include_notes: bool
    enabled: bool
    disabled_reason: str | None = Field(description="admin, gone (410) or failing")
    failing_since: datetime | None
    previous_secret_valid_until: datetime | None = Field(
        description="while set and in the future, deliveries carry both signatures"
    )
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, e: WebhookEndpoint) -> WebhookOut:
        return cls(
            id=e.id,
            url=e.url,
            description=e.description,
            event_types=list(e.event_types),
            include_notes=e.include_notes,
            enabled=e.enabled,
            disabled_reason=e.disabled_reason,
            failing_since=e.failing_since,
            previous_secret_valid_until=e.previous_secret_until,
            created_at=e.created_at,
            updated_at=e.updated_at,
        )


class WebhookSecretOut(WebhookOut):
    secret: str = Field(description="whsec_…: shown this once; verify signatures with it")

    @classmethod
    def with_secret(cls, e: WebhookEndpoint) -> WebhookSecretOut:
        return cls(**WebhookOut.of(e).model_dump(), secret=e.secret)


class AttemptOut(Out):
    attempted_at: datetime
    status_code: int | None
    latency_ms: int
    response: str = Field(description="the first bytes (≤ 1 KB) of the response body")
    error: str | None = Field(description="timeout, connect_error, address_forbidden, …")

    @classmethod
    def of(cls, a: WebhookAttempt) -> AttemptOut:
        return cls(
            attempted_at=a.attempted_at,
            status_code=a.status_code,
            latency_ms=a.latency_ms,
            response=a.response,
            error=a.error,
        )


class DeliveryOut(Out):
    id: int
    msg_id: str = Field(description="the webhook-id header")
    event_type: str
    state: str = Field(description="pending, succeeded or failed")
    attempts: int
    next_attempt_at: datetime | None
    created_at: datetime
    attempt_log: list[AttemptOut] = Field(description="the latest attempts, newest first")

    @classmethod
    def of(cls, d: WebhookDelivery) -> DeliveryOut:
        return cls(
            id=d.id,
            msg_id=d.msg_id,
            event_type=d.event_type,
            state=d.state,
            attempts=d.attempts,
            next_attempt_at=d.next_attempt_at,
            created_at=d.created_at,
            attempt_log=[AttemptOut.of(a) for a in d.attempt_log],
        )


class DeliveryPage(Out):
    items: list[DeliveryOut]


class ReplayOut(Out):
    replayed: int


@router.get(
    "/{slug}/webhooks",
    summary="The company's webhook endpoints (admins)",
    openapi_extra=needs(Scope.WEBHOOKS_MANAGE),
)
async def list_webhooks(slug: Slug, svc: Svc, principal: CurrentPrincipal) -> list[WebhookOut]:
    return [WebhookOut.of(e) for e in await webhooks.list_endpoints(svc.ctx, principal, slug)]


@router.post(
    "/{slug}/webhooks",
    status_code=status.HTTP_201_CREATED,
    summary="Register a webhook endpoint (admins); the answer holds its secret, once",
    openapi_extra=needs(Scope.WEBHOOKS_MANAGE),
)
async def create_webhook(
    slug: Slug, body: WebhookIn, svc: Svc, principal: CurrentPrincipal
) -> WebhookSecretOut:
    """The URL must be ``https`` and resolve only to public addresses
    (``webhook_url_forbidden`` otherwise); unknown event types: ``invalid_event_type``."""
    endpoint = await webhooks.check_create_endpoint(
        svc.ctx,
        principal,
        slug,
        url=body.url,
        description=body.description,
        event_types=body.event_types,
        include_notes=body.include_notes,
        enabled=body.enabled,
    )
    return WebhookSecretOut.with_secret(endpoint)


@router.get(
    "/{slug}/webhooks/{endpoint_id}",
    summary="One webhook endpoint (admins)",
    openapi_extra=needs(Scope.WEBHOOKS_MANAGE),
)
async def get_webhook(
    slug: Slug, endpoint_id: EndpointPath, svc: Svc, principal: CurrentPrincipal
) -> WebhookOut:
    endpoint = await webhooks.get_endpoint(svc.ctx, principal, slug, WebhookEndpointId(endpoint_id))
    return WebhookOut.of(endpoint)


@router.patch(
    "/{slug}/webhooks/{endpoint_id}",
    summary="Change a webhook endpoint (admins)",
    openapi_extra=needs(Scope.WEBHOOKS_MANAGE),
)
async def update_webhook(
    slug: Slug,
    endpoint_id: EndpointPath,
    body: WebhookPatchIn,
    svc: Svc,
    principal: CurrentPrincipal,
) -> WebhookOut:
    """Only the fields sent change; ``enabled: true`` also re-enables a disabled endpoint."""
    endpoint = await webhooks.check_update_endpoint(
        svc.ctx,
        principal,
        slug,
        WebhookEndpointId(endpoint_id),
        url=body.url,
        description=body.description,
        event_types=body.event_types,
        include_notes=body.include_notes,
        enabled=body.enabled,
    )
    return WebhookOut.of(endpoint)


@router.delete(
    "/{slug}/webhooks/{endpoint_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Delete a webhook endpoint and its delivery log (admins)",
    openapi_extra=needs(Scope.WEBHOOKS_MANAGE),
)
async def delete_webhook(
    slug: Slug, endpoint_id: EndpointPath, svc: Svc, principal: CurrentPrincipal
) -> None:
    await webhooks.check_delete_endpoint(svc.ctx, principal, slug, WebhookEndpointId(endpoint_id))


@router.post(
    "/{slug}/webhooks/{endpoint_id}/rotate",
    summary="Rotate the signing secret (admins); the old one signs beside it for 24 hours",
    openapi_extra=needs(Scope.WEBHOOKS_MANAGE),
)
async def rotate_webhook_secret(
    slug: Slug, endpoint_id: EndpointPath, svc: Svc, principal: CurrentPrincipal
) -> WebhookSecretOut:
    endpoint = await webhooks.check_rotate_secret(
        svc.ctx, principal, slug, WebhookEndpointId(endpoint_id)
    )
    return WebhookSecretOut.with_secret(endpoint)


@router.post(
    "/{slug}/webhooks/{endpoint_id}/test",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Send a webhook.test message (admins)",
    openapi_extra=needs(Scope.WEBHOOKS_MANAGE),
)
async def test_webhook(
    slug: Slug, endpoint_id: EndpointPath, svc: Svc, principal: CurrentPrincipal
) -> DeliveryOut:
    delivery = await webhooks.check_send_test(
        svc.ctx, principal, slug, WebhookEndpointId(endpoint_id)
    )
    return DeliveryOut.of(delivery)


@router.post(
    "/{slug}/webhooks/{endpoint_id}/replay",
    status_code=status.HTTP_202_ACCEPTED,
    summary="Send one delivery, or those of a time range, again (admins)",
    openapi_extra=needs(Scope.WEBHOOKS_MANAGE),
)
async def replay_webhooks(
    slug: Slug,
    endpoint_id: EndpointPath,
    body: ReplayIn,
    svc: Svc,
    principal: CurrentPrincipal,
) -> ReplayOut:
    """Same ``webhook-id`` and body as before; deliveries still pending are left alone."""
    replayed = await webhooks.check_replay(
        svc.ctx,
        principal,
        slug,
        WebhookEndpointId(endpoint_id),
        delivery_id=body.delivery_id,
        since=body.since,
        until=body.until,
    )
    return ReplayOut(replayed=replayed)


@router.get(
    "/{slug}/webhooks/{endpoint_id}/deliveries",
    summary="The delivery log, newest first (admins)",
    openapi_extra=needs(Scope.WEBHOOKS_MANAGE),
)
async def list_deliveries(
    slug: Slug,
    endpoint_id: EndpointPath,
    svc: Svc,
    principal: CurrentPrincipal,
    before_id: Annotated[int | None, Query(ge=1, le=2**62)] = None,
    limit: Annotated[int, Query(ge=1, le=webhooks.MAX_PAGE)] = 50,
) -> DeliveryPage:
    items = await webhooks.list_deliveries(
        svc.ctx, principal, slug, WebhookEndpointId(endpoint_id), before_id=before_id, limit=limit
    )
    return DeliveryPage(items=[DeliveryOut.of(d) for d in items])
