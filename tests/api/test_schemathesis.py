"""The API against its own document: property-based requests (schemathesis) to every operation,
with a staff token and anonymously, find no 5xx, no undeclared status and no response outside its
schema. Path ids are drawn both at random and from the fund's real objects."""

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from tests.api import fund as fx

CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]
EXAMPLES = 25


def _run(operation, headers, path_parameters=None):
    strategy = operation.as_strategy(path_parameters=path_parameters) if path_parameters else operation.as_strategy()

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def check(case):
        case.call_and_validate(headers=headers, checks=CHECKS)

    check()


@pytest.fixture
def api_schema(app):
    app.config["API_RATE_LIMIT"] = "100000/minute"
    app.config["API_TOKEN_REQUESTS_PER_TOKEN"] = "100000/minute"
    app.config["API_TOKEN_FAILURES_PER_ADDRESS"] = "100000/minute"
    with app.app_context():
        fund = fx.build()
        raw = fx.token(fund.staff)
        real = {
            "call_id": fund.call.id,
            "application_id": fund.bogota.id,
            "grant_id": fund.grants["Bogotá"].id,
        }
    return schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app), raw, real


def test_no_server_error_and_every_response_in_its_schema(api_schema):
    schema, raw, real = api_schema
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 9
    for operation in operations:
        for headers in (fx.bearer(raw), {}):
            _run(operation, headers)
            wanted = {p.name: real[p.name] for p in operation.path_parameters if p.name in real}
            if wanted:
                _run(operation, headers, wanted)
