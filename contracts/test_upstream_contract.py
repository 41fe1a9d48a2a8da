"""schemathesis runs the UPSTREAM RealWorld document against our app.

Status-code conformance and positive-data acceptance are left out on purpose: upstream
omits 401/403/404 on many operations and accepts any string where we validate (lengths,
control characters, email format). Every other check runs, and must find nothing: no
server error, no response outside upstream's schemas (where `bio`/`image` are non-null
strings), no wrong content type, no ignored auth.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from contracts import harness
from contracts.specs import UPSTREAM_SPEC
from testkit.database import PostgresServer

pytestmark = pytest.mark.skipif(
    not UPSTREAM_SPEC.exists(),
    reason=f"{UPSTREAM_SPEC} is absent (a clone of this repo alone): nothing to test against",
)

NOT_REQUIRED = ["status_code_conformance", "positive_data_acceptance"]
MUST_PASS = {
    "not_a_server_error",
    "response_schema_conformance",
    "content_type_conformance",
    "ignored_auth",
}


@pytest.fixture(scope="module")
def contract_app(postgres_server: PostgresServer) -> Iterator[Flask]:
    yield from harness.committing_app(postgres_server)


def test_upstream_contract_holds(contract_app: Flask) -> None:
    schema = harness.load(UPSTREAM_SPEC, contract_app)
    schema.config.checks.update(excluded_check_names=NOT_REQUIRED)
    report = harness.run(schema)
    print(report.summary())
    print("\n".join(report.failures + report.errors))
    assert report.failures == []
    assert report.errors == []
    assert report.stop_reason == "completed"
    assert len(report.operations) == 19
    assert set(report.checks) >= MUST_PASS, report.checks
    assert not set(NOT_REQUIRED) & set(report.checks)
