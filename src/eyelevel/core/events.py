"""Event types and their real-time payloads (``{type, pos, data}`` on the socket).

Payloads are built here, once, at write time and stored with the event, so the live push and
the catch-up replay carry the same bytes. They are the real-time shape, not the REST schema
and not a webhook payload.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from eyelevel.core.entities import Conversation, Message, MessageKind, NewEvent, Status
from eyelevel.core.ids import CompanyId, ConversationId, CustomerId


class EventType(StrEnum):
    CONVERSATION_CREATED = "conversation.created"
    CONVERSATION_ASSIGNED = "conversation.assigned"
    CONVERSATION_STATUS_CHANGED = "conversation.status_changed"
    CONVERSATION_LABELS_CHANGED = "conversation.labels_changed"
    MESSAGE_CREATED = "message.created"
    MESSAGE_READ = "message.read"
    TYPING = "typing"
    AGENT_PRESENCE = "agent.presence"  # ephemeral, company members only
    CUSTOMER_SHARED_FIELDS_CHANGED = "customer.shared_fields_changed"
    COMPLAINT_CHANGED = "complaint.changed"
    CONVERSATION_RATED = "conversation.rated"
    COMPLAINT_APPROVAL_REQUESTED = "complaint.approval_requested"
    COMPLAINT_PROMISE_OVERDUE = "complaint.promise_overdue"  # company members only
    CUSTOMER_ERASED = "customer.erased"
    CALLBACK_BOOKED = "callback.booked"
    CALLBACK_CHANGED = "callback.changed"
    CALLBACK_REMINDER = "callback.reminder"  # company members only
    CALLBACK_ESCALATED = "callback.escalated"  # company members only
    CUSTOMER_CONTACT_CHANGED = "customer.contact_preferences_changed"
    CONVERSATION_SLA_CHANGED = "conversation.sla_changed"
    CONVERSATION_SLA_WARNING = "conversation.sla_warning"
    CONVERSATION_SLA_BREACHED = "conversation.sla_breached"  # staff only: names the leads


def iso(value: datetime | None) -> str | None:
    """UTC, ``Z``-suffixed: the same text the REST API writes for the same instant."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def message_data(message: Message) -> dict[str, Any]:
    return {
        "id": message.id,
        "conversation_id": message.conversation_id,
        "company_id": message.company_id,
        "seq": message.seq,
        "kind": message.kind.value,
        "body": message.body,
        "author": {
            "type": _author_type(message),
            "name": message.author_name,
        },
        "client_id": message.client_id,
        "created_at": iso(message.created_at),
        "attachments": [
            {
                "id": a.id,
                "name": a.name,
                "content_type": a.content_type,
                "size": a.size,
                "width": a.width,
                "height": a.height,
                "thumbnail": a.thumbnail_key is not None,
            }
            for a in message.attachments
        ],
        "mentions": list(message.mentions),
    }


def _author_type(message: Message) -> str:
    """customer, agent, bot (an integration's token) or system."""
    if message.author_customer_id is not None:
        return "customer"
    if message.author_agent_id is not None:
        return "agent"
    return "system" if message.kind == MessageKind.SYSTEM else "bot"


def conversation_data(conversation: Conversation) -> dict[str, Any]:
    return {
        "id": conversation.id,
        "company_id": conversation.company_id,
        "customer_id": conversation.customer_id,
        "subject": conversation.subject,
        "status": conversation.status.value,
        "owner": owner_data(conversation),
        "snoozed_until": iso(conversation.snoozed_until),
        "last_seq": conversation.last_seq,
        "created_at": iso(conversation.created_at),
        "updated_at": iso(conversation.updated_at),
        "last_message_at": iso(conversation.last_message_at),
        "sla": conversation.sla or [],
    }


def owner_data(conversation: Conversation) -> dict[str, Any] | None:
    if conversation.owner_agent_id is not None:
        return {"type": "agent", "id": conversation.owner_agent_id}
    if conversation.owner_team_id is not None:
        return {"type": "team", "id": conversation.owner_team_id}
    return None


def assigned(
    company_id: CompanyId,
    conversation_id: ConversationId,
    owner: dict[str, Any] | None,
    previous: dict[str, Any] | None,
) -> NewEvent:
    """Who works on a conversation is company-internal: the customer is not in the audience."""
    return NewEvent(
        type=EventType.CONVERSATION_ASSIGNED,
        company_id=company_id,
        conversation_id=conversation_id,
        customer_id=None,
        data={"conversation_id": conversation_id, "owner": owner, "previous": previous},
    )


def status_changed(
    conversation: Conversation, status: Status, snoozed_until: datetime | None
) -> NewEvent:
    """The customer is told about every status change (honest communication)."""
    return NewEvent(
        type=EventType.CONVERSATION_STATUS_CHANGED,
        company_id=conversation.company_id,
        conversation_id=conversation.id,
        customer_id=conversation.customer_id,
        data={
            "conversation_id": conversation.id,
            "status": status.value,
            "previous": conversation.status.value,
            "snoozed_until": iso(snoozed_until),
        },
    )


