"""Complaint cases (Reklamation) and goodwill decisions (Kulanz).

A company member turns a conversation into a complaint case and records its facts. The
company's goodwill policy (``core/rules/goodwill.py``) tells, for those facts, which remedy an
agent may grant directly; anything beyond it is asked of the leads, who approve or decline it in
one step. Every step is appended to the case's trail with who did it and which rule allowed it.
A granted remedy is a promise to the customer (text and due date) until it is fulfilled, by an
agent or by an integration through the API.

States: open → granted → fulfilled; open → approval_pending → granted (approved) or open
(declined); open or approval_pending → rejected. Facts can be edited while the case is open.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from eyelevel.core.actions.access import (
    access_company_txn,
    access_conversation_txn,
    require_role,
)
from eyelevel.core.actions.audit import actor_of, audit_txn
from eyelevel.core.complaints import (
    CaseId,
    CaseState,
    CaseStep,
    ComplaintCase,
    GoodwillRule,
    NewGoodwillRule,
    Remedy,
    StepKind,
)
from eyelevel.core.entities import Attachment, Conversation, Role
from eyelevel.core.errors import DomainError, ErrorCode, not_found
from eyelevel.core.events import (
    complaint_approval_requested,
    complaint_changed,
    complaint_promise_overdue,
)
from eyelevel.core.ids import AttachmentId, ConversationId
from eyelevel.core.ports import Context, UnitOfWork
from eyelevel.core.principals import (
    AgentPrincipal,
    CustomerPrincipal,
    Principal,
    TokenPrincipal,
    role_in,
)
from eyelevel.core.rules.goodwill import CaseFacts, Verdict, evaluate, prior_months_needed
from eyelevel.core.rules.roles import at_least

MAX_RULES = 50
MAX_CATEGORIES = 20
MAX_EVIDENCE = 20
MAX_AMOUNT_CENTS = 10**10  # 100 million in the currency: far beyond any goodwill
MAX_NOTE = 2000
PROMISE_DUE = "complaint.promise_due"  # job kind; payload {"conversation_id", "case_id", "due"}
OPEN_STATES = (CaseState.OPEN, CaseState.APPROVAL_PENDING)
DECIDED_STATES = (CaseState.GRANTED, CaseState.REJECTED, CaseState.FULFILLED)


@dataclass(frozen=True, slots=True)
class CaseFactsIn:
    """The facts of a case as a member enters them (all fields; see ``check_facts``)."""

    product: str
    reference: str
    purchase_date: date | None
    category: str
    requested_remedy: Remedy | None
    amount_cents: int
    evidence: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class CaseView:
    """A case with what the viewer may see: company members also get the verdict (what they
    may grant directly), the trail and the evidence; a customer gets ``verdict`` None and no
    trail."""

    case: ComplaintCase
    verdict: Verdict | None
    steps: list[CaseStep]
    evidence: list[Attachment]
    may_decide: bool  # the viewer is a lead or admin (approves, decides beyond the policy)


# -- validation --------------------------------------------------------------------------------


def _text(value: str, field: str, limit: int, *, required: bool) -> str:
    value = " ".join(value.split())
    if len(value) > limit or (required and not value):
        size = f"1 to {limit}" if required else f"at most {limit}"
        raise DomainError(ErrorCode.VALIDATION, f"{field} must have {size} characters", field=field)
    return value


def _amount(value: int | None, field: str) -> int | None:
    if value is not None and not 0 <= value <= MAX_AMOUNT_CENTS:
        raise DomainError(
            ErrorCode.VALIDATION, f"{field} must be 0 to {MAX_AMOUNT_CENTS} cents", field=field
        )
    return value


def _bounded(value: int | None, field: str, low: int, high: int) -> int | None:
    if value is not None and not low <= value <= high:
        raise DomainError(ErrorCode.VALIDATION, f"{field} must be {low} to {high}", field=field)
    return value


def check_rule(rule: NewGoodwillRule) -> NewGoodwillRule:
    if len(rule.categories) > MAX_CATEGORIES:
        raise DomainError(
            ErrorCode.VALIDATION,
            f"a rule names at most {MAX_CATEGORIES} categories",
            field="categories",
        )
    categories = tuple(
        dict.fromkeys(_text(c, "categories", 80, required=True) for c in rule.categories)
    )
    return replace(
        rule,
        name=_text(rule.name, "name", 80, required=True),
        max_days_since_purchase=_bounded(
            rule.max_days_since_purchase, "max_days_since_purchase", 0, 3650
        ),
        max_amount_cents=_amount(rule.max_amount_cents, "max_amount_cents"),
        categories=categories,
        max_prior_goodwill=_bounded(rule.max_prior_goodwill, "max_prior_goodwill", 0, 100),
        prior_months=_bounded(rule.prior_months, "prior_months", 1, 60) or 12,
        agent_remedies=tuple(dict.fromkeys(rule.agent_remedies)),
        agent_max_amount_cents=_amount(rule.agent_max_amount_cents, "agent_max_amount_cents"),
    )


def check_facts(facts: CaseFactsIn, today: date) -> CaseFactsIn:
    if facts.purchase_date is not None and facts.purchase_date > today:
        raise DomainError(
            ErrorCode.VALIDATION, "the purchase date lies in the future", field="purchase_date"
        )
    if len(set(facts.evidence)) > MAX_EVIDENCE:
        raise DomainError(
            ErrorCode.VALIDATION, f"at most {MAX_EVIDENCE} files as evidence", field="evidence"
        )
    return replace(
        facts,
        product=_text(facts.product, "product", 200, required=True),
        reference=_text(facts.reference, "reference", 100, required=False),
        category=_text(facts.category, "category", 80, required=False),
        amount_cents=_amount(facts.amount_cents, "amount_cents") or 0,
        evidence=tuple(sorted(set(facts.evidence))),
    )


async def _check_evidence_txn(
    uow: UnitOfWork, conversation: Conversation, ids: Sequence[int]
) -> list[Attachment]:
    """Evidence must be files of this conversation (a customer's photo, or an invoice an agent
    put on a private note); any other id is refused alike, revealing nothing about it."""
    found = []
    for attachment_id in ids:
        got = await uow.attachments.get(AttachmentId(attachment_id))
        if got is None or got[0].conversation_id != conversation.id:
            raise DomainError(
                ErrorCode.VALIDATION,
                "evidence must be files of this conversation",
                field="evidence",
            )
        found.append(got[0])
    return found


# -- the policy --------------------------------------------------------------------------------


async def get_policy(ctx: Context, principal: Principal, slug: str) -> list[GoodwillRule]:
    """The company's goodwill rules in order; every member may read them (they decide by
    them)."""

    async def read(uow: UnitOfWork) -> list[GoodwillRule]:
        company = await access_company_txn(uow, principal, slug, Role.AGENT)
        return await uow.complaints.rules(company.id)

    return await ctx.db.read(read)


async def check_set_policy(
    ctx: Context, principal: Principal, slug: str, rules: Sequence[NewGoodwillRule]
) -> list[GoodwillRule]:
    """Replace the whole policy (admins): the rules in the order given. Audited."""
    if len(rules) > MAX_RULES:
        raise DomainError(
            ErrorCode.VALIDATION, f"a policy has at most {MAX_RULES} rules", field="rules"
        )
    checked = [check_rule(r) for r in rules]

    async def txn(uow: UnitOfWork) -> list[GoodwillRule]:
        company = await access_company_txn(uow, principal, slug, Role.ADMIN)
        now = ctx.clock.now()
        stored = await uow.complaints.replace_rules(company.id, checked, now)
        await audit_txn(
            uow,
            principal,
            company.id,
            "goodwill_policy.updated",
            data={"rules": [r.name for r in stored]},
            now=now,
        )
        return stored

    return await ctx.db.write("set_goodwill_policy", txn)


# -- cases -------------------------------------------------------------------------------------


def _actor_name(principal: Principal) -> str:
    match principal:
        case AgentPrincipal(name=name) | TokenPrincipal(name=name):
            return name
        case _:
            return ""


def _months_before(moment: datetime, months: int) -> datetime:
    month0 = moment.month - 1 - months
    year = moment.year + month0 // 12
    month = month0 % 12 + 1
    day = min(moment.day, 28)  # a look-back window: the day within the month barely matters
    return moment.replace(year=year, month=month, day=day)


async def _verdict_txn(uow: UnitOfWork, case: ComplaintCase, now: datetime) -> Verdict:
    rules = await uow.complaints.rules(case.company_id)
    facts_for: dict[int, CaseFacts] = {}
    for months in prior_months_needed(rules):
        prior = await uow.complaints.prior_goodwill(
            case.company_id, case.customer_id, _months_before(now, months), case.id
        )
        facts_for[months] = CaseFacts(
            purchase_date=case.purchase_date,
            amount_cents=case.amount_cents,
            category=case.category,
            prior_goodwill=prior,
        )
    return evaluate(rules, facts_for, now.date())


async def _case_txn(
    uow: UnitOfWork, principal: Principal, conversation_id: ConversationId, *, write: bool
) -> tuple[Conversation, ComplaintCase]:
    conversation = await access_conversation_txn(uow, principal, conversation_id, for_update=write)
    case = await uow.complaints.of_conversation(
        conversation.company_id, conversation.id, for_update=write
    )
    if case is None:
        raise not_found("complaint case")
    return conversation, case


async def _step_txn(
    uow: UnitOfWork,
    principal: Principal,
    case: ComplaintCase,
    kind: StepKind,
    now: datetime,
    *,
    remedy: Remedy | None = None,
    amount_cents: int | None = None,
    rule: GoodwillRule | None = None,
    note: str = "",
) -> None:
    await uow.complaints.append_step(
        case.company_id,
        {
            "case_id": case.id,
            "kind": kind.value,
            "actor": actor_of(principal),
            "actor_name": _actor_name(principal),
            "remedy": None if remedy is None else remedy.value,
            "amount_cents": amount_cents,
            "rule_id": None if rule is None else rule.id,
            "rule_name": "" if rule is None else rule.name,
            "note": note,
            "created_at": now,
        },
    )


def _staff_only(principal: Principal) -> None:
    """After the conversation's access check: the customer may see it, so 403 reveals
    nothing."""
    if isinstance(principal, CustomerPrincipal):
        raise DomainError(ErrorCode.FORBIDDEN, "only the company handles complaint cases")


async def open_by_topic_txn(
    uow: UnitOfWork, conversation: Conversation, principal: CustomerPrincipal, now: datetime
) -> None:
    """The customer started the conversation with a topic that opens a complaint case (e.g.
    *Reklamation*): the case exists from the start, its facts still to be recorded by an agent;
    the trail names the customer as the one who opened it."""
    if await uow.complaints.of_conversation(conversation.company_id, conversation.id):
        return
    case_id = await uow.complaints.create(
        {
            "company_id": conversation.company_id,
            "conversation_id": conversation.id,
            "customer_id": conversation.customer_id,
            "state": CaseState.OPEN.value,
            **_facts_values(CaseFactsIn("", "", None, "", None, 0, ())),
            "granted_remedy": None,
            "granted_amount_cents": None,
            "promise": "",
            "promise_due": None,
            "pending_remedy": None,
            "pending_amount_cents": None,
            "created_at": now,
            "updated_at": now,
            "decided_at": None,
            "fulfilled_at": None,
        }
    )
    case = await uow.complaints.get(conversation.company_id, case_id)
    assert case is not None
    await uow.complaints.append_step(
        case.company_id,
        {
            "case_id": case.id,
            "kind": StepKind.OPENED.value,
            "actor": f"customer:{principal.customer_id}",
            "actor_name": principal.display_name,
            "remedy": None,
            "amount_cents": None,
            "rule_id": None,
            "rule_name": "",
            "note": "",
            "created_at": now,
        },
    )
    await _emit_changed(uow, case, now)


async def check_open_case(
    ctx: Context, principal: Principal, conversation_id: ConversationId, facts: CaseFactsIn
) -> CaseView:
    """Turn the conversation into a complaint case (company members; one case per
    conversation, a second is refused with ``complaint_exists``)."""
    now = ctx.clock.now()
    facts = check_facts(facts, now.date())

    async def txn(uow: UnitOfWork) -> ComplaintCase:
        conversation = await access_conversation_txn(
            uow, principal, conversation_id, for_update=True
        )
        _staff_only(principal)
        require_role(principal, conversation.company_id, Role.AGENT)
        if await uow.complaints.of_conversation(conversation.company_id, conversation.id):
            raise DomainError(
                ErrorCode.COMPLAINT_EXISTS, "this conversation already is a complaint case"
            )
        await _check_evidence_txn(uow, conversation, facts.evidence)
        case_id = await uow.complaints.create(
            {
                "company_id": conversation.company_id,
                "conversation_id": conversation.id,
                "customer_id": conversation.customer_id,
                "state": CaseState.OPEN.value,
                **_facts_values(facts),
                "granted_remedy": None,
                "granted_amount_cents": None,
                "promise": "",
                "promise_due": None,
                "pending_remedy": None,
                "pending_amount_cents": None,
                "created_at": now,
                "updated_at": now,
                "decided_at": None,
                "fulfilled_at": None,
            }
        )
        case = await uow.complaints.get(conversation.company_id, case_id)
        assert case is not None
        await _step_txn(uow, principal, case, StepKind.OPENED, now)
        await _emit_changed(uow, case, now)
        return case

    case = await ctx.db.write("open_complaint", txn)
    return await view_case(ctx, principal, case.conversation_id)


def _facts_values(facts: CaseFactsIn) -> dict[str, Any]:
    return {
        "product": facts.product,
        "reference": facts.reference,
        "purchase_date": facts.purchase_date,
        "category": facts.category,
        "requested_remedy": None
        if facts.requested_remedy is None
        else facts.requested_remedy.value,
        "amount_cents": facts.amount_cents,
        "evidence": list(facts.evidence),
    }


async def _emit_changed(uow: UnitOfWork, case: ComplaintCase, now: datetime) -> None:
    await uow.emit(
        complaint_changed(
            case.company_id, case.conversation_id, case.customer_id, case.id, case.state.value
        ),
        now,
    )


async def check_update_case(
    ctx: Context, principal: Principal, conversation_id: ConversationId, facts: CaseFactsIn
) -> CaseView:
    """Replace the case's facts while it is open (``complaint_state`` otherwise)."""
    now = ctx.clock.now()
    facts = check_facts(facts, now.date())

    async def txn(uow: UnitOfWork) -> None:
        conversation, case = await _case_txn(uow, principal, conversation_id, write=True)
        _staff_only(principal)
        require_role(principal, case.company_id, Role.AGENT)
        if case.state != CaseState.OPEN:
            raise DomainError(
                ErrorCode.COMPLAINT_STATE, f"the case is {case.state.value}: its facts are fixed"
            )
        await _check_evidence_txn(uow, conversation, facts.evidence)
        values = _facts_values(facts)
        current = _facts_values(
            CaseFactsIn(
                case.product,
                case.reference,
                case.purchase_date,
                case.category,
                case.requested_remedy,
                case.amount_cents,
                case.evidence,
            )
        )
        changed = sorted(k for k in values if values[k] != current[k])
        if not changed:
            return
        await uow.complaints.update(case.company_id, case.id, {**values, "updated_at": now})
        await _step_txn(uow, principal, case, StepKind.UPDATED, now, note=", ".join(changed))
        await _emit_changed(uow, case, now)

    await ctx.db.write("update_complaint", txn)
    return await view_case(ctx, principal, conversation_id)


