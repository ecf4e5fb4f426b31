"""The goodwill rule: which remedy an agent may grant directly for a complaint case.

The company's rules are tried in their order; the first whose conditions all hold decides.
Under it an agent may grant one of its ``agent_remedies`` up to its amount limit; anything else
(another remedy, a higher amount, or no rule matching at all) needs a lead's approval. Leads and
admins may decide any remedy themselves; the verdict still names the rule that matched, so the
trail shows whether a decision was inside the policy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from eyelevel.core.complaints import GoodwillRule, Remedy


@dataclass(frozen=True, slots=True)
class CaseFacts:
    purchase_date: date | None
    amount_cents: int
    category: str
    prior_goodwill: int  # granted cases of the customer within the rule's months (see below)


@dataclass(frozen=True, slots=True)
class Verdict:
    rule: GoodwillRule | None  # the first matching rule; None: the policy does not cover it
    agent_remedies: tuple[Remedy, ...]
    agent_max_amount_cents: int | None

    def agent_may_grant(self, remedy: Remedy, amount_cents: int) -> bool:
        if self.rule is None or remedy not in self.agent_remedies:
            return False
        return self.agent_max_amount_cents is None or amount_cents <= self.agent_max_amount_cents


def matches(rule: GoodwillRule, facts: CaseFacts, today: date) -> bool:
    """All of the rule's set conditions hold. A rule with a purchase-age condition does not
    match a case without a purchase date (the age is unknown)."""
    if rule.max_days_since_purchase is not None:
        if facts.purchase_date is None:
            return False
        if (today - facts.purchase_date).days > rule.max_days_since_purchase:
            return False
    if rule.max_amount_cents is not None and facts.amount_cents > rule.max_amount_cents:
        return False
    if rule.categories and facts.category.casefold() not in {c.casefold() for c in rule.categories}:
        return False
    return rule.max_prior_goodwill is None or facts.prior_goodwill <= rule.max_prior_goodwill


def evaluate(
    rules: Sequence[GoodwillRule], facts_for: dict[int, CaseFacts], today: date
) -> Verdict:
    """The verdict of the first matching rule. ``facts_for`` maps a rule's ``prior_months`` to
    the case's facts counted over that many months (see ``prior_months_needed``)."""
    for rule in sorted(rules, key=lambda r: (r.position, r.id)):
        if matches(rule, facts_for[rule.prior_months], today):
            return Verdict(rule, rule.agent_remedies, rule.agent_max_amount_cents)
    return Verdict(None, (), None)


def prior_months_needed(rules: Sequence[GoodwillRule]) -> set[int]:
    """The look-back windows the rules use (one count of earlier goodwill per window)."""
    return {r.prior_months for r in rules}
