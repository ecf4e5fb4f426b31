"""Fetch-and-authorize, the single place where tenancy is checked.

An object of another company or another customer is reported as missing (404), never as
forbidden, so its existence does not leak. A *restricted* conversation (its customer was erased
while it was under legal hold, docs/privacy.md) is missing to everyone but the company's admins,
who may read it and change nothing in it (``409 conversation_restricted``).
"""

from __future__ import annotations

from eyelevel.core.entities import Company, Conversation, Role
from eyelevel.core.errors import DomainError, ErrorCode, not_found
from eyelevel.core.ids import CompanyId, ConversationId
from eyelevel.core.ports import UnitOfWork
from eyelevel.core.principals import CustomerPrincipal, Principal, role_in
from eyelevel.core.rules.roles import at_least


def can_see_conversation(principal: Principal, conversation: Conversation) -> bool:
    if isinstance(principal, CustomerPrincipal):
        return conversation.customer_id == principal.customer_id
    return role_in(principal, conversation.company_id) is not None


async def access_conversation_txn(
    uow: UnitOfWork,
    principal: Principal,
    conversation_id: ConversationId,
    *,
    for_update: bool = False,
) -> Conversation:
    repo = uow.conversations
    conversation = await (
        repo.get_for_update(conversation_id) if for_update else repo.get(conversation_id)
    )
    if conversation is None or not can_see_conversation(principal, conversation):
        raise not_found("conversation")
    if conversation.restricted:
        role = role_in(principal, conversation.company_id)
        if role is None or not at_least(role, Role.ADMIN):
            raise not_found("conversation")
        if for_update:
            raise DomainError(
                ErrorCode.CONVERSATION_RESTRICTED,
                "the customer was erased: this conversation is kept under legal hold, read-only",
            )
    return conversation


def require_role(principal: Principal, company_id: CompanyId, needed: Role) -> Role:
    """The principal's role, when at least ``needed``. Non-members get 404 for the company."""
    role = role_in(principal, company_id)
    if role is None:
        raise not_found("company")
    if not at_least(role, needed):
        raise DomainError(ErrorCode.FORBIDDEN, f"this needs the role {needed.value}")
    return role


async def access_company_txn(
    uow: UnitOfWork, principal: Principal, slug: str, needed: Role
) -> Company:
    company = await uow.companies.get_by_slug(slug)
    if company is None:
        raise not_found("company")
    require_role(principal, company.id, needed)
    return company
