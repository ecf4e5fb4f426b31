"""Running one webhook delivery attempt and recording what came of it.

The worker runs a ``webhook.deliver`` job: the delivery and its endpoint are read, the body is
signed with the endpoint's secret(s) of this moment and sent once through the guarded
transport (outside any transaction), and then one transaction records the attempt and decides
what follows: success; a retry after the schedule's pause (or the receiver's ``Retry-After``),
queued as a new job in that same transaction; or failure. ``410 Gone`` disables the endpoint at
once, and so does failing without a single success for :data:`DISABLE_AFTER`; either way the
change is audited and the company's admins get a mail. A crash between the send and the record
leaves the job to run again after its lease: the same ``webhook-id`` is sent again (at least
once; receivers dedupe on it).
"""

from __future__ import annotations

import random
from datetime import datetime

from eyelevel.core.actions.audit import audit_txn
from eyelevel.core.actions.webhooks import schedule_txn
from eyelevel.core.ports import Context, UnitOfWork, WebhookResponse
from eyelevel.core.webhooks import (
    DISABLE_AFTER,
    MAX_SNIPPET_BYTES,
    DeliveryState,
    WebhookDelivery,
    WebhookDeliveryId,
    WebhookEndpoint,
    delivery_headers,
    retry_delay,
)

_jitter = random.SystemRandom()


async def check_deliver(ctx: Context, delivery_id: WebhookDeliveryId, attempts: int) -> None:
    """One attempt of a delivery (a ``webhook.deliver`` job for attempt ``attempts + 1``)."""

    async def load(uow: UnitOfWork) -> tuple[WebhookDelivery, WebhookEndpoint | None] | None:
        delivery = await uow.webhooks.delivery(delivery_id)
        if delivery is None:
            return None
        return delivery, await uow.webhooks.endpoint(delivery.company_id, delivery.endpoint_id)

    found = await ctx.db.read(load)
    if found is None:
        return
    delivery, endpoint = found
    if delivery.state != DeliveryState.PENDING or delivery.attempts != attempts:
        return  # done already, or this job is left over from an earlier schedule
    if endpoint is None or not endpoint.enabled:
        await _settle(ctx, delivery, None)
        return
    headers = delivery_headers(endpoint, delivery, ctx.clock.now())
    response = await ctx.webhooks.send(
        endpoint.url, headers=headers, body=delivery.payload.encode()
    )
    await _settle(ctx, delivery, response)


async def _settle(ctx: Context, sent: WebhookDelivery, response: WebhookResponse | None) -> None:
    jitter = _jitter.random()

    async def txn(uow: UnitOfWork) -> None:
        delivery = await uow.webhooks.delivery(sent.id)
        if (
            delivery is None
            or delivery.state != DeliveryState.PENDING
            or delivery.attempts != sent.attempts
        ):
            return  # another worker recorded this attempt already
        endpoint = await uow.webhooks.endpoint(delivery.company_id, delivery.endpoint_id)
        now = ctx.clock.now()
        if response is None or endpoint is None or not endpoint.enabled:
            await uow.webhooks.update_delivery(
                delivery.id,
                {"state": DeliveryState.FAILED, "next_attempt_at": None, "updated_at": now},
            )
            return
        await uow.webhooks.add_attempt(
            delivery,
            {
                "attempted_at": now,
                "status_code": response.status_code,
                "latency_ms": max(0, min(response.latency_ms, 2**31 - 1)),
                "response": _snippet(response.body),
                "error": response.error,
            },
        )
        attempts, tries = delivery.attempts + 1, delivery.tries + 1
        code = response.status_code
        if response.error is None and code is not None and 200 <= code < 300:
            await uow.webhooks.update_delivery(
                delivery.id,
                {
                    "state": DeliveryState.SUCCEEDED,
                    "attempts": attempts,
                    "tries": tries,
                    "next_attempt_at": None,
                    "updated_at": now,
                },
            )
            if endpoint.failing_since is not None:
                await uow.webhooks.update_endpoint(
                    endpoint.company_id, endpoint.id, {"failing_since": None}
                )
            return
        failing_since = endpoint.failing_since or now
        reason = None
        if code == 410:
            reason = "gone"
        elif now - failing_since >= DISABLE_AFTER:
            reason = "failing"
        delay = None if reason else retry_delay(tries, response.retry_after, jitter)
        next_at = None if delay is None else now + delay
        await uow.webhooks.update_delivery(
            delivery.id,
            {
                "state": DeliveryState.PENDING if next_at else DeliveryState.FAILED,
                "attempts": attempts,
                "tries": tries,
                "next_attempt_at": next_at,
                "updated_at": now,
            },
        )
        if next_at is not None:
            fresh = await uow.webhooks.delivery(delivery.id)
            assert fresh is not None
            await schedule_txn(uow, fresh, next_at)
        if reason is not None:
            await disable_txn(uow, ctx, endpoint, reason, now)
        elif endpoint.failing_since is None:
            await uow.webhooks.update_endpoint(
                endpoint.company_id, endpoint.id, {"failing_since": now}
            )

    await ctx.db.write("record_webhook_attempt", txn)


def _snippet(body: str) -> str:
    data = body.encode()[:MAX_SNIPPET_BYTES]
    return data.decode(errors="ignore")


async def disable_txn(
    uow: UnitOfWork, ctx: Context, endpoint: WebhookEndpoint, reason: str, now: datetime
) -> None:
    """Disable the endpoint, audit it, and mail the company's admins."""
    await uow.webhooks.update_endpoint(
        endpoint.company_id,
        endpoint.id,
        {"enabled": False, "disabled_reason": reason, "failing_since": None, "updated_at": now},
    )
    await audit_txn(
        uow,
        None,
        endpoint.company_id,
        "webhook.disabled",
        target=f"webhook:{endpoint.id}",
        data={"reason": reason},
        now=now,
    )
    company = await uow.companies.get(endpoint.company_id)
    why = {
        "gone": (
            "der Empfänger hat mit 410 Gone geantwortet",
            "the receiver answered 410 Gone",
        ),
        "failing": (
            f"seit {DISABLE_AFTER.days} Tagen ist keine Zustellung gelungen",
            f"no delivery has succeeded for {DISABLE_AFTER.days} days",
        ),
    }[reason]
    link = f"{ctx.public_url}/app/admin/webhooks"
    name = company.name if company else ""
    for agent_id in await uow.security.active_admins(endpoint.company_id):
        agent = await uow.accounts.get_agent(agent_id)
        if agent is None:
            continue
        await uow.jobs.enqueue(
            "send_mail",
            {
                "to": agent.email,
                "subject": "Webhook deaktiviert / Webhook disabled",
                "text": (
                    f"Hallo {agent.name},\n\nein Webhook-Endpunkt von {name} wurde deaktiviert: "
                    f"{why[0]}.\n{endpoint.url}\n{link}\n\n"
                    f"Hello {agent.name},\n\na webhook endpoint of {name} was disabled: "
                    f"{why[1]}.\n{endpoint.url}\n{link}\n"
                ),
            },
            now,
        )
