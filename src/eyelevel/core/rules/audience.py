"""The one audience rule: who may receive an event.

Used by the live fan-out *and* by the catch-up replay, so a client can never learn more by
reconnecting than it would have seen live. An event is company-internal unless it names a
customer; a private note is appended without a customer and so never reaches one.
"""

from __future__ import annotations

from eyelevel.core.entities import Event
from eyelevel.core.events import EventType
from eyelevel.core.principals import (
    AgentPrincipal,
    CustomerPrincipal,
    Principal,
    TokenPrincipal,
)

# about the company's staff or its internal sorting of work (labels): no customer receives
# these, whatever else the event names
STAFF_ONLY = frozenset(
    {
        EventType.AGENT_PRESENCE,
        EventType.CONVERSATION_LABELS_CHANGED,
        EventType.CALLBACK_REMINDER,
        EventType.CALLBACK_ESCALATED,
        EventType.CONVERSATION_SLA_BREACHED,  # names the leads told; the customer learns of
        # the breach from conversation.sla_changed
    }
)


def sees_internals(principal: Principal) -> bool:
    """Company members see private notes and who owns a conversation; customers never do."""
    return not isinstance(principal, CustomerPrincipal)


def may_receive(principal: Principal, event: Event) -> bool:
    match principal:
        case CustomerPrincipal(customer_id=customer_id):
            return (
                event.customer_id is not None
                and event.customer_id == customer_id
                and event.type not in STAFF_ONLY
            )
        case AgentPrincipal(roles=roles):
            return event.company_id in roles
        case TokenPrincipal(company_id=company_id):
            return event.company_id == company_id
