"""A bounded schemathesis pass over the API's own OpenAPI schema (issue 17, item 9).

Every operation of /api/schema/ is called with generated requests, as a requester and as an
agent (real tokens, the real WSGI application, the test database): no answer may be a server
error, and every documented answer must match its schema. Bounded by the number of examples
per operation and role (SCHEMATHESIS_MAX_EXAMPLES, derandomized so a run is repeatable), which
keeps the pass well under three minutes on two cores.
"""

from __future__ import annotations

import os

import pytest
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, Phase, given, settings
from rest_framework.authtoken.models import Token

from tests.factories import TicketFactory

pytestmark = [pytest.mark.django_db(transaction=True)]

MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_MAX_EXAMPLES", "6"))
ROLES = ("requester", "tier1")


def first_lines(text: str, count: int = 6) -> str:
    return "\n".join(text.strip().splitlines()[:count])


def test_the_api_matches_its_schema_and_never_fails(desk):
    import schemathesis
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import response_schema_conformance

    TicketFactory(desk).new()
    TicketFactory(desk).queued(title="VPN drops")
    TicketFactory(desk).in_progress(title="Mail full")
    tokens = {role: Token.objects.create(user=getattr(desk, role)).key for role in ROLES}
    schema = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 10

    def fuzz(operation, role: str, key: str) -> None:
        @given(case=operation.as_strategy())
        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            derandomize=True,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        def call(case):
            response = case.call(headers={"Authorization": f"Token {key}"})
            try:
                case.validate_response(
                    response, checks=[not_a_server_error, response_schema_conformance]
                )
            except (Exception, BaseExceptionGroup) as exc:  # all collected, reported at once
                failures.append(
                    f"{operation.label} as {role}: {response.status_code}\n{first_lines(str(exc))}"
                )

        call()

    for operation in operations:
        for role, key in tokens.items():
            fuzz(operation, role, key)

    unique = sorted(set(failures))
    assert unique == [], "\n\n".join(unique[:20])
