"""Complaint cases, their trail, and the goodwill policy's rules."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.engine import Row

from eyelevel.core.complaints import (
    CaseId,
    CaseState,
    CaseStep,
    ComplaintCase,
    GoodwillRule,
    NewGoodwillRule,
    Remedy,
    RuleId,
    StepKind,
)
from eyelevel.core.ids import CompanyId, ConversationId, CustomerId
from eyelevel.storage import schema as t
from eyelevel.storage.rows import Repo

GRANTED_STATES = (CaseState.GRANTED.value, CaseState.FULFILLED.value)


def _rule(r: Row[Any]) -> GoodwillRule:
    return GoodwillRule(
        id=RuleId(r.id),
        company_id=CompanyId(r.company_id),
        position=r.position,
        name=r.name,
        max_days_since_purchase=r.max_days_since_purchase,
        max_amount_cents=r.max_amount_cents,
        categories=tuple(r.categories),
        max_prior_goodwill=r.max_prior_goodwill,
        prior_months=r.prior_months,
        agent_remedies=tuple(Remedy(x) for x in r.agent_remedies),
        agent_max_amount_cents=r.agent_max_amount_cents,
    )


def _remedy(value: str | None) -> Remedy | None:
    return None if value is None else Remedy(value)


def _case(r: Row[Any]) -> ComplaintCase:
    return ComplaintCase(
        id=CaseId(r.id),
        company_id=CompanyId(r.company_id),
        conversation_id=ConversationId(r.conversation_id),
        customer_id=CustomerId(r.customer_id),
        state=CaseState(r.state),
        product=r.product,
        reference=r.reference,
        purchase_date=r.purchase_date,
        category=r.category,
        requested_remedy=_remedy(r.requested_remedy),
        amount_cents=r.amount_cents,
        evidence=tuple(int(x) for x in r.evidence),
        granted_remedy=_remedy(r.granted_remedy),
        granted_amount_cents=r.granted_amount_cents,
        promise=r.promise,
        promise_due=r.promise_due,
        pending_remedy=_remedy(r.pending_remedy),
        pending_amount_cents=r.pending_amount_cents,
        created_at=r.created_at,
        updated_at=r.updated_at,
        decided_at=r.decided_at,
        fulfilled_at=r.fulfilled_at,
        overdue_at=r.overdue_at,
    )


def _step(r: Row[Any]) -> CaseStep:
    return CaseStep(
        id=r.id,
        case_id=CaseId(r.case_id),
        kind=StepKind(r.kind),
        actor=r.actor,
        actor_name=r.actor_name,
        remedy=_remedy(r.remedy),
        amount_cents=r.amount_cents,
        rule_id=None if r.rule_id is None else RuleId(r.rule_id),
        rule_name=r.rule_name,
        note=r.note,
        created_at=r.created_at,
    )


class SqlComplaints(Repo):
    # -- the policy ----------------------------------------------------------------------------

    async def rules(self, company_id: CompanyId) -> list[GoodwillRule]:
        c = t.goodwill_rules.c
        rows = await self._all(
            select(t.goodwill_rules).where(c.company_id == company_id).order_by(c.position, c.id)
        )
        return [_rule(r) for r in rows]

    async def replace_rules(
        self, company_id: CompanyId, rules: Sequence[NewGoodwillRule], now: datetime
    ) -> list[GoodwillRule]:
        await self._c.execute(
            delete(t.goodwill_rules).where(t.goodwill_rules.c.company_id == company_id)
        )
        for position, rule in enumerate(rules):
            await self._insert_id(
                t.goodwill_rules,
                {
                    "company_id": company_id,
                    "position": position,
                    "name": rule.name,
                    "max_days_since_purchase": rule.max_days_since_purchase,
                    "max_amount_cents": rule.max_amount_cents,
                    "categories": list(rule.categories),
                    "max_prior_goodwill": rule.max_prior_goodwill,
                    "prior_months": rule.prior_months,
                    "agent_remedies": [r.value for r in rule.agent_remedies],
                    "agent_max_amount_cents": rule.agent_max_amount_cents,
                    "created_at": now,
                },
            )
        return await self.rules(company_id)

    # -- cases ---------------------------------------------------------------------------------

    async def of_conversation(
        self, company_id: CompanyId, conversation_id: ConversationId, *, for_update: bool = False
    ) -> ComplaintCase | None:
        c = t.complaint_cases.c
        stmt = select(t.complaint_cases).where(
            c.company_id == company_id, c.conversation_id == conversation_id
        )
        r = await self._one(stmt.with_for_update() if for_update else stmt)
        return _case(r) if r else None

    async def create(self, values: dict[str, Any]) -> CaseId:
        return CaseId(await self._insert_id(t.complaint_cases, values))

    async def update(self, company_id: CompanyId, case_id: CaseId, values: dict[str, Any]) -> None:
        c = t.complaint_cases.c
        await self._c.execute(
            update(t.complaint_cases)
            .where(c.company_id == company_id, c.id == case_id)
            .values(**values)
        )

    async def get(self, company_id: CompanyId, case_id: CaseId) -> ComplaintCase | None:
        c = t.complaint_cases.c
        r = await self._one(
            select(t.complaint_cases).where(c.company_id == company_id, c.id == case_id)
        )
        return _case(r) if r else None

    async def prior_goodwill(
        self, company_id: CompanyId, customer_id: CustomerId, since: datetime, exclude: CaseId
    ) -> int:
        """The customer's cases with this company granted since ``since`` (this one aside)."""
        c = t.complaint_cases.c
        r = await self._one(
            select(func.count()).where(
                c.company_id == company_id,
                c.customer_id == customer_id,
                c.state.in_(GRANTED_STATES),
                c.decided_at >= since,
                c.id != exclude,
            )
        )
        return int(r[0]) if r else 0

    async def of_company(
        self, company_id: CompanyId, states: Sequence[CaseState], limit: int
    ) -> list[ComplaintCase]:
        """Cases in the given states: promises due first (no due date last), then oldest.
        A restricted conversation's case is in no list (docs/privacy.md, *Erasure*)."""
        c, v = t.complaint_cases.c, t.conversations.c
        rows = await self._all(
            select(t.complaint_cases)
            .join(t.conversations, v.id == c.conversation_id)
            .where(
                c.company_id == company_id,
                c.state.in_([s.value for s in states]),
                v.restricted_at.is_(None),
            )
            .order_by(c.promise_due.is_(None), c.promise_due, c.updated_at, c.id)
            .limit(limit)
        )
        return [_case(r) for r in rows]

    # -- the trail -----------------------------------------------------------------------------

    async def append_step(self, company_id: CompanyId, values: dict[str, Any]) -> None:
        await self._insert_id(t.complaint_steps, {"company_id": company_id, **values})

    async def steps(self, company_id: CompanyId, case_id: CaseId) -> list[CaseStep]:
        c = t.complaint_steps.c
        rows = await self._all(
            select(t.complaint_steps)
            .where(c.company_id == company_id, c.case_id == case_id)
            .order_by(c.id)
        )
        return [_step(r) for r in rows]
