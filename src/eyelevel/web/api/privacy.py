"""The customer's privacy: their profile, what each company sees (the privacy card), and the
consent ledger. Customers only: a company never reaches these routes (docs/privacy.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter
from pydantic import ConfigDict, Field

from eyelevel.core.actions import sharing
from eyelevel.core.actions.sharing import MyProfile, PrivacyCard
from eyelevel.core.rules.sharing import FIELDS
from eyelevel.web.api.companies import Slug
from eyelevel.web.auth import CurrentPrincipal, Svc
from eyelevel.web.schemas import ERRORS, CompanyRefOut, CustomerRefOut, In, Out

router = APIRouter(prefix="/api/v1/me", tags=["privacy"], responses=ERRORS)
Field_ = Literal["first_name", "last_name", "email", "phone", "address", "customer_number"]
assert set(Field_.__args__) == set(FIELDS)  # type: ignore[attr-defined]


class ProfileIn(In):
    """The complete profile; an empty or missing value removes it."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "first_name": "Kim",
                    "last_name": "Kunde",
                    "phone": "+49 170 1234567",
                    "address": "",
                }
            ]
        }
    )

    first_name: str | None = Field(default=None, max_length=200)
    last_name: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=80, examples=["+49 30 1234567"])
    address: str | None = Field(default=None, max_length=1000, description="several lines")


class ProfileOut(Out):
    display_name: str = Field(description="what every company sees")
    email: str | None = Field(description="the account's email (null for a visitor)")
    first_name: str | None
    last_name: str | None
    phone: str | None
    address: str | None

    @classmethod
    def of(cls, mine: MyProfile) -> ProfileOut:
        p = mine.profile
        return cls(
            display_name=mine.display_name,
            email=mine.email,
            first_name=p.first_name,
            last_name=p.last_name,
            phone=p.phone,
            address=p.address,
        )


class SharingIn(In):
    fields: dict[Field_, bool] = Field(
        default_factory=dict,
        description="field → true (share with this company) or false (stop sharing)",
        examples=[{"phone": True, "email": False}],
    )
    screen: str = Field(
        max_length=40, description="where the customer decided (e.g. privacy_card, callback)"
    )
    text_version: str = Field(max_length=40, description="the version of the wording shown")
    customer_number: str | None = Field(
        default=None,
        max_length=120,
        description="with set_customer_number: the customer's number at this company",
    )
    set_customer_number: bool = False


class SharedFieldOut(Out):
    field: Field_
    shared: bool
    since: datetime | None = Field(description="shared since (null while not shared)")


class PrivacyCardOut(Out):
    company: CompanyRefOut
    fields: list[SharedFieldOut]
    visible: CustomerRefOut = Field(description="exactly what this company can see right now")
    customer_number: str | None = Field(description="the customer's number there, shared or not")

    @classmethod
    def of(cls, card: PrivacyCard) -> PrivacyCardOut:
        c = card.company
        return cls(
            company=CompanyRefOut(id=c.id, slug=c.slug, name=c.name),
            fields=[
                SharedFieldOut(field=f, shared=f in card.since, since=card.since.get(f))
                for f in FIELDS
            ],
            visible=CustomerRefOut.of(card.view),
            customer_number=card.customer_number,
        )


class ConsentOut(Out):
    id: int
    company: CompanyRefOut | None
    action: Literal["grant", "revoke"]
    field: str
    screen: str
    text_version: str
    created_at: datetime


@router.get("/profile", summary="My profile (customers)")
async def get_profile(svc: Svc, principal: CurrentPrincipal) -> ProfileOut:
    return ProfileOut.of(await sharing.my_profile(svc.ctx, principal))


@router.put("/profile", summary="Change my profile (customers)")
async def put_profile(body: ProfileIn, svc: Svc, principal: CurrentPrincipal) -> ProfileOut:
    """Companies see a field only while it is shared with them; those that do are told."""
    mine = await sharing.check_update_profile(
        svc.ctx,
        principal,
        first_name=body.first_name,
        last_name=body.last_name,
        phone=body.phone,
        address=body.address,
    )
    return ProfileOut.of(mine)


@router.get("/privacy/{slug}", summary="What this company can see of me (customers)")
async def get_privacy_card(slug: Slug, svc: Svc, principal: CurrentPrincipal) -> PrivacyCardOut:
    return PrivacyCardOut.of(await sharing.privacy_card(svc.ctx, principal, slug))


@router.put("/privacy/{slug}", summary="Share or stop sharing fields with a company (customers)")
async def put_privacy_card(
    slug: Slug, body: SharingIn, svc: Svc, principal: CurrentPrincipal
) -> PrivacyCardOut:
    """Each real change is appended to the consent ledger and takes effect at once."""
    card = await sharing.check_set_sharing(
        svc.ctx,
        principal,
        slug,
        fields={str(k): v for k, v in body.fields.items()},
        screen=body.screen,
        text_version=body.text_version,
        customer_number=body.customer_number,
        set_number=body.set_customer_number,
    )
    return PrivacyCardOut.of(card)


@router.get("/consents", summary="My consent ledger, newest first (customers)")
async def get_consents(svc: Svc, principal: CurrentPrincipal) -> list[ConsentOut]:
    entries, companies = await sharing.consent_ledger(svc.ctx, principal)
    out = []
    for e in entries:
        c = companies.get(e.company_id)
        out.append(
            ConsentOut(
                id=e.id,
                company=CompanyRefOut(id=c.id, slug=c.slug, name=c.name) if c else None,
                action="grant" if e.action == "grant" else "revoke",
                field=e.field,
                screen=e.screen,
                text_version=e.text_version,
                created_at=e.created_at,
            )
        )
    return out
