"""Complaint cases (Reklamation) and the company's goodwill policy (Kulanz): the entities.

A case belongs to one conversation. Its facts (product, reference, purchase date, category,
requested remedy, amount, evidence) are written by company members; the goodwill policy
(``core/rules/goodwill.py``) says which remedy an agent may grant directly and which needs a
lead's approval. Every step is appended to the case's trail (``CaseStep``): who, what, which
rule allowed it. A granted remedy is a promise to the customer with a due date, closed when it
is fulfilled.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import NewType

from eyelevel.core.ids import CompanyId, ConversationId, CustomerId

CaseId = NewType("CaseId", int)
RuleId = NewType("RuleId", int)


class Remedy(StrEnum):
    REPLACEMENT = "replacement"
    REPAIR = "repair"
    REFUND = "refund"
    VOUCHER = "voucher"


class CaseState(StrEnum):
    OPEN = "open"  # facts being collected, nothing decided
    APPROVAL_PENDING = "approval_pending"  # an agent asked a lead to approve a remedy
    GRANTED = "granted"  # a remedy was granted: a promise to the customer, not yet kept
    REJECTED = "rejected"  # no goodwill
    FULFILLED = "fulfilled"  # the granted remedy was delivered


# a case not settled yet: undecided, or a promise not yet kept. Retention spares its
# conversation (docs/privacy.md, *Retention*): the promise outlives the resolved thread.
UNSETTLED = frozenset({CaseState.OPEN, CaseState.APPROVAL_PENDING, CaseState.GRANTED})


class StepKind(StrEnum):
    OPENED = "opened"
    UPDATED = "updated"
    GRANTED = "granted"
    APPROVAL_REQUESTED = "approval_requested"
    APPROVED = "approved"
    DECLINED = "declined"  # a lead declined an approval request: the case is open again
    REJECTED = "rejected"
    FULFILLED = "fulfilled"
    OVERDUE = "overdue"  # the promise's due date passed before it was fulfilled (the system)


@dataclass(frozen=True, slots=True)
class GoodwillRule:
    """When every set condition holds, an agent may grant ``agent_remedies`` directly up to
    ``agent_max_amount_cents`` (None: any amount). Anything else needs a lead's approval.

    Conditions left None (or an empty category list) do not restrict."""

    id: RuleId
    company_id: CompanyId
    position: int
    name: str
    max_days_since_purchase: int | None
    max_amount_cents: int | None
    categories: tuple[str, ...]
    max_prior_goodwill: int | None  # granted cases of this customer in the last prior_months
    prior_months: int
    agent_remedies: tuple[Remedy, ...]
    agent_max_amount_cents: int | None


@dataclass(frozen=True, slots=True)
class NewGoodwillRule:
    name: str
    max_days_since_purchase: int | None
    max_amount_cents: int | None
    categories: tuple[str, ...]
    max_prior_goodwill: int | None
    prior_months: int
    agent_remedies: tuple[Remedy, ...]
    agent_max_amount_cents: int | None


@dataclass(frozen=True, slots=True)
class ComplaintCase:
    id: CaseId
    company_id: CompanyId
    conversation_id: ConversationId
    customer_id: CustomerId
    state: CaseState
    product: str
    reference: str
    purchase_date: date | None
    category: str
    requested_remedy: Remedy | None  # None: not yet known (a case the customer opened by topic)
    amount_cents: int
    evidence: tuple[int, ...]  # attachment ids of the conversation
    granted_remedy: Remedy | None
    granted_amount_cents: int | None
    promise: str  # what the customer was promised, in the company's words
    promise_due: date | None
    pending_remedy: Remedy | None  # what a lead is asked to approve
    pending_amount_cents: int | None
    created_at: datetime
    updated_at: datetime
    decided_at: datetime | None
    fulfilled_at: datetime | None
    overdue_at: datetime | None = None  # the granted promise's due date passed unkept


@dataclass(frozen=True, slots=True)
class CaseStep:
    id: int
    case_id: CaseId
    kind: StepKind
    actor: str  # "agent:<id>", "token:<id>"
    actor_name: str
    remedy: Remedy | None
    amount_cents: int | None
    rule_id: RuleId | None
    rule_name: str
    note: str
    created_at: datetime


def customer_promise(case: ComplaintCase) -> tuple[str, date | None]:
    """The promise (text, due date) as the customer sees it: a proposal waiting for a lead's
    approval is not a promise yet, so the customer sees none while it waits."""
    if case.state == CaseState.APPROVAL_PENDING:
        return "", None
    return case.promise, case.promise_due
