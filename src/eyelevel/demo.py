"""Demo data: "Beispiel GmbH" with two teams, three agents and two customers (idempotent)."""

from __future__ import annotations

from dataclasses import dataclass

from eyelevel.core.actions import operator
from eyelevel.core.actions.conversations import check_start_conversation
from eyelevel.core.actions.messages import check_send_message
from eyelevel.core.entities import Role
from eyelevel.core.ports import Context, ConversationFilter
from eyelevel.core.principals import AgentPrincipal, CustomerPrincipal
from eyelevel.core.queries import list_conversations

DEMO_PASSWORD = "eyelevel-demo"  # noqa: S105 - printed to the operator by design
HOURS = {day: [["08:00", "18:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}


@dataclass(frozen=True)
class Login:
    who: str
    kind: str
    email: str
    role: str


async def seed(ctx: Context) -> list[Login]:
    """Create the demo world unless it exists; returns the logins to print."""
    company, _ = await operator.ensure_company(
        ctx,
        slug="beispiel",
        name="Beispiel GmbH",
        description="Haushaltsgeräte und Ersatzteile – wir helfen gern.",
        phone="+49 30 1234567",
        timezone="Europe/Berlin",
        business_hours={**HOURS, "sat": [["09:00", "13:00"]]},
        reply_within_minutes=120,
    )
    support = await operator.ensure_team(ctx, company, "Support")
    complaints = await operator.ensure_team(ctx, company, "Reklamationen")
    agents = [
        ("Anna Admin", "anna@beispiel.example", Role.ADMIN, [support, complaints]),
        ("Ben Berger", "ben@beispiel.example", Role.LEAD, [support]),
        ("Clara Conrad", "clara@beispiel.example", Role.AGENT, [complaints]),
    ]
    logins = []
    created_agents = []
    for name, email, role, teams in agents:
        agent = await operator.ensure_agent(
            ctx, company, email=email, name=name, password=DEMO_PASSWORD, role=role, teams=teams
        )
        created_agents.append(agent)
        logins.append(Login(name, "agent", email, role.value))
    await operator.ensure_company(
        ctx,
        slug="stadtwerke",
        name="Stadtwerke Musterstadt",
        description="Strom, Gas und Wasser für Musterstadt.",
        phone="+49 89 7654321",
        timezone="Europe/Berlin",
        business_hours=HOURS,
    )
    customers = [("Kim Kunde", "kim@example.org"), ("Lena Lang", "lena@example.org")]
    for name, email in customers:
        customer = await operator.ensure_customer(
            ctx, email=email, display_name=name, password=DEMO_PASSWORD
        )
        logins.append(Login(name, "customer", email, "customer"))
        principal = CustomerPrincipal(customer.id, True, customer.display_name)
        existing = await list_conversations(ctx, principal, ConversationFilter(limit=1))
        if existing:
            continue
        started = await check_start_conversation(
            ctx,
            principal,
            company_slug="beispiel",
            subject="Ersatzteil für Waschmaschine",
            body=f"Hallo, ich bin {name.split()[0]} und suche ein Ersatzteil "
            "für meine Waschmaschine.",
            client_id="demo-1",
        )
        ben = created_agents[1]
        await check_send_message(
            ctx,
            AgentPrincipal(ben.id, ben.name, {company.id: Role.LEAD}),
            started.conversation.id,
            body="Hallo! Welches Modell haben Sie? Dann suche ich das passende Teil heraus.",
            client_id="demo-2",
        )
    return logins
