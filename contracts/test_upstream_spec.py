"""Our document against the upstream RealWorld one: same operations, compatible bodies."""

from __future__ import annotations

from typing import Any

import pytest

from contracts.specs import UPSTREAM_SPEC, operations, ours, resolve, upstream

pytestmark = pytest.mark.skipif(
    not UPSTREAM_SPEC.exists(),
    reason=f"{UPSTREAM_SPEC} is absent (a clone of this repo alone): nothing to compare with",
)

JSON = "application/json"


def _requires_token(operation: dict[str, Any]) -> bool:
    security = operation.get("security") or []
    return bool(security) and {} not in security


def _types(value: Any) -> set[str]:
    return set(value) if isinstance(value, list) else {value}


def _covers(
    ours_spec: dict[str, Any], mine: Any, theirs_spec: dict[str, Any], theirs: Any, where: str
) -> None:
    """Everything upstream requires of a body, ours guarantees, with a compatible type."""
    mine, theirs = resolve(ours_spec, mine), resolve(theirs_spec, theirs)
    expected = theirs.get("type")
    actual = mine.get("type")
    if expected is not None:
        # 3.1 type arrays (`["string", "null"]`) compare as sets.
        assert _types(actual) == _types(expected), (
            f"{where}: type {actual!r}, upstream {expected!r}"
        )
    if expected == "object":
        for name in theirs.get("required", []):
            assert name in mine.get("required", []), f"{where}.{name}: not required in ours"
        for name, prop in theirs.get("properties", {}).items():
            assert name in mine["properties"], f"{where}.{name}: missing"
            _covers(ours_spec, mine["properties"][name], theirs_spec, prop, f"{where}.{name}")
    if expected == "array":
        _covers(ours_spec, mine["items"], theirs_spec, theirs["items"], f"{where}[]")


def test_every_upstream_operation_is_ours_with_the_same_shape() -> None:
    mine_spec, theirs_spec = ours(), upstream()
    mine, theirs = operations(mine_spec), operations(theirs_spec)
    assert set(theirs) <= set(mine)
    for operation_id, (method, path, their_op) in theirs.items():
        my_method, my_path, my_op = mine[operation_id]
        assert (my_method, my_path) == (method, path), operation_id
        assert _requires_token(my_op) == _requires_token(their_op), operation_id
        missing = set(their_op["responses"]) - set(my_op["responses"])
        assert not missing, f"{operation_id}: upstream status codes {sorted(missing)} not in ours"
        their_success = next(s for s in their_op["responses"] if s.startswith("2"))
        their_response = resolve(theirs_spec, their_op["responses"][their_success])
        if JSON in their_response.get("content", {}):
            my_response = resolve(mine_spec, my_op["responses"][their_success])
            _covers(
                mine_spec,
                my_response["content"][JSON]["schema"],
                theirs_spec,
                their_response["content"][JSON]["schema"],
                operation_id,
            )


def test_upstream_request_examples_are_accepted_by_our_request_schemas() -> None:
    """Our request bodies accept at least the fields upstream documents."""
    mine_spec, theirs_spec = ours(), upstream()
    mine, theirs = operations(mine_spec), operations(theirs_spec)
    for operation_id, (_m, _p, their_op) in theirs.items():
        if "requestBody" not in their_op:
            continue
        their_body = resolve(theirs_spec, their_op["requestBody"])["content"][JSON]["schema"]
        my_body = mine[operation_id][2]["requestBody"]["content"][JSON]["schema"]
        their_env, my_env = resolve(theirs_spec, their_body), resolve(mine_spec, my_body)
        (envelope,) = their_env["properties"]
        their_fields = resolve(theirs_spec, their_env["properties"][envelope])["properties"]
        my_fields = resolve(mine_spec, my_env["properties"][envelope])["properties"]
        assert set(their_fields) <= set(my_fields), operation_id
