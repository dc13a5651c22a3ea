"""Property-based fuzzing of the API against its own OpenAPI document (schemathesis), over
real HTTP to ``python -m shared.local``: no 5xx, and every response matches the documented
status codes, content types and schemas. Bounded: MAX_EXAMPLES cases per operation.
Date-times reach the ends of what ISO 8601 can write (years 1 and 9999, offsets of +-14:00),
where converting to UTC overflows, besides the edges of the API's own date range."""

from __future__ import annotations

import operator
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import BaseSchema, Case
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.e2e.conftest import Host, start_host, stop_host

MAX_EXAMPLES = 50
pytestmark = pytest.mark.e2e

EXTREMES = ("0001-01-01T00:00:00", "9999-12-31T23:59:59", "9999-12-31T23:59:59.999999")
EDGES = ("1999-12-31T23:59:59", "2000-01-01T00:00:00", "2199-12-31T23:59:59",
         "2200-01-01T00:00:00")  # the API's own range (shared/api/schemas.py)
ANY_DATE = st.datetimes(min_value=datetime(1, 1, 1),
                        max_value=datetime(9999, 12, 31, 23, 59, 59)).map(datetime.isoformat)
# Written in range, but past year 9999 or before year 1 in UTC.
OVERFLOWING = st.sampled_from(["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00",
                               "9999-12-31T23:59:59.999999-00:01"])
DATE_TIMES = st.one_of(OVERFLOWING, st.builds(
    operator.add, st.one_of(st.sampled_from((*EXTREMES, *EDGES)), ANY_DATE),
    st.sampled_from(["Z", "+00:00", "+14:00", "-14:00", "+05:45", "-00:01"])))
schemathesis.openapi.format("date-time", DATE_TIMES)


@pytest.fixture(scope="module")
def fuzz_host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Host]:
    # Generous limits: the fuzzer should explore the API, not the rate limiter.
    h = start_host(tmp_path_factory.mktemp("fuzz"), RATE_AUTH_PER_IP="100000/1",
                   RATE_HOLDS_PER_USER="100000/1", RATE_HOLDS_PER_USER_EVENT="100000/1",
                   RATE_CHECKOUT_PER_USER="100000/1", LOGIN_LOCKOUT="100000/1")
    yield h
    stop_host(h)


@pytest.fixture(scope="module")
def admin_token(fuzz_host: Host) -> str:
    return fuzz_host.token("admin@example.com", "admin-password")


@pytest.fixture(scope="module")
def api_schema(fuzz_host: Host) -> BaseSchema:
    schema = schemathesis.openapi.from_url(f"{fuzz_host.base_url}/api/openapi.json")
    # These end the fuzzer's own session; they are covered by the protection tests.
    return schema.exclude(path="/api/auth/logout").exclude(path="/api/me/password")


def test_api_never_fails_and_matches_its_schema(api_schema: BaseSchema,
                                                admin_token: str) -> None:
    """Every operation, MAX_EXAMPLES generated cases each, all of schemathesis' checks."""
    headers = {"Authorization": f"Bearer {admin_token}"}
    ran = extreme_dates = 0
    for result in api_schema.get_all_operations():
        operation = result.ok()  # type: ignore[union-attr]  # an invalid schema should fail here

        @given(case=operation.as_strategy())
        @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(case: Case[Any]) -> None:
            nonlocal ran, extreme_dates
            ran += 1
            extreme_dates += any(e[:10] in f"{case.query!r}{case.body!r}" for e in EXTREMES)
            # The schema gives the shape of a request; business rules beyond it (password
            # policy, ticket types that must exist, unique names) refuse some well-shaped
            # requests with a 422 naming the field, by design. Every other check applies.
            case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])

        check()
    assert ran >= 10 * MAX_EXAMPLES // 2  # the fuzzer really ran (cases are in the README)
    assert extreme_dates >= 10  # ... and sent dates at the ends of ISO 8601
    print(f"schemathesis: {ran} cases, {extreme_dates} with a date in year 1 or 9999")


def test_openapi_documents_problem_json_errors(fuzz_host: Host) -> None:
    doc = httpx.get(f"{fuzz_host.base_url}/api/openapi.json").json()
    hold = doc["paths"]["/api/events/{event_id}/holds"]["post"]["responses"]
    assert set(hold["409"]["content"]) == {"application/problem+json"}
    assert set(hold["422"]["content"]) == {"application/problem+json"}
    assert "HTTPValidationError" not in doc["components"]["schemas"]
