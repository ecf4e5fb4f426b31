"""Accounts (customers, agents, memberships, invitations), API tokens and sessions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, insert, select, update

from eyelevel.core.entities import (
    Agent,
    ApiToken,
    Customer,
    Membership,
    Role,
    Scope,
)
from eyelevel.core.ids import (
    AgentId,
    CompanyId,
    CustomerId,
    TokenId,
)
from eyelevel.core.ports import Invitation, SessionRecord
from eyelevel.storage import schema as t
from eyelevel.storage.rows import (
    Repo,
    agent_from,
    customer_from,
    scopes_text,
    token_from,
)


class SqlAccounts(Repo):
    async def get_customer(self, customer_id: CustomerId) -> Customer | None:
        r = await self._one(select(t.customers).where(t.customers.c.id == customer_id))
        return customer_from(r) if r else None

    async def get_customer_by_email(self, email: str) -> Customer | None:
        r = await self._one(select(t.customers).where(t.customers.c.email == email))
        return customer_from(r) if r else None

    async def create_customer(
        self, *, email: str | None, display_name: str, password_hash: str, now: datetime
    ) -> Customer:
        cid = await self._insert_id(
            t.customers,
            {
                "email": email,
                "display_name": display_name,
                "password_hash": password_hash,
                "created_at": now,
            },
        )
        return Customer(CustomerId(cid), email, display_name, password_hash, False, now)

    async def claim_customer(
        self, customer_id: CustomerId, *, email: str, display_name: str, password_hash: str
    ) -> bool:
        done = await self._c.execute(
            update(t.customers)
            .where(t.customers.c.id == customer_id, t.customers.c.email.is_(None))
            .values(email=email, display_name=display_name, password_hash=password_hash)
        )
        return bool(done.rowcount)

    async def merge_customer(self, source: CustomerId, into: CustomerId) -> int:
        moved = await self._c.execute(
            update(t.conversations)
            .where(t.conversations.c.customer_id == source)
            .values(customer_id=into)
        )
        await self._c.execute(
            update(t.messages)
            .where(t.messages.c.author_customer_id == source)
            .values(author_customer_id=into)
        )
        # the conversations' own rows that name their customer go with them
        for table in (t.callbacks, t.complaint_cases):
            await self._c.execute(
                update(table).where(table.c.customer_id == source).values(customer_id=into)
            )
        # the stream stays true: its payloads name the account the conversation belongs to now
        e = t.events.c
        created = await self._all(
            select(e.pos, e.payload).where(
                e.customer_id == source, e.type == "conversation.created"
            )
        )
        for row in created:
            await self._c.execute(
                update(t.events)
                .where(e.pos == row.pos)
                .values(payload={**row.payload, "customer_id": into})
            )
        await self._c.execute(
            update(t.events).where(e.customer_id == source).values(customer_id=into)
        )
        await self._c.execute(
            delete(t.sessions).where(
                t.sessions.c.kind == "customer", t.sessions.c.principal_id == source
            )
        )
        await self._c.execute(
            update(t.email_senders)
            .where(t.email_senders.c.customer_id == source)
            .values(customer_id=into)
        )
        # the visitor's devices now notify the account they signed in to
        await self._c.execute(
            update(t.push_subscriptions)
            .where(t.push_subscriptions.c.customer_id == source)
            .values(customer_id=into)
        )
        await self._c.execute(delete(t.customers).where(t.customers.c.id == source))
        return int(moved.rowcount)

    async def set_customer_verified(self, customer_id: CustomerId, now: datetime) -> None:
        await self._c.execute(
            update(t.customers)
            .where(t.customers.c.id == customer_id, t.customers.c.email_verified_at.is_(None))
            .values(email_verified_at=now)
        )

    async def get_agent(self, agent_id: AgentId) -> Agent | None:
        r = await self._one(select(t.agents).where(t.agents.c.id == agent_id))
        return agent_from(r) if r else None

    async def get_agent_by_email(self, email: str) -> Agent | None:
        r = await self._one(select(t.agents).where(t.agents.c.email == email))
        return agent_from(r) if r else None

    async def create_agent(
        self, *, email: str, name: str, password_hash: str, now: datetime
    ) -> Agent:
        aid = await self._insert_id(
            t.agents,
            {
                "email": email,
                "name": name,
                "password_hash": password_hash,
                "active": True,
                "created_at": now,
            },
        )
        return Agent(AgentId(aid), email, name, password_hash, True, now)

    async def memberships_of(self, agent_id: AgentId) -> list[Membership]:
        rows = await self._all(select(t.memberships).where(t.memberships.c.agent_id == agent_id))
        return [
            Membership(CompanyId(r.company_id), AgentId(r.agent_id), Role(r.role), r.active)
            for r in rows
        ]

    async def get_membership(self, company_id: CompanyId, agent_id: AgentId) -> Membership | None:
        r = await self._one(
            select(t.memberships).where(
                t.memberships.c.company_id == company_id, t.memberships.c.agent_id == agent_id
            )
        )
        return Membership(company_id, agent_id, Role(r.role), r.active) if r else None

    async def upsert_membership(
        self, company_id: CompanyId, agent_id: AgentId, role: Role, now: datetime
    ) -> None:
        changed = await self._c.execute(
            update(t.memberships)
            .where(t.memberships.c.company_id == company_id, t.memberships.c.agent_id == agent_id)
            .values(role=role.value, active=True)
        )
        if changed.rowcount == 0:
            await self._c.execute(
                insert(t.memberships).values(
                    company_id=company_id,
                    agent_id=agent_id,
                    role=role.value,
                    active=True,
                    created_at=now,
                )
            )

    async def create_invitation(
        self,
        *,
        company_id: CompanyId,
        email: str,
        role: Role,
        token_hash: str,
        expires_at: datetime,
        now: datetime,
    ) -> Invitation:
        iid = await self._insert_id(
            t.invitations,
            {
                "company_id": company_id,
                "email": email,
                "role": role.value,
                "token_hash": token_hash,
                "created_at": now,
                "expires_at": expires_at,
            },
        )
        return Invitation(iid, company_id, email, role, expires_at, None)

    async def get_invitation(self, token_hash: str) -> Invitation | None:
        r = await self._one(select(t.invitations).where(t.invitations.c.token_hash == token_hash))
        if r is None:
            return None
        return Invitation(
            r.id, CompanyId(r.company_id), r.email, Role(r.role), r.expires_at, r.accepted_at
        )

    async def accept_invitation(self, invitation_id: int, now: datetime) -> None:
        await self._c.execute(
            update(t.invitations).where(t.invitations.c.id == invitation_id).values(accepted_at=now)
        )


class SqlTokens(Repo):
    async def create(
        self,
        *,
        company_id: CompanyId,
        name: str,
        prefix: str,
        token_hash: str,
        scopes: frozenset[Scope],
        expires_at: datetime | None,
        now: datetime,
    ) -> ApiToken:
        tid = await self._insert_id(
            t.api_tokens,
            {
                "company_id": company_id,
                "name": name,
                "prefix": prefix,
                "token_hash": token_hash,
                "scopes": scopes_text(scopes),
                "expires_at": expires_at,
                "created_at": now,
            },
        )
        return ApiToken(TokenId(tid), company_id, name, prefix, now, None, None, scopes, expires_at)

    async def get_by_hash(self, token_hash: str) -> ApiToken | None:
        r = await self._one(select(t.api_tokens).where(t.api_tokens.c.token_hash == token_hash))
        return token_from(r) if r else None

    async def of_company(self, company_id: CompanyId) -> list[ApiToken]:
        rows = await self._all(
            select(t.api_tokens)
            .where(t.api_tokens.c.company_id == company_id)
            .order_by(t.api_tokens.c.id)
        )
        return [token_from(r) for r in rows]

    async def revoke(self, company_id: CompanyId, token_id: TokenId, now: datetime) -> bool:
        c = t.api_tokens.c
        res = await self._c.execute(
            update(t.api_tokens)
            .where(c.company_id == company_id, c.id == token_id, c.revoked_at.is_(None))
            .values(revoked_at=now)
        )
        return bool(res.rowcount)

    async def touch(self, token_id: TokenId, now: datetime) -> None:
        await self._c.execute(
            update(t.api_tokens).where(t.api_tokens.c.id == token_id).values(last_used_at=now)
        )


class SqlSessions(Repo):
    async def create(
        self,
        *,
        id_hash: str,
        kind: str,
        principal_id: int,
        csrf_token: str,
        now: datetime,
        expires_at: datetime,
        user_agent: str = "",
    ) -> None:
        await self._c.execute(
            insert(t.sessions).values(
                id_hash=id_hash,
                kind=kind,
                principal_id=principal_id,
                csrf_token=csrf_token,
                created_at=now,
                expires_at=expires_at,
                user_agent=user_agent,
            )
        )

    async def get(self, id_hash: str) -> SessionRecord | None:
        r = await self._one(select(t.sessions).where(t.sessions.c.id_hash == id_hash))
        return SessionRecord(r.kind, r.principal_id, r.csrf_token, r.expires_at) if r else None

    async def delete(self, id_hash: str) -> None:
        await self._c.execute(delete(t.sessions).where(t.sessions.c.id_hash == id_hash))
