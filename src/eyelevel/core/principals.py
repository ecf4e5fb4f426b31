"""Who is acting: a customer, an agent (with per-company roles), or a company's API token."""

from __future__ import annotations

from dataclasses import dataclass

from eyelevel.core.entities import ALL_SCOPES, Role, Scope
from eyelevel.core.ids import AgentId, CompanyId, CustomerId, TokenId


@dataclass(frozen=True, slots=True)
class CustomerPrincipal:
    customer_id: CustomerId
    email_verified: bool
    display_name: str
    # a website visitor without email or password, known only by its widget's token
    anonymous: bool = False


@dataclass(frozen=True, slots=True)
class AgentPrincipal:
    agent_id: AgentId
    name: str
    # active memberships only: company -> role
    roles: dict[CompanyId, Role]

    @property
    def first_name(self) -> str:
        return self.name.split(" ", 1)[0] if self.name else ""


@dataclass(frozen=True, slots=True)
class TokenPrincipal:
    token_id: TokenId
    company_id: CompanyId
    name: str
    scopes: frozenset[Scope] = ALL_SCOPES


Principal = CustomerPrincipal | AgentPrincipal | TokenPrincipal


def company_ids(principal: Principal) -> frozenset[CompanyId]:
    """The companies whose internal data the principal may see (none for a customer)."""
    match principal:
        case AgentPrincipal(roles=roles):
            return frozenset(roles)
        case TokenPrincipal(company_id=company_id):
            return frozenset({company_id})
        case _:
            return frozenset()


def role_in(principal: Principal, company_id: CompanyId) -> Role | None:
    """The principal's role in a company; an API token acts with admin rights for its company."""
    match principal:
        case AgentPrincipal(roles=roles):
            return roles.get(company_id)
        case TokenPrincipal(company_id=own) if own == company_id:
            return Role.ADMIN
        case _:
            return None
