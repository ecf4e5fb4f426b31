"""Customer profiles, per-company sharing grants and the append-only consent ledger."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import and_, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite

from eyelevel.core.entities import ConsentEntry, Customer, CustomerProfile
from eyelevel.core.ids import CompanyId, CustomerId
from eyelevel.core.rules.sharing import SharedCustomer, shared_view
from eyelevel.storage import schema as t
from eyelevel.storage.rows import Repo

_PROFILE = ("first_name", "last_name", "phone", "address")


def _profile_from(r: Any) -> CustomerProfile:
    return CustomerProfile(CustomerId(r.customer_id), *(getattr(r, f) for f in _PROFILE))


class SqlSharing(Repo):
    async def profile(self, customer_id: CustomerId) -> CustomerProfile | None:
        p = t.customer_profiles.c
        r = await self._one(select(t.customer_profiles).where(p.customer_id == customer_id))
        return _profile_from(r) if r else None

    async def save_profile(self, profile: CustomerProfile, now: datetime) -> None:
        p = t.customer_profiles.c
        values: dict[str, Any] = {f: getattr(profile, f) for f in _PROFILE}
        done = await self._c.execute(
            update(t.customer_profiles)
            .where(p.customer_id == profile.customer_id)
            .values(**values, updated_at=now)
        )
        if not done.rowcount:
            await self._c.execute(
                insert(t.customer_profiles).values(
                    customer_id=profile.customer_id, **values, updated_at=now
                )
            )

    async def number(self, customer_id: CustomerId, company_id: CompanyId) -> str | None:
        n = t.customer_numbers.c
        r = await self._one(
            select(n.number).where(n.customer_id == customer_id, n.company_id == company_id)
        )
        return str(r.number) if r else None

    async def set_number(
        self, customer_id: CustomerId, company_id: CompanyId, number: str | None
    ) -> None:
        n = t.customer_numbers.c
        key = (n.customer_id == customer_id, n.company_id == company_id)
        await self._c.execute(delete(t.customer_numbers).where(*key))
        if number is not None:
            await self._c.execute(
                insert(t.customer_numbers).values(
                    customer_id=customer_id, company_id=company_id, number=number
                )
            )

    async def grants(self, customer_id: CustomerId, company_id: CompanyId) -> dict[str, datetime]:
        g = t.sharing_grants.c
        rows = await self._all(
            select(g.field, g.granted_at).where(
                g.customer_id == customer_id, g.company_id == company_id
            )
        )
        return {r.field: r.granted_at for r in rows}

    async def companies_granted(
        self, customer_id: CustomerId, fields: Sequence[str]
    ) -> list[CompanyId]:
        g = t.sharing_grants.c
        rows = await self._all(
            select(g.company_id)
            .where(g.customer_id == customer_id, g.field.in_(sorted(set(fields))))
            .group_by(g.company_id)
            .order_by(g.company_id)
        )
        return [CompanyId(r.company_id) for r in rows]

    async def grant(
        self, customer_id: CustomerId, company_id: CompanyId, field: str, now: datetime
    ) -> None:
        # a grant that exists already keeps its time ("shared since")
        dialect = postgresql if self._c.dialect.name == "postgresql" else sqlite
        await self._c.execute(
            dialect.insert(t.sharing_grants)
            .values(customer_id=customer_id, company_id=company_id, field=field, granted_at=now)
            .on_conflict_do_nothing()
        )

    async def revoke(self, customer_id: CustomerId, company_id: CompanyId, field: str) -> None:
        g = t.sharing_grants.c
        await self._c.execute(
            delete(t.sharing_grants).where(
                g.customer_id == customer_id, g.company_id == company_id, g.field == field
            )
        )

    async def append_consent(self, entry: ConsentEntry) -> None:
        await self._c.execute(
            insert(t.consent_ledger).values(
                customer_id=entry.customer_id,
                company_id=entry.company_id,
                action=entry.action,
                field=entry.field,
                screen=entry.screen,
                text_version=entry.text_version,
                created_at=entry.created_at,
            )
        )

    async def ledger(self, customer_id: CustomerId, limit: int) -> list[ConsentEntry]:
        c = t.consent_ledger.c
        rows = await self._all(
            select(t.consent_ledger)
            .where(c.customer_id == customer_id)
            .order_by(c.id.desc())
            .limit(limit)
        )
        return [
            ConsentEntry(
                r.id,
                CustomerId(r.customer_id),
                CompanyId(r.company_id),
                r.action,
                r.field,
                r.screen,
                r.text_version,
                r.created_at,
            )
            for r in rows
        ]

    async def shared_with(
        self, company_id: CompanyId, customers: Sequence[Customer]
    ) -> dict[CustomerId, SharedCustomer]:
        if not customers:
            return {}
        g, p, n = t.sharing_grants.c, t.customer_profiles.c, t.customer_numbers.c
        ids = sorted({c.id for c in customers})
        # the grants, each row with the customer's profile and number (few rows per customer)
        rows = await self._all(
            select(g.customer_id, g.field, g.granted_at, *(p[f] for f in _PROFILE), n.number)
            .select_from(
                t.sharing_grants.outerjoin(
                    t.customer_profiles, p.customer_id == g.customer_id
                ).outerjoin(
                    t.customer_numbers,
                    and_(n.customer_id == g.customer_id, n.company_id == g.company_id),
                )
            )
            .where(g.company_id == company_id, g.customer_id.in_(ids))
        )
        grants: dict[CustomerId, dict[str, datetime]] = {}
        profiles: dict[CustomerId, CustomerProfile] = {}
        numbers: dict[CustomerId, str | None] = {}
        for r in rows:
            cid = CustomerId(r.customer_id)
            grants.setdefault(cid, {})[r.field] = r.granted_at
            profiles[cid] = _profile_from(r)
            numbers[cid] = r.number
        return {
            c.id: shared_view(c, profiles.get(c.id), numbers.get(c.id), grants.get(c.id, {}))
            for c in customers
        }
