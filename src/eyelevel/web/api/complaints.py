"""Complaint cases on conversations and the company's goodwill policy (docs/complaints.md)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query, status
from pydantic import Field

from eyelevel.core.actions import complaints
from eyelevel.core.complaints import (
    CaseState,
    CaseStep,
    ComplaintCase,
    GoodwillRule,
    NewGoodwillRule,
    Remedy,
    StepKind,
    customer_promise,
)
from eyelevel.core.entities import Scope
from eyelevel.core.ids import ConversationId
from eyelevel.web.api.companies import Slug
from eyelevel.web.auth import CurrentPrincipal, Svc
from eyelevel.web.schemas import ERRORS, AttachmentOut, In, Out
from eyelevel.web.scopes import needs

router = APIRouter(prefix="/api/v1", tags=["complaints"], responses=ERRORS)
ConvId = Annotated[int, Path(ge=1, le=2**62, description="conversation id")]
Cents = Annotated[int, Field(ge=0, le=complaints.MAX_AMOUNT_CENTS, description="in cents")]


# -- the policy --------------------------------------------------------------------------------


class GoodwillRuleIn(In):
    name: str = Field(max_length=200, examples=["Kleine Beträge im ersten Jahr"])
    max_days_since_purchase: int | None = Field(
        default=None, ge=0, le=3650, description="condition: bought at most this many days ago"
    )
    max_amount_cents: Cents | None = Field(
        default=None, description="condition: the case's amount is at most this"
    )
    categories: list[Annotated[str, Field(max_length=200)]] = Field(
        default_factory=list,
        max_length=100,
        description="condition: the case's category is one of these (empty: any)",
    )
    max_prior_goodwill: int | None = Field(
        default=None,
        ge=0,
        le=100,
        description="condition: the customer got goodwill at most this often in prior_months",
    )
    prior_months: int = Field(default=12, ge=1, le=60)
    agent_remedies: list[Annotated[Remedy, Field(strict=False)]] = Field(
        default_factory=list,
        max_length=10,
        description="what an agent may grant directly when the rule matches",
    )
    agent_max_amount_cents: Cents | None = Field(
        default=None, description="up to this amount (null: any amount)"
    )

    def core(self) -> NewGoodwillRule:
        return NewGoodwillRule(
            name=self.name,
            max_days_since_purchase=self.max_days_since_purchase,
            max_amount_cents=self.max_amount_cents,
            categories=tuple(self.categories),
            max_prior_goodwill=self.max_prior_goodwill,
            prior_months=self.prior_months,
            agent_remedies=tuple(self.agent_remedies),
            agent_max_amount_cents=self.agent_max_amount_cents,
        )


class PolicyIn(In):
    rules: list[GoodwillRuleIn] = Field(
        max_length=200,
        description="the whole policy, in the order the rules are tried",
        examples=[
            [
                {
                    "name": "Small amounts, first year",
                    "max_days_since_purchase": 365,
                    "max_amount_cents": 5000,
                    "agent_remedies": ["replacement", "voucher", "refund"],
                    "agent_max_amount_cents": 5000,
                }
            ]
        ],
    )


class GoodwillRuleOut(Out):
    id: int
    name: str
    max_days_since_purchase: int | None
    max_amount_cents: int | None
    categories: list[str]
    max_prior_goodwill: int | None
    prior_months: int
    agent_remedies: list[Remedy]
    agent_max_amount_cents: int | None

    @classmethod
    def of(cls, rule: GoodwillRule) -> GoodwillRuleOut:
        return cls(
            id=rule.id,
            name=rule.name,
            max_days_since_purchase=rule.max_days_since_purchase,
            max_amount_cents=rule.max_amount_cents,
            categories=list(rule.categories),
            max_prior_goodwill=rule.max_prior_goodwill,
            prior_months=rule.prior_months,
            agent_remedies=list(rule.agent_remedies),
            agent_max_amount_cents=rule.agent_max_amount_cents,
        )


class PolicyOut(Out):
    rules: list[GoodwillRuleOut]


@router.get(
    "/companies/{slug}/goodwill-policy",
    summary="The goodwill policy (members)",
    openapi_extra=needs(Scope.CONVERSATIONS_READ),
)
async def get_policy(slug: Slug, svc: Svc, principal: CurrentPrincipal) -> PolicyOut:
    rules = await complaints.get_policy(svc.ctx, principal, slug)
    return PolicyOut(rules=[GoodwillRuleOut.of(r) for r in rules])


@router.put("/companies/{slug}/goodwill-policy", summary="Replace the goodwill policy (admins)")
async def set_policy(
    slug: Slug, body: PolicyIn, svc: Svc, principal: CurrentPrincipal
) -> PolicyOut:
    """The rules are tried in the order given; the first whose conditions all hold decides what
    an agent may grant directly. Audited as ``goodwill_policy.updated``."""
    rules = await complaints.check_set_policy(
        svc.ctx, principal, slug, [r.core() for r in body.rules]
    )
    return PolicyOut(rules=[GoodwillRuleOut.of(r) for r in rules])


# -- cases -------------------------------------------------------------------------------------


class CaseIn(In):
    product: str = Field(max_length=400, examples=["Trockner T8 Eco"])
    reference: str = Field(default="", max_length=200, examples=["Bestellung 4711"])
    purchase_date: date | None = Field(default=None, strict=False, examples=["2026-03-14"])
    category: str = Field(default="", max_length=200, examples=["Haushaltsgeräte"])
    requested_remedy: Remedy = Field(strict=False)
    amount_cents: Cents = Field(examples=[59900])
    evidence: list[Annotated[int, Field(ge=1, le=2**62)]] = Field(
        default_factory=list,
        max_length=100,
        description="attachment ids of this conversation (photos, invoice)",
    )

    def core(self) -> complaints.CaseFactsIn:
        return complaints.CaseFactsIn(
            product=self.product,
            reference=self.reference,
            purchase_date=self.purchase_date,
            category=self.category,
            requested_remedy=self.requested_remedy,
            amount_cents=self.amount_cents,
            evidence=tuple(self.evidence),
        )


DECISIONS = (
    StepKind.GRANTED,
    StepKind.APPROVAL_REQUESTED,
    StepKind.APPROVED,
    StepKind.DECLINED,
    StepKind.REJECTED,
    StepKind.FULFILLED,
)


class StepIn(In):
    kind: Annotated[StepKind, Field(strict=False)] = Field(
        description="granted | approval_requested | approved | declined | rejected | fulfilled",
        examples=["granted"],
    )
    remedy: Remedy | None = Field(default=None, strict=False)
    amount_cents: Cents | None = None
    promise: str = Field(
        default="",
        max_length=400,
        description="what the customer is promised (granted, approval_requested)",
        examples=["Ersatzgerät wird bis Freitag verschickt"],
    )
    promise_due: date | None = Field(default=None, strict=False, examples=["2026-11-27"])
    note: str = Field(default="", max_length=4000, description="internal: never for the customer")


class StepOut(Out):
    kind: StepKind
    actor: str = Field(description="agent:<id> or token:<id>")
    actor_name: str
    remedy: Remedy | None
    amount_cents: int | None
    rule_id: int | None = Field(description="the policy rule that matched (null: none)")
    rule_name: str
    note: str
    created_at: datetime

    @classmethod
    def of(cls, step: CaseStep) -> StepOut:
        return cls(
            kind=step.kind,
            actor=step.actor,
            actor_name=step.actor_name,
            remedy=step.remedy,
            amount_cents=step.amount_cents,
            rule_id=step.rule_id,
            rule_name=step.rule_name,
            note=step.note,
            created_at=step.created_at,
        )


class VerdictOut(Out):
    rule_id: int | None = Field(description="the first matching rule (null: none matches)")
    rule_name: str
    agent_remedies: list[Remedy] = Field(description="what an agent may grant directly")
    agent_max_amount_cents: int | None


class CaseOut(Out):
    """A complaint case. Customers get the facts, the state and the promise; ``verdict``,
    ``steps``, ``evidence`` and the pending request are company-internal (null/empty for
    them)."""

    id: int
    conversation_id: int
    state: CaseState
    product: str
    reference: str
    purchase_date: date | None
    category: str
    requested_remedy: Remedy | None = Field(description="null: not yet known")
    amount_cents: int
    granted_remedy: Remedy | None
    granted_amount_cents: int | None
    promise: str
    promise_due: date | None
    pending_remedy: Remedy | None
    pending_amount_cents: int | None
    created_at: datetime
    updated_at: datetime
    decided_at: datetime | None
    fulfilled_at: datetime | None
    overdue_at: datetime | None = Field(
        default=None, description="the promise's due date passed before it was kept"
    )
    may_decide: bool = Field(description="the caller approves and decides beyond the policy")
    verdict: VerdictOut | None
    steps: list[StepOut]
    evidence: list[AttachmentOut]

    @classmethod
    def of(cls, view: complaints.CaseView) -> CaseOut:
        case, verdict = view.case, view.verdict
        internal = verdict is not None
        return cls(
            **_case_fields(case, internal=internal),
            may_decide=view.may_decide,
            verdict=None
            if verdict is None
            else VerdictOut(
                rule_id=None if verdict.rule is None else verdict.rule.id,
                rule_name="" if verdict.rule is None else verdict.rule.name,
                agent_remedies=list(verdict.agent_remedies),
                agent_max_amount_cents=verdict.agent_max_amount_cents,
            ),
            steps=[StepOut.of(s) for s in view.steps],
            evidence=[
                AttachmentOut(
                    id=a.id,
                    name=a.name,
                    content_type=a.content_type,
                    size=a.size,
                    width=a.width,
                    height=a.height,
                    thumbnail=a.thumbnail_key is not None,
                )
                for a in view.evidence
            ],
        )


def _case_fields(case: ComplaintCase, *, internal: bool) -> dict[str, object]:
    promise, promise_due = (case.promise, case.promise_due) if internal else customer_promise(case)
    return {
        "id": case.id,
        "conversation_id": case.conversation_id,
        "state": case.state,
        "product": case.product,
        "reference": case.reference,
        "purchase_date": case.purchase_date,
        "category": case.category,
        "requested_remedy": case.requested_remedy,
        "amount_cents": case.amount_cents,
        "granted_remedy": case.granted_remedy,
        "granted_amount_cents": case.granted_amount_cents,
        "promise": promise,
        "promise_due": promise_due,
        "pending_remedy": case.pending_remedy if internal else None,
        "pending_amount_cents": case.pending_amount_cents if internal else None,
        "created_at": case.created_at,
        "updated_at": case.updated_at,
        "decided_at": case.decided_at,
        "fulfilled_at": case.fulfilled_at,
        "overdue_at": case.overdue_at,
    }


class CaseSummaryOut(Out):
    id: int
    conversation_id: int
    state: CaseState
    product: str
    reference: str
    requested_remedy: Remedy | None
    amount_cents: int
    granted_remedy: Remedy | None
    promise: str
    promise_due: date | None
    pending_remedy: Remedy | None
    pending_amount_cents: int | None
    updated_at: datetime

    @classmethod
    def of(cls, case: ComplaintCase) -> CaseSummaryOut:
        fields = _case_fields(case, internal=True)
        return cls.model_validate({k: fields[k] for k in cls.model_fields})


@router.post(
    "/conversations/{conversation_id}/complaint",
    status_code=status.HTTP_201_CREATED,
    summary="Turn a conversation into a complaint case (company members)",
    openapi_extra=needs(Scope.CONVERSATIONS_WRITE),
)
async def open_case(
    conversation_id: ConvId, body: CaseIn, svc: Svc, principal: CurrentPrincipal
) -> CaseOut:
    """One case per conversation (a second is refused with ``complaint_exists``). Evidence must
    be files of this conversation (the customer's photos, an invoice on a note)."""
    view = await complaints.check_open_case(
        svc.ctx, principal, ConversationId(conversation_id), body.core()
    )
    return CaseOut.of(view)


@router.get(
    "/conversations/{conversation_id}/complaint",
    summary="The conversation's complaint case (members; the customer sees state and promise)",
    openapi_extra=needs(Scope.CONVERSATIONS_READ),
)
async def get_case(conversation_id: ConvId, svc: Svc, principal: CurrentPrincipal) -> CaseOut:
    return CaseOut.of(
        await complaints.view_case(svc.ctx, principal, ConversationId(conversation_id))
    )


@router.put(
    "/conversations/{conversation_id}/complaint",
    summary="Replace the case's facts while it is open (company members)",
    openapi_extra=needs(Scope.CONVERSATIONS_WRITE),
)
async def update_case(
    conversation_id: ConvId, body: CaseIn, svc: Svc, principal: CurrentPrincipal
) -> CaseOut:
    """Refused with ``complaint_state`` once a remedy is requested or decided."""
    view = await complaints.check_update_case(
        svc.ctx, principal, ConversationId(conversation_id), body.core()
    )
    return CaseOut.of(view)


@router.post(
    "/conversations/{conversation_id}/complaint/steps",
    summary="Decide on the case: grant, ask for approval, approve, decline, reject, fulfil",
    openapi_extra=needs(Scope.CONVERSATIONS_WRITE),
)
async def decide(
    conversation_id: ConvId, body: StepIn, svc: Svc, principal: CurrentPrincipal
) -> CaseOut:
    """An agent beyond the policy gets ``approval_required`` (403) and asks for approval
    instead; leads decide a pending approval in one step. A step the case's state does not
    allow is refused with ``complaint_state`` (409). Integrations close a kept promise with
    ``{"kind": "fulfilled"}``."""
    view = await complaints.check_decide(
        svc.ctx,
        principal,
        ConversationId(conversation_id),
        complaints.Decision(
            kind=body.kind,
            remedy=body.remedy,
            amount_cents=body.amount_cents,
            promise=body.promise,
            promise_due=body.promise_due,
            note=body.note,
        ),
    )
    return CaseOut.of(view)


@router.get(
    "/companies/{slug}/complaints",
    summary="The company's complaint cases by state (members)",
    openapi_extra=needs(Scope.CONVERSATIONS_READ),
)
async def list_cases(
    slug: Slug,
    svc: Svc,
    principal: CurrentPrincipal,
    state: Annotated[
        list[CaseState] | None,
        Query(description="any of these states (default: all); e.g. approval_pending, granted"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[CaseSummaryOut]:
    """Granted promises come by due date (undated last), then by last change."""
    cases = await complaints.list_cases(svc.ctx, principal, slug, state or [], limit)
    return [CaseSummaryOut.of(c) for c in cases]