@dataclass(frozen=True, slots=True)
class Decision:
    """One step on a case: ``kind`` is granted, approval_requested, approved, declined,
    rejected or fulfilled. ``remedy``/``amount_cents``/``promise``/``promise_due`` go with
    granted and approval_requested."""

    kind: StepKind
    remedy: Remedy | None = None
    amount_cents: int | None = None
    promise: str = ""
    promise_due: date | None = None
    note: str = ""


def _check_decision(decision: Decision, today: date) -> Decision:
    note = decision.note.strip()
    if len(note) > MAX_NOTE:
        raise DomainError(
            ErrorCode.VALIDATION, f"note must have at most {MAX_NOTE} characters", field="note"
        )
    if decision.kind in (StepKind.OPENED, StepKind.UPDATED, StepKind.OVERDUE):
        raise DomainError(ErrorCode.VALIDATION, "not a decision", field="kind")
    offers = decision.kind in (StepKind.GRANTED, StepKind.APPROVAL_REQUESTED)
    if offers:
        if decision.remedy is None:
            raise DomainError(ErrorCode.VALIDATION, "name the remedy", field="remedy")
        if decision.amount_cents is None:
            raise DomainError(ErrorCode.VALIDATION, "name the amount", field="amount_cents")
        _amount(decision.amount_cents, "amount_cents")
        if decision.promise_due is not None and decision.promise_due < today:
            raise DomainError(
                ErrorCode.VALIDATION, "the promise is due in the past", field="promise_due"
            )
        promise = _text(decision.promise, "promise", 200, required=True)
        return replace(decision, promise=promise, note=note)
    if decision.remedy is not None or decision.amount_cents is not None:
        raise DomainError(
            ErrorCode.VALIDATION,
            f"a {decision.kind.value} step names no remedy or amount",
            field="remedy",
        )
    return replace(decision, note=note)


