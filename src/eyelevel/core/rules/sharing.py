"""What a company sees of a customer: the display name the customer chose, and every further
field only while the customer grants that field to that company.

Every company-facing view of a customer (the inbox's lists and customer panel, the API's
conversation payloads, canned-response placeholders filled from them) is built here, from the
customer's grants to that one company; there is no other path from a profile to a company.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from eyelevel.core.entities import Customer, CustomerProfile
from eyelevel.core.ids import CustomerId

# in the order a privacy card lists them
FIELDS = ("first_name", "last_name", "email", "phone", "address", "customer_number")


@dataclass(frozen=True, slots=True)
class SharedCustomer:
    """A customer as one company may see them now (None: not shared, or not given)."""

    id: CustomerId
    name: str  # the display name: always visible
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None
    address: str | None = None
    customer_number: str | None = None
    shared: tuple[str, ...] = ()  # the granted fields, in FIELDS order
    erased: bool = False  # the customer deleted their account (nothing else is left)


def shared_view(
    customer: Customer,
    profile: CustomerProfile | None,
    customer_number: str | None,
    grants: Mapping[str, datetime],
) -> SharedCustomer:
    values = {
        "first_name": profile.first_name if profile else None,
        "last_name": profile.last_name if profile else None,
        "email": customer.email,
        "phone": profile.phone if profile else None,
        "address": profile.address if profile else None,
        "customer_number": customer_number,
    }
    shared = tuple(f for f in FIELDS if f in grants)
    return SharedCustomer(
        customer.id,
        customer.display_name,
        shared=shared,
        erased=customer.erased,
        **{f: values[f] for f in shared},
    )
