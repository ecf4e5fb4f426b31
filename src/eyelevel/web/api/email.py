"""Email as a channel: a company's inbound addresses, and an email conversation's addresses
(docs/email.md)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from pydantic import Field

from eyelevel.core.actions import mail_addresses
from eyelevel.core.entities import Scope
from eyelevel.core.ids import ConversationId
from eyelevel.web.api.companies import Slug
from eyelevel.web.auth import CurrentPrincipal, Svc
from eyelevel.web.schemas import ERRORS, In, Out
from eyelevel.web.scopes import needs

router = APIRouter(prefix="/api/v1", tags=["email"], responses=ERRORS)
ConvId = Annotated[int, Path(ge=1, le=2**62, description="conversation id")]


class MailAddressesIn(In):
    addresses: list[Annotated[str, Field(max_length=254)]] = Field(
        max_length=mail_addresses.MAX_ADDRESSES,
        examples=[["support@beispiel.example"]],
        description="the complete new set (an empty list stops receiving mail)",
    )


class MailAddressesOut(Out):
    addresses: list[str] = Field(
        examples=[["support@beispiel.example"]],
        description="where customers write to the company by email, lower case",
    )


class EmailThreadOut(Out):
    address: str = Field(
        examples=["kim@example.org"], description="the customer's: replies go there"
    )
    inbound_address: str = Field(
        examples=["support@beispiel.example"], description="the company's it came in on"
    )


@router.get(
    "/companies/{slug}/mail-addresses",
    summary="The company's inbound mail addresses (members)",
)
async def get_mail_addresses(slug: Slug, svc: Svc, principal: CurrentPrincipal) -> MailAddressesOut:
    """Mail to these addresses becomes conversations in the inbox."""
    found = await mail_addresses.check_get_addresses(svc.ctx, principal, slug)
    return MailAddressesOut(addresses=found)


@router.put(
    "/companies/{slug}/mail-addresses",
    summary="Set the company's inbound mail addresses (admins)",
)
async def set_mail_addresses(
    slug: Slug, body: MailAddressesIn, svc: Svc, principal: CurrentPrincipal
) -> MailAddressesOut:
    """An address another company receives at is refused with ``mail_address_taken`` (409);
    one outside the operator's domains (``EYELEVEL_MAIL_DOMAINS``) or the server's own sender
    address with ``validation_error`` (422). Audited."""
    kept = await mail_addresses.check_set_addresses(svc.ctx, principal, slug, body.addresses)
    return MailAddressesOut(addresses=kept)


@router.get(
    "/conversations/{conversation_id}/email",
    summary="An email conversation's addresses (its company and its customer)",
    openapi_extra=needs(Scope.CUSTOMERS_READ),
)
async def get_email_thread(
    conversation_id: ConvId, svc: Svc, principal: CurrentPrincipal
) -> EmailThreadOut:
    """404 for a conversation that did not come by email. The company sees the customer's
    address here (replies go to it) whether or not the customer shares their email."""
    thread = await mail_addresses.check_email_thread(
        svc.ctx, principal, ConversationId(conversation_id)
    )
    return EmailThreadOut(address=thread.address, inbound_address=thread.inbound_address)