def _wrong_state(case: ComplaintCase, kind: StepKind) -> DomainError:
    return DomainError(
        ErrorCode.COMPLAINT_STATE, f"a {case.state.value} case cannot be {kind.value}"
    )


async def check_decide(
    ctx: Context, principal: Principal, conversation_id: ConversationId, decision: Decision
) -> CaseView:
    """Take one step on the case (see the module docstring for the states).

    - granted: an agent within the policy's verdict, a lead or admin always (the trail names
      the matching rule, or none); an agent beyond it gets ``approval_required``.
    - approval_requested: any member, from open; the leads get
      ``complaint.approval_requested`` live.
    - approved / declined: leads and admins, from approval_pending (one step).
    - rejected: any member from open; from approval_pending only leads and admins.
    - fulfilled: the promise was kept (members and API tokens), from granted.
    """
    now = ctx.clock.now()
    decision = _check_decision(decision, now.date())

    async def txn(uow: UnitOfWork) -> None:
        _, case = await _case_txn(uow, principal, conversation_id, write=True)
        _staff_only(principal)
        role = require_role(principal, case.company_id, Role.AGENT)
        lead = at_least(role, Role.LEAD)
        verdict = await _verdict_txn(uow, case, now)
        kind = decision.kind
        values: dict[str, Any] = {"updated_at": now}
        step_remedy, step_amount = decision.remedy, decision.amount_cents
        rule = verdict.rule
        if kind == StepKind.GRANTED:
            if case.state != CaseState.OPEN:
                raise _wrong_state(case, kind)
            assert decision.remedy is not None and decision.amount_cents is not None
            if not lead and not verdict.agent_may_grant(decision.remedy, decision.amount_cents):
                raise DomainError(
                    ErrorCode.APPROVAL_REQUIRED,
                    "the goodwill policy does not let agents grant this: ask a lead to approve",
                )
            values |= _granted(decision, now)
        elif kind == StepKind.APPROVAL_REQUESTED:
            if case.state != CaseState.OPEN:
                raise _wrong_state(case, kind)
            assert decision.remedy is not None and decision.amount_cents is not None
            values |= {
                "state": CaseState.APPROVAL_PENDING.value,
                "pending_remedy": decision.remedy.value,
                "pending_amount_cents": decision.amount_cents,
                "promise": decision.promise,
                "promise_due": decision.promise_due,
            }
        elif kind in (StepKind.APPROVED, StepKind.DECLINED):
            if case.state != CaseState.APPROVAL_PENDING:
                raise _wrong_state(case, kind)
            if not lead:
                raise DomainError(ErrorCode.FORBIDDEN, "only leads and admins approve goodwill")
            step_remedy, step_amount = case.pending_remedy, case.pending_amount_cents
            pending = {"pending_remedy": None, "pending_amount_cents": None}
            if kind == StepKind.APPROVED:
                assert case.pending_remedy is not None and case.pending_amount_cents is not None
                approved = Decision(
                    kind,
                    case.pending_remedy,
                    case.pending_amount_cents,
                    case.promise,
                    case.promise_due,
                )
                values |= pending | _granted(approved, now)
            else:
                values |= pending | {
                    "state": CaseState.OPEN.value,
                    "promise": "",
                    "promise_due": None,
                }
        elif kind == StepKind.REJECTED:
            if case.state not in OPEN_STATES:
                raise _wrong_state(case, kind)
            if case.state == CaseState.APPROVAL_PENDING and not lead:
                raise DomainError(ErrorCode.FORBIDDEN, "a lead decides the pending approval")
            values |= {
                "state": CaseState.REJECTED.value,
                "pending_remedy": None,
                "pending_amount_cents": None,
                "promise": "",
                "promise_due": None,
                "decided_at": now,
            }
        else:  # fulfilled
            if case.state != CaseState.GRANTED:
                raise _wrong_state(case, kind)
            step_remedy, step_amount = case.granted_remedy, case.granted_amount_cents
            values |= {"state": CaseState.FULFILLED.value, "fulfilled_at": now}
        await uow.complaints.update(case.company_id, case.id, values)
        await _step_txn(
            uow,
            principal,
            case,
            kind,
            now,
            remedy=step_remedy,
            amount_cents=step_amount,
            rule=rule,
            note=decision.note,
        )
        updated = replace(case, state=CaseState(values.get("state", case.state.value)))
        await _emit_changed(uow, updated, now)
        if values.get("state") == CaseState.GRANTED.value and values.get("promise_due"):
            await _watch_promise_txn(uow, case, values["promise_due"])
        if kind == StepKind.APPROVAL_REQUESTED:
            assert decision.remedy is not None and decision.amount_cents is not None
            await uow.emit(
                complaint_approval_requested(
                    case.company_id,
                    case.conversation_id,
                    case.id,
                    decision.remedy.value,
                    decision.amount_cents,
                    _actor_name(principal),
                ),
                now,
            )

    await ctx.db.write("decide_complaint", txn)
    return await view_case(ctx, principal, conversation_id)


