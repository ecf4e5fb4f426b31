"""Webhooks' records and pure rules: event types, versioned payloads, signing, retry schedule.

Payloads follow the Standard Webhooks shape ``{"type", "timestamp", "data"}``; each type's
``data`` is version 1 of its published JSON Schema (``docs/webhooks/<type>.schema.json``).
Within a version fields are only ever added; a breaking change would get a new type name.
Payloads are built here, once, by :func:`webhook_payload`, from the event and the company's
view of the customer, and stored with the delivery, so every retry sends the same bytes.

Signing (``webhook-signature``): ``v1,`` + base64 of HMAC-SHA256 over ``id.timestamp.body``
with the base64-decoded part of the endpoint's ``whsec_`` secret.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NewType

from eyelevel.core.entities import Event
from eyelevel.core.events import EventType, iso
from eyelevel.core.ids import CompanyId
from eyelevel.core.rules.sharing import SharedCustomer

WebhookEndpointId = NewType("WebhookEndpointId", int)
WebhookDeliveryId = NewType("WebhookDeliveryId", int)

TEST_EVENT = "webhook.test"
EVENT_TYPES = (
    EventType.CONVERSATION_CREATED.value,
    EventType.CONVERSATION_ASSIGNED.value,
    EventType.CONVERSATION_STATUS_CHANGED.value,
    EventType.MESSAGE_CREATED.value,
    EventType.CUSTOMER_SHARED_FIELDS_CHANGED.value,
    EventType.CUSTOMER_ERASED.value,
    EventType.CALLBACK_BOOKED.value,
    EventType.CALLBACK_CHANGED.value,
    EventType.COMPLAINT_CHANGED.value,
    EventType.COMPLAINT_APPROVAL_REQUESTED.value,
    EventType.CONVERSATION_SLA_BREACHED.value,
    EventType.CONVERSATION_RATED.value,
)
SECRET_PREFIX = "whsec_"  # noqa: S105 - the prefix, not a secret
SECRET_BYTES = 32  # within the spec's 24 to 64
ROTATION_OVERLAP = timedelta(hours=24)  # the old secret still signs this long after a rotation
# the pause before each retry (scaled by a jitter of 0.8 to 1.2): about three days in all
RETRY_DELAYS = (
    timedelta(seconds=5),
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=5),
    timedelta(hours=10),
    timedelta(hours=14),
    timedelta(hours=20),
    timedelta(hours=24),
)
MAX_RETRY_AFTER = timedelta(hours=24)
DISABLE_AFTER = timedelta(days=5)  # failing without one success this long disables an endpoint
MAX_SNIPPET_BYTES = 1024


class DeliveryState:
    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class WebhookEndpoint:
    id: WebhookEndpointId
    company_id: CompanyId
    url: str
    description: str
    event_types: tuple[str, ...]
    include_notes: bool
    enabled: bool
    disabled_reason: str | None  # "admin", "gone" (410), "failing"
    secret: str
    previous_secret: str | None
    previous_secret_until: datetime | None
    failing_since: datetime | None
    start_pos: int  # the stream position at creation: later events only
    created_at: datetime
    updated_at: datetime

    def signing_secrets(self, now: datetime) -> list[str]:
        """The current secret, and the previous one while the rotation overlap lasts."""
        out = [self.secret]
        if (
            self.previous_secret
            and self.previous_secret_until is not None
            and now < self.previous_secret_until
        ):
            out.append(self.previous_secret)
        return out


@dataclass(frozen=True, slots=True)
class WebhookAttempt:
    id: int
    delivery_id: WebhookDeliveryId
    attempted_at: datetime
    status_code: int | None
    latency_ms: int
    response: str  # at most MAX_SNIPPET_BYTES of the response body
    error: str | None  # a stable code: http_status, timeout, connect_error, address_forbidden…


@dataclass(frozen=True, slots=True)
class WebhookDelivery:
    id: WebhookDeliveryId
    company_id: CompanyId
    endpoint_id: WebhookEndpointId
    msg_id: str  # the ``webhook-id``: the same across retries and replays
    event_type: str
    event_pos: int | None  # None: a test message
    payload: str  # the exact body sent
    state: str
    attempts: int  # all attempts so far
    tries: int  # attempts since it was (re)scheduled: the retry schedule's index
    next_attempt_at: datetime | None
    created_at: datetime
    updated_at: datetime
    attempt_log: tuple[WebhookAttempt, ...] = ()


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def new_msg_id() -> str:
    return "msg_" + secrets.token_urlsafe(18)


def secret_key_bytes(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX))


def sign(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    to_sign = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key_bytes(secret), to_sign, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_header(secrets_: list[str], msg_id: str, timestamp: int, body: bytes) -> str:
    """Space-separated signatures, one per valid secret (two during a rotation's overlap)."""
    return " ".join(sign(s, msg_id, timestamp, body) for s in secrets_)


def delivery_headers(
    endpoint: WebhookEndpoint, delivery: WebhookDelivery, now: datetime
) -> dict[str, str]:
    timestamp = int(now.timestamp())
    body = delivery.payload.encode()
    return {
        "content-type": "application/json",
        "user-agent": "eyelevel-webhooks/1",
        "webhook-id": delivery.msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signature_header(
            endpoint.signing_secrets(now), delivery.msg_id, timestamp, body
        ),
    }


def wants(endpoint: WebhookEndpoint, event: Event) -> bool:
    """Whether the endpoint subscribes to this event (private notes only when opted in)."""
    if not endpoint.enabled or event.company_id != endpoint.company_id:
        return False
    if event.pos <= endpoint.start_pos or event.type not in endpoint.event_types:
        return False
    is_note = event.type == EventType.MESSAGE_CREATED and event.data.get("kind") == "note"
    return endpoint.include_notes or not is_note


def _customer(customer: SharedCustomer | None) -> dict[str, Any] | None:
    """The customer as the company may see them: id and display name, and each field the
    customer shares with that company (a key that is missing is not shared)."""
    if customer is None:
        return None
    shared = {f: getattr(customer, f) for f in customer.shared}
    return {"id": customer.id, "name": customer.name, **shared}


def webhook_data(event: Event, customer: SharedCustomer | None) -> dict[str, Any] | None:
    """Version 1 of each type's ``data``; None for types webhooks do not carry."""
    d = event.data
    match event.type:
        case EventType.CONVERSATION_CREATED:
            return {
                "conversation": {
                    "id": d["id"],
                    "subject": d["subject"],
                    "status": d["status"],
                    "owner": d["owner"],
                    "created_at": d["created_at"],
                },
                "customer": _customer(customer),
            }
        case EventType.CONVERSATION_ASSIGNED:
            return {
                "conversation_id": d["conversation_id"],
                "owner": d["owner"],
                "previous": d["previous"],
            }
        case EventType.CONVERSATION_STATUS_CHANGED:
            return {
                "conversation_id": d["conversation_id"],
                "status": d["status"],
                "previous": d["previous"],
                "snoozed_until": d["snoozed_until"],
            }
        case EventType.MESSAGE_CREATED:
            return {
                "message": {
                    "id": d["id"],
                    "conversation_id": d["conversation_id"],
                    "seq": d["seq"],
                    "kind": d["kind"],
                    "body": d["body"],
                    "author": {"type": d["author"]["type"], "name": d["author"]["name"]},
                    "created_at": d["created_at"],
                    "attachments": [
                        {
                            "id": a["id"],
                            "name": a["name"],
                            "content_type": a["content_type"],
                            "size": a["size"],
                        }
                        for a in d["attachments"]
                    ],
                },
                "customer": _customer(customer),
            }
        case EventType.CALLBACK_BOOKED | EventType.CALLBACK_CHANGED:
            # the phone only as the customer shares it (a booking grants it), via ``customer``
            return {
                "callback": {
                    k: d[k]
                    for k in (
                        "id",
                        "conversation_id",
                        "state",
                        "previous",
                        "slot_start",
                        "slot_end",
                        "outcome",
                        "duration_seconds",
                        "rescheduled_from",
                        "replaced_by",
                    )
                },
                "customer": _customer(customer),
            }
        case EventType.CUSTOMER_SHARED_FIELDS_CHANGED:
            return {
                "customer": _customer(customer),
                "shared": d["shared"],
                "changed": d["changed"],
            }
        case EventType.COMPLAINT_CHANGED:
            # the case's state; its facts and trail through the API (conversations:read)
            return {
                "conversation_id": d["conversation_id"],
                "case_id": d["case_id"],
                "state": d["state"],
            }
        case EventType.COMPLAINT_APPROVAL_REQUESTED:
            return {
                "conversation_id": d["conversation_id"],
                "case_id": d["case_id"],
                "remedy": d["remedy"],
                "amount_cents": d["amount_cents"],
            }
        case EventType.CONVERSATION_SLA_BREACHED:
            return {
                "conversation_id": d["conversation_id"],
                "target": d["target"],
                "due_at": d["due_at"],
                "team_id": d["team_id"],
                "reassigned": d["reassigned"],
            }
        case EventType.CONVERSATION_RATED:
            # the score only: the comment is the customer's words, read through the API
            return {"conversation_id": d["conversation_id"], "score": d["score"]}
        case EventType.CUSTOMER_ERASED:
            # built from the event alone: the customer is gone when the relay runs
            return {
                "customer": {"id": d["customer_id"]},
                "erased_conversation_ids": d["erased_conversation_ids"],
                "held_conversation_ids": d["held_conversation_ids"],
            }
    return None


def webhook_payload(event: Event, customer: SharedCustomer | None) -> str | None:
    """The body for ``event`` as the company may see it (``customer``: the company's view of
    the conversation's customer). The one place a webhook's customer data comes from."""
    data = webhook_data(event, customer)
    if data is None:
        return None
    return _encode(event.type, event.created_at, data)


def ping_payload(endpoint: WebhookEndpoint, now: datetime) -> str:
    return _encode(TEST_EVENT, now, {"endpoint_id": endpoint.id, "test": True})


def _encode(type_: str, at: datetime, data: dict[str, Any]) -> str:
    body = {"type": type_, "timestamp": iso(at), "data": data}
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def retry_delay(tries: int, retry_after: float | None, jitter: float) -> timedelta | None:
    """The pause after the ``tries``-th failed attempt of a round, or None when the schedule
    is spent. ``jitter`` in [0, 1) spreads retries; ``Retry-After`` (seconds) is honoured up
    to a day."""
    if tries > len(RETRY_DELAYS):
        return None
    delay = RETRY_DELAYS[tries - 1] * (0.8 + 0.4 * jitter)
    if retry_after is not None and retry_after > 0:
        delay = max(delay, min(timedelta(seconds=retry_after), MAX_RETRY_AFTER))
    return delay
