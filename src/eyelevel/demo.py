"""Demo data: "Beispiel GmbH" with two teams, three agents and two customers, and a company
set up the way eyelevel is meant to be used: conversation topics (*Reklamation* opens a
complaint case) and a routing rule, response-time promises per team, and a goodwill policy
(idempotent)."""

from __future__ import annotations

from dataclasses import dataclass

from eyelevel.core.actions import calendars, operator, routing
from eyelevel.core.actions.complaints import check_set_policy
from eyelevel.core.actions.conversations import check_start_conversation
from eyelevel.core.actions.messages import check_send_message
from eyelevel.core.complaints import NewGoodwillRule, Remedy
from eyelevel.core.entities import Company, Role, Team
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
    admin = created_agents[0]
    admin_principal = AgentPrincipal(admin.id, admin.name, {company.id: Role.ADMIN})
    await _processes(ctx, company, admin_principal, support, complaints)
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


async def _processes(
    ctx: Context, company: Company, admin: AgentPrincipal, support: Team, complaints_team: Team
) -> None:
    """Topics, a routing rule, the Support team's promises and a goodwill policy, once (a
    company that has topics already is left alone)."""
    if (await routing.list_topics(ctx, admin, company.slug)).topics:
        return
    for name in ("Bestellung", "Technik"):
        await routing.check_create_topic(ctx, admin, company.slug, name=name)
    topic = await routing.check_create_topic(
        ctx, admin, company.slug, name="Reklamation", opens_complaint=True
    )
    await routing.check_create_rule(
        ctx,
        admin,
        company.slug,
        name="Reklamationen an das Reklamationsteam",
        conditions={"topic_ids": [topic.id]},
        team_id=complaints_team.id,
    )
    await calendars.check_set_team_sla(
        ctx,
        admin,
        company.slug,
        support.id,
        {"first_response_minutes": 120, "next_response_minutes": 240, "resolution_minutes": 2400},
    )
    small = NewGoodwillRule(
        name="Kleinbeträge im ersten Jahr",
        max_days_since_purchase=365,
        max_amount_cents=10000,
        categories=(),
        max_prior_goodwill=1,
        prior_months=12,
        agent_remedies=(Remedy.REPLACEMENT, Remedy.REPAIR, Remedy.VOUCHER),
        agent_max_amount_cents=10000,
    )
    warranty = NewGoodwillRule(
        name="Innerhalb der Gewährleistung",
        max_days_since_purchase=730,
        max_amount_cents=None,
        categories=(),
        max_prior_goodwill=None,
        prior_months=12,
        agent_remedies=(Remedy.REPAIR,),
        agent_max_amount_cents=None,
    )
    await check_set_policy(ctx, admin, company.slug, [small, warranty])
