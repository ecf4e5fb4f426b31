"""Webhook endpoints (company admins), the relay from the event stream, replay and test.

How events become deliveries (at least once, events after commit, only actions write):
the relay (:func:`relay_events`, run by every worker loop) is a consumer of the ``events``
table with a durable position (``stream_cursors``). In one transaction it locks the cursor,
reads the committed events after it, inserts a delivery and a ``webhook.deliver`` job for each
event and matching enabled endpoint, and moves the cursor past them. Stream positions become
visible in increasing order (see docs/design.md), so nothing behind the cursor can appear
later; a crash before the commit leaves the cursor where it was and the batch is relayed
again. The writing actions (messages, conversations) stay as they were: they append events,
and a slow or missing receiver never touches their transaction. An endpoint gets only events
after its creation (``start_pos``), however far behind the relay is.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from eyelevel.core.actions.access import access_company_txn
from eyelevel.core.actions.audit import audit_txn
from eyelevel.core.entities import Event, Role
from eyelevel.core.errors import DomainError, ErrorCode, not_found
from eyelevel.core.events import EventType
from eyelevel.core.ids import CompanyId, ConversationId, CustomerId, EventPos
from eyelevel.core.ports import Context, UnitOfWork
from eyelevel.core.principals import Principal
from eyelevel.core.rules.sharing import SharedCustomer
from eyelevel.core.webhooks import (
    EVENT_TYPES,
    ROTATION_OVERLAP,
    TEST_EVENT,
    DeliveryState,
    WebhookDelivery,
    WebhookDeliveryId,
    WebhookEndpoint,
    WebhookEndpointId,
    new_msg_id,
    new_secret,
    ping_payload,
    wants,
    webhook_payload,
)

DELIVER = "webhook.deliver"
MAX_ENDPOINTS = 20
MAX_DESCRIPTION = 500
RELAY_BATCH = 500
MAX_PAGE = 100
MAX_REPLAY = 1000


def check_event_types(types: Sequence[str]) -> tuple[str, ...]:
    unknown = [t for t in types if t not in EVENT_TYPES]
    if unknown or not types:
        raise DomainError(
            ErrorCode.INVALID_EVENT_TYPE,
            "event_types must name at least one of: " + ", ".join(EVENT_TYPES),
            field="event_types",
        )
    return tuple(t for t in EVENT_TYPES if t in types)


def check_description(description: str) -> str:
    description = " ".join(description.split())
    if len(description) > MAX_DESCRIPTION:
        raise DomainError(
            ErrorCode.VALIDATION,
            f"description has at most {MAX_DESCRIPTION} characters",
            field="description",
        )
    return description


async def access_endpoint_txn(
    uow: UnitOfWork, principal: Principal, slug: str, endpoint_id: WebhookEndpointId
) -> WebhookEndpoint:
    company = await access_company_txn(uow, principal, slug, Role.ADMIN)
    endpoint = await uow.webhooks.endpoint(company.id, endpoint_id)
    if endpoint is None:
        raise not_found("webhook")
    return endpoint


async def list_endpoints(ctx: Context, principal: Principal, slug: str) -> list[WebhookEndpoint]:
    async def read(uow: UnitOfWork) -> list[WebhookEndpoint]:
        company = await access_company_txn(uow, principal, slug, Role.ADMIN)
        return await uow.webhooks.endpoints_of(company.id)

    return await ctx.db.read(read)


async def get_endpoint(
    ctx: Context, principal: Principal, slug: str, endpoint_id: WebhookEndpointId
) -> WebhookEndpoint:
    async def read(uow: UnitOfWork) -> WebhookEndpoint:
        return await access_endpoint_txn(uow, principal, slug, endpoint_id)

    return await ctx.db.read(read)


async def check_create_endpoint(
    ctx: Context,
    principal: Principal,
    slug: str,
    *,
    url: str,
    description: str,
    event_types: Sequence[str],
    include_notes: bool,
    enabled: bool,
) -> WebhookEndpoint:
    """The new endpoint with its secret (shown this once by the API)."""
    types = check_event_types(event_types)
    description = check_description(description)

    async def authorize(uow: UnitOfWork) -> None:
        await access_company_txn(uow, principal, slug, Role.ADMIN)

    await ctx.db.read(authorize)  # an outsider learns nothing from the URL check
    url = await ctx.webhooks.check_url(url)

    async def txn(uow: UnitOfWork) -> WebhookEndpoint:
        company = await access_company_txn(uow, principal, slug, Role.ADMIN)
        if len(await uow.webhooks.endpoints_of(company.id)) >= MAX_ENDPOINTS:
            raise DomainError(
                ErrorCode.CONFLICT, f"a company has at most {MAX_ENDPOINTS} webhook endpoints"
            )
        now = ctx.clock.now()
        head = await uow.events.head()
        await uow.webhooks.ensure_cursor(head)
        endpoint = await uow.webhooks.create_endpoint(
            {
                "company_id": company.id,
                "url": url,
                "description": description,
                "event_types": list(types),
                "include_notes": include_notes,
                "enabled": enabled,
                "disabled_reason": None if enabled else "admin",
                "secret": new_secret(),
                "start_pos": head,
                "created_at": now,
                "updated_at": now,
            }
        )
        await audit_txn(
            uow,
            principal,
            company.id,
            "webhook.created",
            target=f"webhook:{endpoint.id}",
            data={"url": url, "event_types": list(types), "enabled": enabled},
            now=now,
        )
        return endpoint

    return await ctx.db.write("create_webhook", txn)


async def check_update_endpoint(
    ctx: Context,
    principal: Principal,
    slug: str,
    endpoint_id: WebhookEndpointId,
    *,
    url: str | None = None,
    description: str | None = None,
    event_types: Sequence[str] | None = None,
    include_notes: bool | None = None,
    enabled: bool | None = None,
) -> WebhookEndpoint:
    types = None if event_types is None else check_event_types(event_types)
    description = None if description is None else check_description(description)

    async def authorize(uow: UnitOfWork) -> None:
        await access_endpoint_txn(uow, principal, slug, endpoint_id)

    await ctx.db.read(authorize)
    if url is not None:
        url = await ctx.webhooks.check_url(url)

    async def txn(uow: UnitOfWork) -> WebhookEndpoint:
        endpoint = await access_endpoint_txn(uow, principal, slug, endpoint_id)
        values: dict[str, object] = {}
        if url is not None and url != endpoint.url:
            values["url"] = url
        if description is not None and description != endpoint.description:
            values["description"] = description
        if types is not None and types != endpoint.event_types:
            values["event_types"] = list(types)
        if include_notes is not None and include_notes != endpoint.include_notes:
            values["include_notes"] = include_notes
        if enabled is not None and enabled != endpoint.enabled:
            values["enabled"] = enabled
            values["disabled_reason"] = None if enabled else "admin"
            values["failing_since"] = None
        if not values:
            return endpoint
        now = ctx.clock.now()
        values["updated_at"] = now
        await uow.webhooks.update_endpoint(endpoint.company_id, endpoint.id, values)
        await audit_txn(
            uow,
            principal,
            endpoint.company_id,
            "webhook.updated",
            target=f"webhook:{endpoint.id}",
            data={"fields": sorted(k for k in values if k not in ("updated_at",))},
            now=now,
        )
        fresh = await uow.webhooks.endpoint(endpoint.company_id, endpoint.id)
        assert fresh is not None
        return fresh

    return await ctx.db.write("update_webhook", txn)


async def check_rotate_secret(
    ctx: Context, principal: Principal, slug: str, endpoint_id: WebhookEndpointId
) -> WebhookEndpoint:
    """A new secret; the old one keeps signing (beside it) for :data:`ROTATION_OVERLAP`."""

    async def txn(uow: UnitOfWork) -> WebhookEndpoint:
        endpoint = await access_endpoint_txn(uow, principal, slug, endpoint_id)
        now = ctx.clock.now()
        await uow.webhooks.update_endpoint(
            endpoint.company_id,
            endpoint.id,
            {
                "secret": new_secret(),
                "previous_secret": endpoint.secret,
                "previous_secret_until": now + ROTATION_OVERLAP,
                "updated_at": now,
            },
        )
        await audit_txn(
            uow,
            principal,
            endpoint.company_id,
            "webhook.secret_rotated",
            target=f"webhook:{endpoint.id}",
            now=now,
        )
        fresh = await uow.webhooks.endpoint(endpoint.company_id, endpoint.id)
        assert fresh is not None
        return fresh

    return await ctx.db.write("rotate_webhook_secret", txn)


async def check_delete_endpoint(
    ctx: Context, principal: Principal, slug: str, endpoint_id: WebhookEndpointId
) -> None:
    async def txn(uow: UnitOfWork) -> None:
        endpoint = await access_endpoint_txn(uow, principal, slug, endpoint_id)
        await uow.webhooks.delete_endpoint(endpoint.company_id, endpoint.id)
        await audit_txn(
            uow,
            principal,
            endpoint.company_id,
            "webhook.deleted",
            target=f"webhook:{endpoint.id}",
            data={"url": endpoint.url},
            now=ctx.clock.now(),
        )

    await ctx.db.write("delete_webhook", txn)


async def list_deliveries(
    ctx: Context,
    principal: Principal,
    slug: str,
    endpoint_id: WebhookEndpointId,
    *,
    before_id: int | None,
    limit: int,
) -> list[WebhookDelivery]:
    """The delivery log, newest first, each delivery with its latest attempts."""

    async def read(uow: UnitOfWork) -> list[WebhookDelivery]:
        endpoint = await access_endpoint_txn(uow, principal, slug, endpoint_id)
        return await uow.webhooks.deliveries(
            endpoint.company_id, endpoint.id, before_id=before_id, limit=min(limit, MAX_PAGE)
        )

    return await ctx.db.read(read)


async def schedule_txn(uow: UnitOfWork, delivery: WebhookDelivery, at: datetime) -> None:
    """Queue the delivery's next attempt (the job names the attempt it is for, so a job left
    over from an earlier schedule finds the delivery moved on and does nothing)."""
    await uow.jobs.enqueue(DELIVER, {"delivery_id": delivery.id, "attempts": delivery.attempts}, at)


async def _new_delivery_txn(
    uow: UnitOfWork,
    endpoint: WebhookEndpoint,
    *,
    event_type: str,
    event_pos: int | None,
    payload: str,
    now: datetime,
) -> WebhookDelivery:
    delivery = await uow.webhooks.create_delivery(
        {
            "company_id": endpoint.company_id,
            "endpoint_id": endpoint.id,
            "msg_id": new_msg_id(),
            "event_type": event_type,
            "event_pos": event_pos,
            "payload": payload,
            "state": DeliveryState.PENDING,
            "attempts": 0,
            "tries": 0,
            "next_attempt_at": now,
            "created_at": now,
            "updated_at": now,
        }
    )
    await schedule_txn(uow, delivery, now)
    return delivery


async def check_send_test(
    ctx: Context, principal: Principal, slug: str, endpoint_id: WebhookEndpointId
) -> WebhookDelivery:
    """Queue a ``webhook.test`` message to the endpoint (the admin page's test button)."""

    async def txn(uow: UnitOfWork) -> WebhookDelivery:
        endpoint = await access_endpoint_txn(uow, principal, slug, endpoint_id)
        if not endpoint.enabled:
            raise DomainError(ErrorCode.WEBHOOK_DISABLED, "enable the endpoint first")
        now = ctx.clock.now()
        return await _new_delivery_txn(
            uow,
            endpoint,
            event_type=TEST_EVENT,
            event_pos=None,
            payload=ping_payload(endpoint, now),
            now=now,
        )

    return await ctx.db.write("test_webhook", txn)


async def check_replay(
    ctx: Context,
    principal: Principal,
    slug: str,
    endpoint_id: WebhookEndpointId,
    *,
    delivery_id: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> int:
    """Send one delivery again, or every delivery of a time range (at most
    :data:`MAX_REPLAY`), with the same ``webhook-id`` and body; those still pending are left
    alone. Returns how many were scheduled."""
    if (delivery_id is None) == (since is None):
        raise DomainError(ErrorCode.VALIDATION, "give delivery_id, or since (and until)")
    if since is not None and until is not None and until < since:
        raise DomainError(ErrorCode.VALIDATION, "until is before since", field="until")

    async def txn(uow: UnitOfWork) -> int:
        endpoint = await access_endpoint_txn(uow, principal, slug, endpoint_id)
        if not endpoint.enabled:
            raise DomainError(ErrorCode.WEBHOOK_DISABLED, "enable the endpoint first")
        if delivery_id is not None:
            one = await uow.webhooks.delivery(WebhookDeliveryId(delivery_id))
            if one is None or one.endpoint_id != endpoint.id:
                raise not_found("delivery")
            chosen = [one]
        else:
            chosen = await uow.webhooks.deliveries(
                endpoint.company_id, endpoint.id, since=since, until=until, limit=MAX_REPLAY
            )
        now = ctx.clock.now()
        replayed = 0
        for delivery in chosen:
            if delivery.state == DeliveryState.PENDING:
                continue
            await uow.webhooks.update_delivery(
                delivery.id,
                {
                    "state": DeliveryState.PENDING,
                    "tries": 0,
                    "next_attempt_at": now,
                    "updated_at": now,
                },
            )
            await schedule_txn(uow, delivery, now)
            replayed += 1
        await audit_txn(
            uow,
            principal,
            endpoint.company_id,
            "webhook.replayed",
            target=f"webhook:{endpoint.id}",
            data={"deliveries": replayed},
            now=now,
        )
        return replayed

    return await ctx.db.write("replay_webhooks", txn)


async def customer_view_txn(
    uow: UnitOfWork, company_id: CompanyId, customer_id: CustomerId
) -> SharedCustomer | None:
    """What webhooks may say about a company's customer (rules/sharing.py): the display name
    and what the customer shares with that company when the payload is built."""
    customer = await uow.accounts.get_customer(customer_id)
    if customer is None:
        return None
    return (await uow.sharing.shared_with(company_id, [customer]))[customer.id]


_WITH_CUSTOMER = (EventType.CONVERSATION_CREATED, EventType.MESSAGE_CREATED)


async def _payload_txn(
    uow: UnitOfWork, event: Event, views: dict[ConversationId, SharedCustomer | None]
) -> str | None:
    customer = None
    if event.type == EventType.CUSTOMER_SHARED_FIELDS_CHANGED and event.customer_id is not None:
        customer = await customer_view_txn(uow, event.company_id, event.customer_id)
    elif event.type in _WITH_CUSTOMER and event.conversation_id is not None:
        if event.conversation_id not in views:
            conversation = await uow.conversations.get(event.conversation_id)
            views[event.conversation_id] = (
                None
                if conversation is None
                else await customer_view_txn(uow, event.company_id, conversation.customer_id)
            )
        customer = views[event.conversation_id]
    return webhook_payload(event, customer)


async def relay_events(ctx: Context) -> int:
    """Turn committed events after the relay's cursor into deliveries (see the module doc).
    Returns how many events it consumed."""

    async def behind(uow: UnitOfWork) -> bool:
        cursor = await uow.webhooks.cursor()
        return cursor is not None and await uow.events.head() > cursor

    if not await ctx.db.read(behind):
        return 0

    async def txn(uow: UnitOfWork) -> int:
        cursor = await uow.webhooks.lock_cursor()
        if cursor is None:
            return 0
        events = await uow.events.after(cursor, RELAY_BATCH)
        if not events:
            return 0
        companies = sorted({e.company_id for e in events if e.type in EVENT_TYPES})
        endpoints = await uow.webhooks.enabled_endpoints(companies)
        now = ctx.clock.now()
        views: dict[ConversationId, SharedCustomer | None] = {}
        for event in events:
            matching = [e for e in endpoints if wants(e, event)]
            if not matching:
                continue
            payload = await _payload_txn(uow, event, views)
            if payload is None:
                continue
            for endpoint in matching:
                await _new_delivery_txn(
                    uow,
                    endpoint,
                    event_type=event.type,
                    event_pos=event.pos,
                    payload=payload,
                    now=now,
                )
        await uow.webhooks.set_cursor(EventPos(events[-1].pos))
        return len(events)

    return await ctx.db.write("relay_webhooks", txn)
