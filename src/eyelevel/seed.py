"""``eyelevel seed``: a large, realistic company for benchmarks and for trying the inbox.

The company, its teams and agents are made with the operator actions (real password hashes,
memberships); labels, customers, conversations, messages, mentions, conversation labels and
read markers are generated here and written in large batches by a :class:`Loader` (the
storage layer's ``BulkLoader``, handed in by the command line: this module does not import
storage). Seeded rows do not enter the event stream: clients read them through the API.

What it looks like: four teams, an admin in all of them and ``agents`` agents; about three
conversations per customer; statuses open 30 %, pending 12 %, snoozed 8 %, resolved 50 %;
owners an agent 45 %, a team 30 %, nobody 25 %; open conversations whose last message is the
customer's wait since their first unanswered message (``waiting_since``); German (70 %) and
English conversations with bodies composed from a small phrase list plus order and invoice
numbers; about one message in ten a private note, half of those mentioning colleagues; the
company's labels (six are created when it has none) on 40 % of the conversations. The same
``--random-seed`` gives the same data.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from eyelevel.core.actions import operator
from eyelevel.core.entities import Agent, Company, Role, Team
from eyelevel.core.ports import Context

SEED_PASSWORD = "eyelevel-seed"  # noqa: S105 - printed to the operator by design
CHUNK = 2_000  # conversations per transaction (about 20,000 messages with the defaults)
CUSTOMER_CHUNK = 20_000

TEAMS = ("Support", "Reklamationen", "Technik", "Buchhaltung")
AGENT_NAMES = (
    "Anna Albers", "Ben Becker", "Clara Conrad", "David Dietz", "Eva Engel", "Felix Fuchs",
    "Greta Graf", "Hannes Huber", "Ida Imhof", "Jonas Jung", "Karla Krüger", "Lukas Lang",
    "Mia Maier", "Noah Neumann", "Olivia Ott", "Paul Peters", "Rosa Richter", "Sven Schulz",
    "Tara Thiel", "Umut Uysal", "Vera Vogt", "Wim Wagner", "Xenia Xu", "Yusuf Yilmaz",
)  # fmt: skip
FIRST = (
    "Kim", "Lena", "Jan", "Sophie", "Tom", "Laura", "Max", "Julia", "Leon", "Emma", "Finn",
    "Hannah", "Elias", "Lea", "Noah", "Marie", "Ali", "Zeynep", "Olga", "Piotr", "Sarah",
    "James", "Emily", "Oliver", "Amelia", "Jörg", "Ute", "Dieter", "Gül", "Chiara",
)  # fmt: skip
LAST = (
    "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker",
    "Hoffmann", "Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf", "Schröder", "Öztürk",
    "Nowak", "Smith", "Brown", "Taylor", "Wilson", "Rossi", "Yılmaz", "Kowalski", "Jansen",
)  # fmt: skip
SUBJECTS = (
    "", "", "", "Rechnung", "Lieferung", "Rücksendung", "Garantie", "Ersatzteil", "Kündigung",
    "Invoice", "Delivery", "Refund", "Warranty", "Spare part", "Termin", "Reparatur",
)  # fmt: skip
LABELS = (
    ("VIP", "#b45309"), ("Rückruf", "#1d4ed8"), ("Garantie", "#047857"),
    ("Eskalation", "#b91c1c"), ("Feedback", "#7c3aed"), ("Spam", "#4b5563"),
)  # fmt: skip

DE_CUSTOMER = (
    "Hallo, ich habe eine Frage zu meiner Rechnung.",
    "Meine Bestellung ist noch nicht angekommen.",
    "Das Paket wurde beschädigt geliefert, der Karton war offen.",
    "Können Sie mir bitte die Rechnungen der letzten drei Monate schicken?",
    "Die Waschmaschine zeigt seit gestern einen Fehlercode an.",
    "Ich möchte den Artikel zurücksenden und mein Geld zurück.",
    "Wann kommt der Techniker für die Reparatur?",
    "Der Betrag auf der Rechnung stimmt nicht mit dem Angebot überein.",
    "Gibt es für den Geschirrspüler noch Ersatzteile?",
    "Ich bin umgezogen, bitte ändern Sie meine Lieferadresse.",
    "Die Lieferung sollte heute kommen, aber niemand war da.",
    "Mein Kühlschrank ist laut und kühlt nicht mehr richtig.",
    "Wie lange gilt die Garantie auf den Trockner?",
    "Ich habe zweimal bezahlt, bitte erstatten Sie den doppelten Betrag.",
    "Vielen Dank, das hat geholfen!",
    "Leider funktioniert es immer noch nicht.",
    "Kann ich die Zahlung in Raten leisten?",
    "Bitte stornieren Sie meine Bestellung.",
    "Das Ersatzteil passt nicht zu meinem Modell.",
    "Wo finde ich die Bedienungsanleitung?",
)
DE_AGENT = (
    "Guten Tag, vielen Dank für Ihre Nachricht.",
    "Ich habe mir Ihre Bestellung angesehen.",
    "Die Rechnung schicke ich Ihnen gleich per E-Mail.",
    "Der Techniker kommt am Donnerstag zwischen 8 und 12 Uhr.",
    "Die Erstattung ist veranlasst und in drei bis fünf Werktagen auf Ihrem Konto.",
    "Bitte senden Sie uns ein Foto vom Typenschild.",
    "Das Paket ist laut Sendungsverfolgung im Zustellzentrum.",
    "Die Garantie gilt zwei Jahre ab Kaufdatum.",
    "Ich habe die Lieferadresse geändert.",
    "Das Ersatzteil ist bestellt und wird nächste Woche geliefert.",
    "Können Sie mir bitte die Seriennummer nennen?",
    "Gern geschehen, melden Sie sich jederzeit wieder.",
    "Die Stornierung ist bestätigt.",
    "Ein Rücksendeetikett liegt dieser Nachricht bei.",
)
DE_NOTE = (
    "Kunde hat schon zweimal angerufen, bitte priorisieren.",
    "Rechnung prüfen, Betrag weicht ab.",
    "Garantiefall, Kaufbeleg liegt vor.",
    "Rückruf vereinbart für morgen Vormittag.",
    "Bitte Ersatzteil im Lager prüfen.",
    "Eskalation an die Buchhaltung.",
)
EN_CUSTOMER = (
    "Hello, I have a question about my invoice.",
    "My order has not arrived yet.",
    "The parcel was damaged when it was delivered.",
    "Could you send me the invoices for the last three months?",
    "The washing machine shows an error code since yesterday.",
    "I would like to return the item and get a refund.",
    "When will the technician come for the repair?",
    "The amount on the invoice does not match the quote.",
    "Are spare parts still available for the dishwasher?",
    "I moved house, please change my delivery address.",
    "Thanks a lot, that helped!",
    "Unfortunately it still does not work.",
    "Please cancel my order.",
    "Where can I find the manual?",
)
EN_AGENT = (
    "Hello, thank you for your message.",
    "I have looked into your order.",
    "I will send you the invoice by email right away.",
    "The technician will come on Thursday between 8 and 12.",
    "The refund has been issued and will reach your account in three to five days.",
    "Please send us a photo of the rating plate.",
    "The tracking says the parcel is at the local depot.",
    "The warranty is valid for two years from the date of purchase.",
    "You are welcome, get in touch any time.",
    "The cancellation is confirmed.",
)
EN_NOTE = (
    "Customer called twice already, please prioritise.",
    "Check the invoice, the amount differs.",
    "Warranty case, receipt attached.",
    "Call back tomorrow morning.",
)


class Loader(Protocol):
    """What the seed needs from storage (``eyelevel.storage.bulk.BulkLoader``)."""

    postgres: bool

    async def reserve_ids(self, table: str, n: int) -> int: ...
    async def labels_of(self, company_id: int) -> list[int]: ...
    async def load(self, batch: Sequence[tuple[str, Sequence[dict[str, Any]]]]) -> None: ...
    async def analyze(self) -> None: ...


@dataclass(frozen=True)
class SeedOptions:
    conversations: int = 100_000
    messages: int = 1_000_000
    company: str = "seed"
    agents: int = 20
    random_seed: int = 1


@dataclass
class SeedReport:
    company: Company
    admin_email: str
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values())


async def seed_company(
    ctx: Context,
    loader: Loader,
    opts: SeedOptions,
    progress: Callable[[str], None] = lambda _: None,
) -> SeedReport:
    """Create (or extend) the company ``opts.company`` with the generated data."""
    if opts.messages < opts.conversations:
        raise ValueError("every conversation needs a message: --messages ≥ --conversations")
    rnd = random.Random(opts.random_seed)  # test data, not secrets
    started = time.monotonic()
    company, _ = await operator.ensure_company(
        ctx,
        slug=opts.company,
        name=f"{opts.company.replace('-', ' ').title()} GmbH",
        description="Generated by eyelevel seed.",
        phone="+49 30 5550100",
        business_hours={d: [["08:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
        reply_within_minutes=120,
    )
    teams = [await operator.ensure_team(ctx, company, name) for name in TEAMS]
    admin_email = f"admin@{company.slug}.example.com"
    staff: list[tuple[Agent, Team]] = []
    admin = await operator.ensure_agent(
        ctx,
        company,
        email=admin_email,
        name="Ada Admin",
        password=SEED_PASSWORD,
        role=Role.ADMIN,
        teams=teams,
    )
    staff.append((admin, teams[0]))
    for i in range(opts.agents):
        team = teams[i % len(teams)]
        agent = await operator.ensure_agent(
            ctx,
            company,
            email=f"agent-{i + 1}@{company.slug}.example.com",
            name=AGENT_NAMES[i % len(AGENT_NAMES)],
            password=SEED_PASSWORD,
            role=Role.LEAD if i % 10 == 0 else Role.AGENT,
            teams=[team],
        )
        staff.append((agent, team))
    report = SeedReport(company, admin_email)
    progress(f"company {company.slug}: {len(teams)} teams, {len(staff)} agents")

    label_ids = await loader.labels_of(company.id)
    now = ctx.clock.now()
    if not label_ids:
        first = await loader.reserve_ids("labels", len(LABELS))
        rows = [
            {"id": first + i, "company_id": company.id, "name": n, "color": c, "created_at": now}
            for i, (n, c) in enumerate(LABELS)
        ]
        await loader.load([("labels", rows)])
        report.rows["labels"] = len(rows)
        label_ids = [first + i for i in range(len(rows))]

    gen = _Generator(
        rnd, company.id, staff, teams, label_ids, now, ctx.passwords.hash(SEED_PASSWORD)
    )
    n_customers = max(1, opts.conversations // 3)
    first_customer = await loader.reserve_ids("customers", n_customers)
    first_conversation = await loader.reserve_ids("conversations", opts.conversations)
    first_message = await loader.reserve_ids("messages", opts.messages)
    t0 = time.monotonic()
    for i in range(0, n_customers, CUSTOMER_CHUNK):
        ids = range(first_customer + i, first_customer + min(n_customers, i + CUSTOMER_CHUNK))
        rows = [gen.customer(cid, company.slug) for cid in ids]
        await loader.load([("customers", rows)])
    report.rows["customers"] = n_customers
    progress(_rate("customers", n_customers, time.monotonic() - t0))

    counts = _spread(rnd, opts.messages, opts.conversations)
    t0 = time.monotonic()
    next_message = first_message
    done_messages = 0
    for start in range(0, opts.conversations, CHUNK):
        batch: dict[str, list[dict[str, Any]]] = {
            k: [] for k in ("conversations", "messages", "mentions", "conversation_labels")
        }
        batch["read_markers"] = []
        for j in range(start, min(opts.conversations, start + CHUNK)):
            customer_id = first_customer + rnd.randrange(n_customers)
            next_message = gen.conversation(
                batch, first_conversation + j, customer_id, next_message, counts[j]
            )
        await loader.load(list(batch.items()))
        for k, v in batch.items():
            report.rows[k] = report.rows.get(k, 0) + len(v)
        done_messages += len(batch["messages"])
        elapsed = time.monotonic() - t0
        progress(
            f"{min(opts.conversations, start + CHUNK):,} conversations, {done_messages:,} "
            f"messages ({done_messages / elapsed:,.0f} messages/s)"
        )
    progress(_rate("messages", done_messages, time.monotonic() - t0))
    t0 = time.monotonic()
    await loader.analyze()
    vacuum = "VACUUM (ANALYZE)" if loader.postgres else "ANALYZE"
    progress(f"statistics refreshed ({vacuum}) in {time.monotonic() - t0:.1f}s")
    report.seconds = time.monotonic() - started
    return report


def _rate(what: str, n: int, seconds: float) -> str:
    return f"{what}: {n:,} in {seconds:.1f}s ({n / max(seconds, 1e-9):,.0f} rows/s)"


def _spread(rnd: random.Random, total: int, n: int) -> list[int]:
    """``n`` message counts (each ≥ 1) adding up to ``total``, most small, a few long."""
    weights = [rnd.expovariate(1.0) + 0.05 for _ in range(n)]
    scale = (total - n) / sum(weights)
    counts = [1 + int(w * scale) for w in weights]
    short = total - sum(counts)
    for i in rnd.sample(range(n), min(n, short)) if short > 0 else ():
        counts[i] += 1
    while sum(counts) < total:  # n < short: spread the rest evenly
        counts[rnd.randrange(n)] += 1
    return counts


class _Generator:
    """Rows for one company; every draw comes from one seeded ``random.Random``."""

    def __init__(
        self,
        rnd: random.Random,
        company_id: int,
        staff: list[tuple[Agent, Team]],
        teams: list[Team],
        label_ids: list[int],
        now: datetime,
        password_hash: str,
    ) -> None:
        self.r = rnd
        self.company_id = company_id
        self.staff = staff
        self.teams = teams
        self.label_ids = label_ids
        self.now = now
        self.password_hash = password_hash
        self.names: dict[int, str] = {}

    def customer(self, cid: int, slug: str) -> dict[str, Any]:
        name = f"{self.r.choice(FIRST)} {self.r.choice(LAST)}"
        self.names[cid] = name
        created = self.now - timedelta(days=self.r.uniform(180, 720))
        return {
            "id": cid,
            "email": f"kunde-{cid}@{slug}.seed.example.org",
            "display_name": name,
            "password_hash": self.password_hash,
            "email_verified_at": created,
            "created_at": created,
        }

    def _body(self, kind: str, german: bool) -> str:
        r = self.r
        pool: tuple[str, ...]
        if kind == "customer":
            pool = DE_CUSTOMER if german else EN_CUSTOMER
        elif kind == "agent":
            pool = DE_AGENT if german else EN_AGENT
        else:
            pool = DE_NOTE if german else EN_NOTE
        body = " ".join(r.choice(pool) for _ in range(r.choice((1, 1, 2, 2, 3))))
        roll = r.random()
        if roll < 0.12:
            body += f" {'Bestellnummer' if german else 'Order number'} {r.randrange(10**7, 10**8)}"
        elif roll < 0.2:
            body += f" {'Rechnungsnummer' if german else 'Invoice'} RE-{r.randrange(10**5, 10**6)}"
        return body

    def conversation(
        self,
        batch: dict[str, list[dict[str, Any]]],
        conv_id: int,
        customer_id: int,
        first_message: int,
        n: int,
    ) -> int:
        """Append one conversation's rows to ``batch``; returns the next free message id."""
        r = self.r
        german = r.random() < 0.7
        roll = r.random()
        status = (
            "open"
            if roll < 0.30
            else "pending"
            if roll < 0.42
            else "snoozed"
            if roll < 0.50
            else "resolved"
        )
        roll = r.random()
        owner: Agent | None = None
        team: Team | None = None
        if roll < (0.9 if status == "resolved" else 0.45):
            owner, own_team = r.choice(self.staff)
            team = own_team if r.random() < 0.5 else None
        elif roll < 0.75:
            team = r.choice(self.teams)
        kinds = self._kinds(n, waiting=status == "open" and r.random() < 0.75)
        # spread over the last 180 days; replies come minutes to hours apart
        gaps = [r.expovariate(1 / 90) for _ in range(n - 1)]
        span = timedelta(minutes=sum(gaps) + 1)
        at = self.now - timedelta(days=r.uniform(0, 180)) - span
        if status != "resolved" and r.random() < 0.5:
            at = self.now - span - timedelta(minutes=r.uniform(1, 600))  # recent activity
        first_at = at
        customer_name = self.names.get(customer_id, "Kunde")
        waiting: datetime | None = None
        last_agent_seq = 0
        mid = first_message
        for seq, kind in enumerate(kinds, start=1):
            if seq > 1:
                at += timedelta(minutes=gaps[seq - 2])
            body = self._body(kind, german)
            if kind == "customer":
                author_agent, author_customer, author_name = None, customer_id, customer_name
                if waiting is None:
                    waiting = at
            else:
                agent = owner if owner is not None and kind == "agent" else r.choice(self.staff)[0]
                author_agent, author_customer, author_name = agent.id, None, agent.name
                if kind == "note" and len(self.staff) > 1 and r.random() < 0.5:
                    others = [a for a, _ in self.staff if a.id != agent.id]
                    mentioned = r.sample(others, min(len(others), r.choice((1, 1, 2))))
                    body = " ".join(f"@{a.name}" for a in mentioned) + " " + body
                    batch["mentions"] += [
                        {
                            "company_id": self.company_id,
                            "message_id": mid,
                            "agent_id": a.id,
                            "conversation_id": conv_id,
                            "created_at": at,
                        }
                        for a in mentioned
                    ]
                if kind == "agent":
                    waiting = None
                    last_agent_seq = seq
            batch["messages"].append(
                {
                    "id": mid,
                    "company_id": self.company_id,
                    "conversation_id": conv_id,
                    "seq": seq,
                    "kind": kind,
                    "body": body,
                    "author_agent_id": author_agent,
                    "author_customer_id": author_customer,
                    "author_name": author_name,
                    "client_id": None,
                    "created_at": at,
                }
            )
            mid += 1
        batch["conversations"].append(
            {
                "id": conv_id,
                "company_id": self.company_id,
                "customer_id": customer_id,
                "subject": r.choice(SUBJECTS),
                "status": status,
                "owner_agent_id": owner.id if owner else None,
                "owner_team_id": team.id if team else None,
                "snoozed_until": (
                    self.now + timedelta(hours=r.uniform(1, 168)) if status == "snoozed" else None
                ),
                "last_seq": n,
                "created_at": first_at,
                "updated_at": at,
                "last_activity_at": at,
                "last_message_at": at,
                "waiting_since": waiting if status in ("open", "snoozed") else None,
            }
        )
        if self.label_ids and r.random() < 0.4:
            for label in r.sample(self.label_ids, min(len(self.label_ids), r.choice((1, 1, 2)))):
                batch["conversation_labels"].append(
                    {"company_id": self.company_id, "conversation_id": conv_id, "label_id": label}
                )
        if last_agent_seq:
            batch["read_markers"].append(self._marker(conv_id, "customer", last_agent_seq, at))
        if owner is not None and status != "open":
            batch["read_markers"].append(self._marker(conv_id, f"agent:{owner.id}", n, at))
        return mid

    def _marker(self, conv_id: int, reader: str, seq: int, at: datetime) -> dict[str, Any]:
        return {
            "company_id": self.company_id,
            "conversation_id": conv_id,
            "reader": reader,
            "last_read_seq": seq,
            "updated_at": at,
        }

    def _kinds(self, n: int, *, waiting: bool) -> list[str]:
        """Who wrote each message: the customer opens, replies mostly alternate, some notes."""
        r = self.r
        kinds = ["customer"]
        for _ in range(n - 1):
            prev = kinds[-1]
            roll = r.random()
            if prev == "customer":
                kinds.append("agent" if roll < 0.65 else "customer" if roll < 0.9 else "note")
            elif prev == "agent":
                kinds.append("customer" if roll < 0.75 else "agent" if roll < 0.9 else "note")
            else:
                kinds.append("agent" if roll < 0.7 else "customer")
        if waiting and n > 1:
            kinds[-1] = "customer"
        return kinds