async def _watch_promise_txn(uow: UnitOfWork, case: ComplaintCase, due: date) -> None:
    """A durable job at the end of the promise's due date (the company's time zone): if the
    promise is still not kept then, it is overdue (:func:`check_promise_due`)."""
    company = await uow.companies.get(case.company_id)
    assert company is not None
    end_of_day = datetime.combine(due + timedelta(days=1), time(), ZoneInfo(company.timezone))
    await uow.jobs.enqueue(
        PROMISE_DUE,
        {"conversation_id": case.conversation_id, "case_id": case.id, "due": due.isoformat()},
        end_of_day.astimezone(UTC),
    )


async def check_promise_due(ctx: Context, case_id: CaseId, conversation_id: int, due: str) -> bool:
    """The ``complaint.promise_due`` job: a granted promise whose due date passed unkept is
    overdue — recorded in the trail, the customer's case shows it honestly, and the company's
    leads get ``complaint.promise_overdue``. Nothing when it was fulfilled, decided anew or
    given another date meanwhile. Returns True when it marked the promise overdue."""

    async def txn(uow: UnitOfWork) -> bool:
        conversation = await uow.conversations.get_for_update(ConversationId(conversation_id))
        if conversation is None:
            return False
        case = await uow.complaints.of_conversation(
            conversation.company_id, conversation.id, for_update=True
        )
        if (
            case is None
            or case.id != case_id
            or case.state != CaseState.GRANTED
            or case.overdue_at is not None
            or case.promise_due is None
            or case.promise_due.isoformat() != due
        ):
            return False
        now = ctx.clock.now()
        await uow.complaints.update(case.company_id, case.id, {"overdue_at": now})
        await uow.complaints.append_step(
            case.company_id,
            {
                "case_id": case.id,
                "kind": StepKind.OVERDUE.value,
                "actor": "system",
                "actor_name": "",
                "remedy": case.granted_remedy.value if case.granted_remedy else None,
                "amount_cents": case.granted_amount_cents,
                "rule_id": None,
                "rule_name": "",
                "note": "",
                "created_at": now,
            },
        )
        await _emit_changed(uow, case, now)
        await uow.emit(
            complaint_promise_overdue(case.company_id, case.conversation_id, case.id, due), now
        )
        return True

    return await ctx.db.write("complaint_promise_due", txn)


