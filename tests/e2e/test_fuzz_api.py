"""Property-based fuzzing of the API against its own OpenAPI document (schemathesis), over
real HTTP to ``python -m shared.local``: no 5xx, and every response matches the documented
status codes, content types and schemas. Bounded: MAX_EXAMPLES cases per operation."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import BaseSchema, Case
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests.e2e.conftest import Host, start_host, stop_host

MAX_EXAMPLES = 50
pytestmark = pytest.mark.e2e


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
    ran = 0
    for result in api_schema.get_all_operations():
        operation = result.ok()  # type: ignore[union-attr]  # an invalid schema should fail here

        @given(case=operation.as_strategy())
        @settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def check(case: Case[Any]) -> None:
            nonlocal ran
            ran += 1
            # The schema gives the shape of a request; business rules beyond it (password
            # policy, ticket types that must exist, unique names) refuse some well-shaped
            # requests with a 422 naming the field, by design. Every other check applies.
            case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])

        check()
    assert ran >= 10 * MAX_EXAMPLES // 2  # the fuzzer really ran (cases are in the README)
    print(f"schemathesis: {ran} cases")


def test_openapi_documents_problem_json_errors(fuzz_host: Host) -> None:
    doc = httpx.get(f"{fuzz_host.base_url}/api/openapi.json").json()
    hold = doc["paths"]["/api/events/{event_id}/holds"]["post"]["responses"]
    assert set(hold["409"]["content"]) == {"application/problem+json"}
    assert set(hold["422"]["content"]) == {"application/problem+json"}
    assert "HTTPValidationError" not in doc["components"]["schemas"]
