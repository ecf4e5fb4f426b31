"""Pure rules and validators, without a server: audience, roles, input checks, cursors."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eyelevel.core.actions.messages import check_body, check_client_id
from eyelevel.core.actions.operator import (
    WEEKDAYS,
    check_business_hours,
    check_slug,
    check_timezone,
)
from eyelevel.core.entities import MAX_BODY_CHARS, MAX_CLIENT_ID_CHARS, Event, Role
from eyelevel.core.errors import DomainError, ErrorCode
from eyelevel.core.ids import AgentId, CompanyId, ConversationId, CustomerId, EventPos, TokenId
from eyelevel.core.principals import AgentPrincipal, CustomerPrincipal, Principal, TokenPrincipal
from eyelevel.core.rules.audience import may_receive
from eyelevel.core.rules.roles import at_least
from eyelevel.web.schemas import decode_cursor, encode_cursor

NOW = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
ACME, OTHER = CompanyId(1), CompanyId(2)
KIM, LEE = CustomerId(10), CustomerId(11)


def event(company: CompanyId, customer: CustomerId | None, type_: str = "message.created") -> Event:
    return Event(EventPos(1), type_, company, ConversationId(5), customer, {}, NOW)


def customer(cid: CustomerId = KIM) -> CustomerPrincipal:
    return CustomerPrincipal(cid, True, "Kim")


def agent(roles: dict[CompanyId, Role]) -> AgentPrincipal:
    return AgentPrincipal(AgentId(7), "Anna Agent", roles)


def token(company: CompanyId) -> TokenPrincipal:
    return TokenPrincipal(TokenId(3), company, "CRM")


# -- audience ------------------------------------------------------------------------------

CUSTOMER_EVENT = event(ACME, KIM)  # a message Kim may see
INTERNAL_EVENT = event(ACME, None)  # a private note, an assignment
OTHER_COMPANY_EVENT = event(OTHER, LEE)
OTHER_CUSTOMER_EVENT = event(ACME, LEE)

AUDIENCE_TABLE = [
    # principal, event, may receive
    (customer(KIM), CUSTOMER_EVENT, True),
    (customer(KIM), INTERNAL_EVENT, False),
    (customer(KIM), OTHER_COMPANY_EVENT, False),
    (customer(KIM), OTHER_CUSTOMER_EVENT, False),
    (customer(LEE), OTHER_CUSTOMER_EVENT, True),
    (customer(LEE), OTHER_COMPANY_EVENT, True),
    (agent({ACME: Role.AGENT}), CUSTOMER_EVENT, True),
    (agent({ACME: Role.AGENT}), INTERNAL_EVENT, True),
    (agent({ACME: Role.AGENT}), OTHER_COMPANY_EVENT, False),
    (agent({ACME: Role.AGENT}), OTHER_CUSTOMER_EVENT, True),
    (agent({OTHER: Role.ADMIN}), CUSTOMER_EVENT, False),
    (agent({OTHER: Role.ADMIN}), INTERNAL_EVENT, False),
    (agent({OTHER: Role.ADMIN}), OTHER_COMPANY_EVENT, True),
    (agent({ACME: Role.LEAD, OTHER: Role.AGENT}), INTERNAL_EVENT, True),
    (agent({ACME: Role.LEAD, OTHER: Role.AGENT}), OTHER_COMPANY_EVENT, True),
    (agent({}), CUSTOMER_EVENT, False),  # no active membership
    (agent({}), INTERNAL_EVENT, False),
    (token(ACME), CUSTOMER_EVENT, True),
    (token(ACME), INTERNAL_EVENT, True),
    (token(ACME), OTHER_COMPANY_EVENT, False),
    (token(ACME), OTHER_CUSTOMER_EVENT, True),
    (token(OTHER), CUSTOMER_EVENT, False),
    (token(OTHER), INTERNAL_EVENT, False),
]


@pytest.mark.parametrize(("principal", "ev", "expected"), AUDIENCE_TABLE)
def test_may_receive_table(principal: Principal, ev: Event, expected: bool) -> None:
    assert may_receive(principal, ev) is expected


def test_a_customer_never_receives_an_internal_event_of_any_type() -> None:
    for type_ in ("message.created", "conversation.assigned", "typing", "message.read"):
        assert not may_receive(customer(KIM), event(ACME, None, type_))


company_ids = st.integers(1, 4).map(CompanyId)
customer_ids = st.integers(10, 13).map(CustomerId)
principals = st.one_of(
    st.builds(lambda c: CustomerPrincipal(c, True, "x"), customer_ids),
    st.builds(
        lambda roles: AgentPrincipal(AgentId(1), "A", roles),
        st.dictionaries(company_ids, st.sampled_from(Role), max_size=3),
    ),
    st.builds(lambda c: TokenPrincipal(TokenId(1), c, "t"), company_ids),
)
events = st.builds(event, company_ids, st.one_of(st.none(), customer_ids))


@given(principals, events)
def test_may_receive_matches_the_specification(principal: Principal, ev: Event) -> None:
    if isinstance(principal, CustomerPrincipal):
        expected = ev.customer_id == principal.customer_id
    elif isinstance(principal, AgentPrincipal):
        expected = ev.company_id in principal.roles
    else:
        expected = ev.company_id == principal.company_id
    assert may_receive(principal, ev) is expected


# -- roles ---------------------------------------------------------------------------------

RANK = {Role.AGENT: 0, Role.LEAD: 1, Role.ADMIN: 2}


@pytest.mark.parametrize("needed", list(Role))
@pytest.mark.parametrize("role", [None, *Role])
def test_at_least(role: Role | None, needed: Role) -> None:
    expected = role is not None and RANK[role] >= RANK[needed]
    assert at_least(role, needed) is expected


def test_role_order_is_agent_lead_admin() -> None:
    assert at_least(Role.ADMIN, Role.LEAD) and at_least(Role.LEAD, Role.AGENT)
    assert not at_least(Role.AGENT, Role.LEAD) and not at_least(Role.LEAD, Role.ADMIN)
    assert not at_least(None, Role.AGENT)


# -- message input -------------------------------------------------------------------------


def refused(fn: object, *args: object) -> DomainError:
    with pytest.raises(DomainError) as info:
        fn(*args)  # type: ignore[operator]
    return info.value


def test_check_body_limits() -> None:
    assert check_body("x" * MAX_BODY_CHARS) == "x" * MAX_BODY_CHARS
    assert check_body("  hallo \n") == "  hallo \n"  # stored as written
    too_long = refused(check_body, "x" * (MAX_BODY_CHARS + 1))
    assert (too_long.code, too_long.field) == (ErrorCode.BODY_TOO_LONG, "body")
    # the length check comes first: a long blank body is "too long", not "empty"
    assert refused(check_body, " " * (MAX_BODY_CHARS + 1)).code == ErrorCode.BODY_TOO_LONG
    for blank in ("", " ", "\n\t ", "\u3000"):
        assert refused(check_body, blank).code == ErrorCode.BODY_EMPTY
    assert refused(check_body, "a\x00b").code == ErrorCode.VALIDATION


@given(st.text(max_size=MAX_BODY_CHARS + 5))
def test_check_body_accepts_exactly_the_valid_bodies(body: str) -> None:
    valid = len(body) <= MAX_BODY_CHARS and body.strip() != "" and "\x00" not in body
    if valid:
        assert check_body(body) == body
    else:
        with pytest.raises(DomainError) as info:
            check_body(body)
        assert info.value.code in (
            ErrorCode.BODY_TOO_LONG,
            ErrorCode.BODY_EMPTY,
            ErrorCode.VALIDATION,
        )
        assert info.value.field == "body"


CLIENT_ID_CHARS = "ABCXYZabcxyz0189_.:-"


def test_check_client_id_examples() -> None:
    assert check_client_id(None) is None
    for ok in ("a", "msg-1", "web:3f2a.b_9", "x" * MAX_CLIENT_ID_CHARS):
        assert check_client_id(ok) == ok
    for bad in ("", "x" * (MAX_CLIENT_ID_CHARS + 1), "a b", "ä", "a/b", "a\n", "\na", "a\x00"):
        err = refused(check_client_id, bad)
        assert (err.code, err.field) == (ErrorCode.VALIDATION, "client_id"), bad


@given(st.text(alphabet=st.sampled_from(CLIENT_ID_CHARS + " \n\t/äé#"), max_size=70))
def test_check_client_id_accepts_exactly_the_allowed_alphabet(client_id: str) -> None:
    valid = 1 <= len(client_id) <= MAX_CLIENT_ID_CHARS and all(
        ch in CLIENT_ID_CHARS for ch in client_id
    )
    if valid:
        assert check_client_id(client_id) == client_id
    else:
        assert refused(check_client_id, client_id).code == ErrorCode.VALIDATION


# -- operator validators -------------------------------------------------------------------

_SLUG_SPEC = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?")


def test_check_slug_examples() -> None:
    for ok in ("a", "acme", "acme-gmbh", "a1-b2-c3", "x" * 50):
        assert check_slug(ok) == ok
    for bad in ("", "-acme", "acme-", "Acme", "ac me", "acme_gmbh", "x" * 51, "acme\n", "ä"):
        err = refused(check_slug, bad)
        assert (err.code, err.field) == (ErrorCode.VALIDATION, "slug"), bad


@given(st.text(alphabet=st.sampled_from("az09-_A \n"), max_size=55))
def test_check_slug_matches_the_specification(slug: str) -> None:
    valid = len(slug) <= 50 and _SLUG_SPEC.fullmatch(slug) is not None
    if valid:
        assert check_slug(slug) == slug
    else:
        assert refused(check_slug, slug).code == ErrorCode.VALIDATION


def test_check_timezone() -> None:
    for ok in ("Europe/Berlin", "UTC", "America/New_York", "Asia/Kolkata"):
        assert check_timezone(ok) == ok
    for bad in ("", "Mars/Olympus", "utc-ish", "../../etc/passwd", "/etc/localtime", "Europe/"):
        err = refused(check_timezone, bad)
        assert (err.code, err.field) == (ErrorCode.VALIDATION, "timezone"), bad


def test_check_business_hours() -> None:
    week = {
        "mon": [["09:00", "12:00"], ["13:00", "17:30"]],
        "tue": [["18:00", "24:00"]],  # until midnight
        "sat": [["00:00", "23:59"]],
        "sun": [],
    }
    assert check_business_hours(week) == week
    assert check_business_hours({}) == {}
    bad_cases: list[dict[str, list[list[str]]]] = [
        {"monday": [["09:00", "17:00"]]},
        {"Mon": [["09:00", "17:00"]]},
        {"mon": [["17:00", "09:00"]]},  # start after end
        {"mon": [["09:00", "09:00"]]},  # empty span
        {"mon": [["9:00", "17:00"]]},
        {"mon": [["24:00", "24:00"]]},
        {"mon": [["09:00", "24:01"]]},
        {"mon": [["09:00", "25:00"]]},
        {"mon": [["09:60", "17:00"]]},
        {"mon": [["09:00"]]},
        {"mon": [["09:00", "12:00", "17:00"]]},
        {"mon": [["09:00\n", "17:00"]]},
    ]
    for hours in bad_cases:
        err = refused(check_business_hours, hours)
        assert (err.code, err.field) == (ErrorCode.VALIDATION, "business_hours"), hours


hhmm = st.builds(lambda h, m: f"{h:02d}:{m:02d}", st.integers(0, 23), st.integers(0, 59))


@given(st.dictionaries(st.sampled_from(WEEKDAYS), st.lists(st.tuples(hhmm, hhmm), max_size=3)))
def test_check_business_hours_property(raw: dict[str, list[tuple[str, str]]]) -> None:
    hours = {day: [list(span) for span in spans] for day, spans in raw.items()}
    valid = all(a < b for spans in raw.values() for a, b in spans)
    if valid:
        assert check_business_hours(hours) == hours
    else:
        assert refused(check_business_hours, hours).code == ErrorCode.VALIDATION


# -- cursors -------------------------------------------------------------------------------

fixed_zones = st.builds(
    lambda minutes: timezone(timedelta(minutes=minutes)), st.integers(-14 * 60, 14 * 60)
)


@given(
    st.datetimes(
        min_value=datetime(1970, 1, 1), max_value=datetime(9998, 1, 1), timezones=fixed_zones
    ),
    st.integers(0, 2**62),
)
def test_cursor_round_trip(at: datetime, row_id: int) -> None:
    cursor = encode_cursor(at, row_id)
    assert re.fullmatch(r"[A-Za-z0-9_-]+", cursor), cursor  # safe in a query string, no padding
    decoded_at, decoded_id = decode_cursor(cursor)
    assert decoded_id == row_id
    assert decoded_at == at and decoded_at.utcoffset() == at.utcoffset()


def test_cursor_refuses_garbage_and_naive_times() -> None:
    naive = encode_cursor(datetime(2026, 1, 1), 5)  # naive on purpose
    no_id = base64.urlsafe_b64encode(f"{NOW.isoformat()}|".encode()).decode()
    for bad in (naive, no_id, "", "!!!", "bm9wZQ", "x" * 199, "%%%"):
        err = refused(decode_cursor, bad)
        assert (err.code, err.field) == (ErrorCode.VALIDATION, "cursor"), bad


@given(st.text(max_size=200))
def test_cursor_decoding_never_crashes(raw: str) -> None:
    try:
        at, row_id = decode_cursor(raw)
    except DomainError as exc:
        assert exc.code == ErrorCode.VALIDATION
    else:
        assert at.tzinfo is not None and isinstance(row_id, int)