def _granted(decision: Decision, now: datetime) -> dict[str, Any]:
    assert decision.remedy is not None
    return {
        "state": CaseState.GRANTED.value,
        "granted_remedy": decision.remedy.value,
        "granted_amount_cents": decision.amount_cents,
        "promise": decision.promise,
        "promise_due": decision.promise_due,
        "decided_at": now,
    }


async def view_case(
    ctx: Context, principal: Principal, conversation_id: ConversationId
) -> CaseView:
    """The conversation's case as the viewer may see it (404 when there is none)."""

    async def read(uow: UnitOfWork) -> CaseView:
        _, case = await _case_txn(uow, principal, conversation_id, write=False)
        if isinstance(principal, CustomerPrincipal):
            return CaseView(case, None, [], [], may_decide=False)
        verdict = await _verdict_txn(uow, case, ctx.clock.now())
        steps = await uow.complaints.steps(case.company_id, case.id)
        evidence = []
        for attachment_id in case.evidence:
            got = await uow.attachments.get(AttachmentId(attachment_id))
            if got is not None:
                evidence.append(got[0])
        role = role_in(principal, case.company_id)
        return CaseView(case, verdict, steps, evidence, may_decide=at_least(role, Role.LEAD))

    return await ctx.db.read(read)


async def list_cases(
    ctx: Context, principal: Principal, slug: str, states: Sequence[CaseState], limit: int
) -> list[ComplaintCase]:
    """The company's cases in the given states: open promises by due date, approvals waiting."""

    async def read(uow: UnitOfWork) -> list[ComplaintCase]:
        company = await access_company_txn(uow, principal, slug, Role.AGENT)
        return await uow.complaints.of_company(company.id, states or list(CaseState), limit)

    return await ctx.db.read(read)