def labels_changed(
    company_id: CompanyId, conversation_id: ConversationId, label_ids: Iterable[int]
) -> NewEvent:
    """Labels are the company's way of sorting its work: never sent to the customer."""
    return NewEvent(
        type=EventType.CONVERSATION_LABELS_CHANGED,
        company_id=company_id,
        conversation_id=conversation_id,
        customer_id=None,
        data={"conversation_id": conversation_id, "label_ids": sorted(label_ids)},
    )


def shared_fields_changed(
    company_id: CompanyId,
    customer_id: CustomerId,
    shared: Iterable[str],
    changed: Iterable[str],
) -> NewEvent:
    """A customer changed what one company sees: the fields shared now and the ones that
    changed (granted, revoked, or a shared value edited). Names only, never values: whoever may
    see them fetches them again. For the company and the customer's own other devices."""
    return NewEvent(
        type=EventType.CUSTOMER_SHARED_FIELDS_CHANGED,
        company_id=company_id,
        conversation_id=None,
        customer_id=customer_id,
        data={
            "customer_id": customer_id,
            "company_id": company_id,
            "shared": list(shared),
            "changed": list(changed),
        },
    )


def complaint_changed(
    company_id: CompanyId,
    conversation_id: ConversationId,
    customer_id: CustomerId,
    case_id: int,
    state: str,
) -> NewEvent:
    """A complaint case was opened, edited or decided. The customer is told too (their case is
    a promise to them); the payload names the case and its state only, so each side fetches
    what it may see (the customer never the policy, the trail or the internal notes)."""
    return NewEvent(
        type=EventType.COMPLAINT_CHANGED,
        company_id=company_id,
        conversation_id=conversation_id,
        customer_id=customer_id,
        data={"conversation_id": conversation_id, "case_id": case_id, "state": state},
    )


def complaint_approval_requested(
    company_id: CompanyId,
    conversation_id: ConversationId,
    case_id: int,
    remedy: str,
    amount_cents: int,
    requested_by: str,
) -> NewEvent:
    """An agent asks the company's leads to approve a remedy beyond the agent's limit."""
    return NewEvent(
        type=EventType.COMPLAINT_APPROVAL_REQUESTED,
        company_id=company_id,
        conversation_id=conversation_id,
        customer_id=None,
        data={
            "conversation_id": conversation_id,
            "case_id": case_id,
            "remedy": remedy,
            "amount_cents": amount_cents,
            "requested_by": requested_by,
        },
    )


def customer_erased(
    company_id: CompanyId,
    customer_id: CustomerId,
    erased: Iterable[int],
    held: Iterable[int],
) -> NewEvent:
    """A customer deleted their account: for the company's members only (the customer is
    gone). The id and which of the company's conversations were deleted or are kept under
    legal hold (restricted); no personal data."""
    return NewEvent(
        type=EventType.CUSTOMER_ERASED,
        company_id=company_id,
        conversation_id=None,
        customer_id=None,
        data={
            "customer_id": customer_id,
            "company_id": company_id,
            "erased_conversation_ids": sorted(erased),
            "held_conversation_ids": sorted(held),
        },
    )


def contact_preferences_changed(
    company_id: CompanyId,
    customer_id: CustomerId,
    topics: Iterable[str],
    channels: Iterable[str],
    changed: Iterable[str],
) -> NewEvent:
    """A customer changed the topics or channels one company may use (``changed``: e.g.
    ``topic:news``, ``channel:email``). Names only: quiet hours, the time zone and whether
    mails carry the text are the customer's own and never leave in an event."""
    return NewEvent(
        type=EventType.CUSTOMER_CONTACT_CHANGED,
        company_id=company_id,
        conversation_id=None,
        customer_id=customer_id,
        data={
            "customer_id": customer_id,
            "company_id": company_id,
            "topics": list(topics),
            "channels": list(channels),
            "changed": list(changed),
        },
    )


def conversation_rated(
    company_id: CompanyId, conversation_id: ConversationId, customer_id: CustomerId, score: int
) -> NewEvent:
    """A customer rated a resolved conversation: to the company and the customer's other
    devices. The score only; the comment is read through the API."""
    return NewEvent(
        type=EventType.CONVERSATION_RATED,
        company_id=company_id,
        conversation_id=conversation_id,
        customer_id=customer_id,
        data={"conversation_id": conversation_id, "score": score},
    )


def complaint_promise_overdue(
    company_id: CompanyId, conversation_id: ConversationId, case_id: int, due: str
) -> NewEvent:
    """A granted remedy's promise passed its due date unkept: for the company's members (the
    customer's case shows it through ``complaint.changed``)."""
    return NewEvent(
        type=EventType.COMPLAINT_PROMISE_OVERDUE,
        company_id=company_id,
        conversation_id=conversation_id,
        customer_id=None,
        data={"conversation_id": conversation_id, "case_id": case_id, "promise_due": due},
    )
