"""schemathesis holds the running API to our committed spec: every operation, every check.

In-process against the WSGI app, on PostgreSQL, with auth as real registered users: the
examples, coverage and fuzzing phases with positive and negative data, then the stateful
phase following the spec's links. The seed and budget are fixed in schemathesis.toml.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from flask import Flask

from contracts import harness
from contracts.hooks import KEY_REUSED, key_reused_only, taken_only
from contracts.specs import OUR_SPEC, operations, ours
from testkit.database import PostgresServer


@pytest.fixture(scope="module")
def contract_app(postgres_server: PostgresServer) -> Iterator[Flask]:
    yield from harness.committing_app(postgres_server)


@pytest.mark.long
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


def test_only_a_taken_name_is_forgiven() -> None:
    """The hook drops the 2.0 answer to a duplicate name, and nothing that merely resembles it."""

    def body(errors: object) -> bytes:
        return json.dumps({"errors": errors}).encode()

    taken = "has already been taken"
    assert taken_only(409, body({"username": [taken]}))
    assert taken_only(409, body({"email": [taken]}))
    assert taken_only(409, body({"username": [taken], "email": [taken]}))
    refused = [
        (422, body({"username": [taken]})),  # the 1.x status
        (422, body({"body": [f"username: {taken}"]})),  # the 1.x shape
        (409, body({"body": [f"username: {taken}"]})),
        (409, body({"username": [taken], "password": ["is too short (minimum is 8 characters)"]})),
        (409, body({"username": [taken, "is invalid"]})),
        (409, body({"article": ["conflicts with a concurrent change, try again"]})),
        (409, body({"request": [taken]})),  # not a name that can be taken
        (409, body({"username": []})),
        (409, body({})),
        (409, body([taken])),
        (409, json.dumps({"errors": {"email": [taken]}, "user": {}}).encode()),
        (409, b"not json"),
    ]
    for status, content in refused:
        assert not taken_only(status, content), (status, content)


def test_only_a_reused_idempotency_key_is_forgiven() -> None:
    """The hook drops the 422 for a key an earlier request used, only when the key was sent."""
    reused = json.dumps(KEY_REUSED).encode()
    sent = {"Idempotency-Key": "8e03978e"}
    assert key_reused_only(422, reused, sent)
    assert key_reused_only(422, reused, {"idempotency-key": "x"})
    refused = [
        (422, reused, {}),  # no key sent: such an answer would be a defect
        (409, reused, sent),
        (422, json.dumps({"errors": {"Idempotency-Key": ["is invalid"]}}).encode(), sent),
        (422, json.dumps({"errors": {"title": ["can't be blank"]}}).encode(), sent),
        (422, b"not json", sent),
    ]
    for status, content, headers in refused:
        assert not key_reused_only(status, content, headers), (status, content, headers)
