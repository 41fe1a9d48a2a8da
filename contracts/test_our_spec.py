"""schemathesis holds the running API to our committed spec: every operation, every check.

In-process against the WSGI app, on PostgreSQL, with auth as real registered users: the
examples, coverage and fuzzing phases with positive and negative data, then the stateful
phase following the spec's links. The seed and budget are fixed in schemathesis.toml.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask

from contracts import harness
from contracts.specs import OUR_SPEC, operations, ours
from tests.conftest import PostgresServer


@pytest.fixture(scope="module")
def contract_app(postgres_server: PostgresServer) -> Iterator[Flask]:
    yield from harness.committing_app(postgres_server)


def test_our_spec_holds_with_zero_failures(contract_app: Flask) -> None:
    report = harness.run(harness.load(OUR_SPEC, contract_app))
    print(report.summary())
    print("\n".join(report.failures + report.errors))
    assert report.failures == []
    assert report.errors == []
    assert report.stop_reason == "completed"
    assert len(report.operations) == len(operations(ours()))
    assert {"examples", "coverage", "fuzzing", "stateful"} <= set(report.scenarios)
    assert len(report.checks) >= 10, report.checks
