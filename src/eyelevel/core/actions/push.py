"""Web push: the server's VAPID keys, the customer's devices, and sending (docs/privacy.md).

For the notification pipeline, one call queues a notification to every device of a customer::

    await queue_push_txn(
        uow, customer_id, company, PushNotice("reply", conversation_id, text), include_text, now
    )

inside the pipeline's own transaction (or :func:`queue_push` with a context, in a transaction of
its own). It queues one ``push.send`` job per subscription, with the notification already built
for that device (:func:`eyelevel.core.push.build_message`: the company's name as title, a
generic line in the device's language, the message text only with ``include_text``). It does
*not* decide whether the customer wants to be notified: the caller has checked the customer's
topics, channels and quiet hours before.

The worker runs each job (:func:`check_send_push`): the notification is encrypted for the
device and sent once; 2xx records the success; 404/410 (the push service forgot the
subscription) deletes the subscription; no answer, 429 or 5xx queue a retry after
:data:`~eyelevel.core.push.RETRY_DELAYS` (or the service's ``Retry-After``) as a new job in the
same transaction, until the retries are spent or the notification is older than
:data:`~eyelevel.core.push.TTL`; any other answer drops it. A crash between the send and the
record runs the job again after its lease (at least once; the tag makes a repeat replace the
first on the device).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from eyelevel.core.entities import Company
from eyelevel.core.errors import DomainError, ErrorCode, not_found
from eyelevel.core.events import iso
from eyelevel.core.ids import CustomerId
from eyelevel.core.ports import Context, NotificationBatch, UnitOfWork, WebhookResponse
from eyelevel.core.principals import CustomerPrincipal, Principal
from eyelevel.core.push import (
    LANGUAGES,
    MAX_LABEL,
    MAX_PER_CUSTOMER,
    SEND,
    TTL,
    PushMessage,
    PushNotice,
    PushSubscription,
    PushSubscriptionId,
    VapidKeys,
    build_message,
    is_gone,
    is_transient,
    retry_delay,
    topic_of,
)


@dataclass(frozen=True, slots=True)
class DeviceView:
    """A subscription as its customer sees it (the keys stay on the server)."""

    id: PushSubscriptionId
    endpoint: str
    label: str
    lang: str
    created_at: datetime
    last_success_at: datetime | None


def _view(s: PushSubscription) -> DeviceView:
    return DeviceView(s.id, s.endpoint, s.label, s.lang, s.created_at, s.last_success_at)


def _customer(principal: Principal) -> CustomerPrincipal:
    if not isinstance(principal, CustomerPrincipal):
        raise DomainError(ErrorCode.FORBIDDEN, "only customers receive push notifications")
    return principal


# -- the server's keys -------------------------------------------------------------------------


async def ensure_keys(ctx: Context) -> VapidKeys:
    """The VAPID key pair, made and stored the first time it is needed (every process then
    reads the same pair from the database)."""
    keys = await ctx.db.read(lambda uow: uow.push.keys())
    if keys is not None:
        return keys
    fresh = ctx.push.new_keys()

    async def txn(uow: UnitOfWork) -> VapidKeys:
        await uow.push.add_keys(fresh, ctx.clock.now())
        stored = await uow.push.keys()
        assert stored is not None
        return stored

    return await ctx.db.write("push_keys", txn)


async def public_key(ctx: Context) -> str:
    """What the messenger passes as ``applicationServerKey``."""
    return (await ensure_keys(ctx)).public_key


# -- the customer's devices --------------------------------------------------------------------


async def check_subscribe(
    ctx: Context,
    principal: Principal,
    *,
    endpoint: str,
    p256dh: str,
    auth: str,
    label: str,
    lang: str,
) -> tuple[DeviceView, bool]:
    """Add this browser's subscription (or refresh it: one row per endpoint, which belongs to
    the customer who subscribed it last). Returns the device and whether it is new to the
    customer. Past :data:`MAX_PER_CUSTOMER` devices the least recently used one is forgotten."""
    customer = _customer(principal)
    if lang not in LANGUAGES:
        raise DomainError(ErrorCode.VALIDATION, "lang must be en or de", field="lang")
    label = " ".join(label.split())[:MAX_LABEL]
    endpoint = await ctx.push.check_subscription(endpoint, p256dh, auth)
    now = ctx.clock.now()

    async def txn(uow: UnitOfWork) -> tuple[DeviceView, bool]:
        values: dict[str, Any] = {
            "customer_id": customer.customer_id,
            "p256dh": p256dh,
            "auth": auth,
            "label": label,
            "lang": lang,
        }
        existing = await uow.push.by_endpoint(endpoint)
        if existing is not None:
            mine = existing.customer_id == customer.customer_id
            if not mine:
                values["created_at"] = now
                values["last_success_at"] = None
            await uow.push.update(existing.id, values)
            fresh = await uow.push.get(existing.id)
            assert fresh is not None
            return _view(fresh), not mine
        devices = await uow.push.of_customer(customer.customer_id)
        if len(devices) >= MAX_PER_CUSTOMER:
            oldest = min(devices, key=lambda d: (d.last_success_at or d.created_at, d.id))
            await uow.push.delete(oldest.id)
        added = await uow.push.add({**values, "endpoint": endpoint, "created_at": now})
        return _view(added), True

    return await ctx.db.write("push_subscribe", txn)


async def my_devices(ctx: Context, principal: Principal) -> list[DeviceView]:
    customer = _customer(principal)
    found = await ctx.db.read(lambda uow: uow.push.of_customer(customer.customer_id))
    return [_view(s) for s in found]


async def check_unsubscribe(
    ctx: Context, principal: Principal, subscription_id: PushSubscriptionId
) -> None:
    """Forget one of the customer's devices; another customer's reads like a missing one."""
    customer = _customer(principal)

    async def txn(uow: UnitOfWork) -> None:
        found = await uow.push.get(subscription_id)
        if found is None or found.customer_id != customer.customer_id:
            raise not_found("push subscription")
        await uow.push.delete(found.id)

    await ctx.db.write("push_unsubscribe", txn)


# -- sending -----------------------------------------------------------------------------------


async def queue_push_txn(
    uow: UnitOfWork,
    customer_id: CustomerId,
    company: Company,
    notice: PushNotice,
    include_text: bool,
    now: datetime,
) -> int:
    """Queue ``notice`` to every device of the customer; returns how many jobs were queued.

    The message text goes into the jobs (and the notification) only with ``include_text``.
    """
    devices = await uow.push.of_customer(customer_id)
    for device in devices:
        message = build_message(
            notice,
            company_name=company.name,
            company_id=company.id,
            lang=device.lang,
            include_text=include_text,
        )
        job = _job(customer_id, device.id, message, now + TTL, 0)
        await uow.jobs.enqueue(SEND, job, now)
    return len(devices)


async def queue_push(
    ctx: Context,
    customer_id: CustomerId,
    company: Company,
    notice: PushNotice,
    include_text: bool,
) -> int:
    """:func:`queue_push_txn` in a transaction of its own."""
    now = ctx.clock.now()

    async def txn(uow: UnitOfWork) -> int:
        return await queue_push_txn(uow, customer_id, company, notice, include_text, now)

    return await ctx.db.write("queue_push", txn)


def _job(
    customer_id: CustomerId,
    subscription_id: PushSubscriptionId,
    message: PushMessage,
    expires_at: datetime,
    retries: int,
) -> dict[str, Any]:
    return {
        "customer_id": customer_id,
        "subscription_id": subscription_id,
        "message": message.as_json(),
        "expires_at": iso(expires_at),
        "retries": retries,
    }


async def check_send_push(ctx: Context, payload: dict[str, Any]) -> str:
    """Run one ``push.send`` job (see the module docstring for what follows each answer).

    Returns the outcome for the worker's log: ``sent``, ``gone``, ``retry``, ``dropped``,
    ``expired`` or ``unsubscribed``."""
    subscription_id = PushSubscriptionId(int(payload["subscription_id"]))
    expires_at = datetime.fromisoformat(payload["expires_at"])
    retries = int(payload.get("retries", 0))
    now = ctx.clock.now()
    if now >= expires_at:
        return "expired"  # too old to be worth showing
    subscription = await ctx.db.read(lambda uow: uow.push.get(subscription_id))
    if subscription is None or subscription.customer_id != int(payload["customer_id"]):
        return "unsubscribed"  # or the device moved to another customer meanwhile
    keys = await ensure_keys(ctx)
    message = payload["message"]
    data = json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode()
    ttl = max(1, int((expires_at - now).total_seconds()))
    response = await ctx.push.send(
        subscription, keys, data, now=now, ttl_seconds=ttl, topic=topic_of(str(message["tag"]))
    )
    return await _settle(ctx, subscription, response, payload, retries)


async def _settle(
    ctx: Context,
    subscription: PushSubscription,
    response: WebhookResponse,
    payload: dict[str, Any],
    retries: int,
) -> str:
    code, error = response.status_code, response.error
    now = ctx.clock.now()
    outcome = "sent"
    if error is None and code is not None and 200 <= code < 300:
        pass
    elif is_gone(code):
        outcome = "gone"
    elif is_transient(code, error):
        outcome = "retry"
    else:
        outcome = "dropped"  # 400, 403 (VAPID key mismatch), 413, an address now forbidden…
    expires_at = datetime.fromisoformat(payload["expires_at"])
    delay = retry_delay(retries + 1, response.retry_after) if outcome == "retry" else None
    if outcome == "retry" and (delay is None or now + delay >= expires_at):
        outcome = "dropped"

    async def txn(uow: UnitOfWork) -> None:
        current = await uow.push.get(subscription.id)
        if current is None or current.customer_id != subscription.customer_id:
            return  # unsubscribed, or moved to another customer, meanwhile
        if outcome == "sent":
            await uow.push.update(subscription.id, {"last_success_at": now})
        elif outcome == "gone":
            await uow.push.delete(subscription.id)
        elif outcome == "retry" and delay is not None:
            message = PushMessage(**payload["message"])
            job = _job(subscription.customer_id, subscription.id, message, expires_at, retries + 1)
            await uow.jobs.enqueue(SEND, job, now + delay)

    await ctx.db.write("record_push", txn)
    return outcome


async def check_push_batch(ctx: Context, batch: NotificationBatch) -> bool:
    """The ``push`` channel of the notification pipeline (``jobs/channels.py``): one
    notification per device for a batch of replies (the newest message's text only when the
    customer chose it). False when the customer has no device (the rows are dropped)."""
    now = ctx.clock.now()
    bodies = [m.body for m in batch.messages if m.body is not None]
    notice = PushNotice("reply", batch.conversation_id, bodies[-1] if bodies else None)

    async def txn(uow: UnitOfWork) -> int:
        company = await uow.companies.get(batch.company_id)
        if company is None:
            return 0
        return await queue_push_txn(uow, batch.customer_id, company, notice, bool(bodies), now)

    return await ctx.db.write("queue_push_batch", txn) > 0
