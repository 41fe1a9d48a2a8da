"""schemathesis hooks for both the in-process contract tests and `make fuzz` (SCHEMATHESIS_HOOKS).

One failure kind is expected by contract, not a defect: RealWorld 2.0 answers 409
`{"errors": {"username": ["has already been taken"]}}` (or `email`, or both) for a duplicate
name, and positive_data_acceptance cannot know that a schema-valid registration is refused
because an earlier one took the name. The same holds for an `Idempotency-Key` that an
earlier request with another body used: schemathesis reuses the documented example key, and
the contract answers 422 `{"errors": {"Idempotency-Key": ["is already used for a different
request"]}}`. Only those exact answers are dropped; any other rejection of valid data (another
status, another key, another message next to it) still fails the run.
"""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

import schemathesis
from schemathesis.openapi.checks import RejectedPositiveData

TAKEN = "has already been taken"
UNIQUE_FIELDS = {"username", "email"}


def taken_only(status: int, content: bytes) -> bool:
    if status != 409:
        return False
    try:
        body = json.loads(content)
    except ValueError:
        return False
    if not isinstance(body, dict) or set(body) != {"errors"}:
        return False
    errors = body["errors"]
    if not isinstance(errors, dict) or not errors or not set(errors) <= UNIQUE_FIELDS:
        return False
    return all(isinstance(m, list) and m and all(x == TAKEN for x in m) for m in errors.values())


KEY_REUSED = {"errors": {"Idempotency-Key": ["is already used for a different request"]}}


def key_reused_only(status: int, content: bytes, headers: Any) -> bool:
    """A 422 for an Idempotency-Key the request did send, that an earlier request used."""
    if status != 422 or not any(str(h).lower() == "idempotency-key" for h in headers or {}):
        return False
    try:
        return bool(json.loads(content) == KEY_REUSED)
    except ValueError:
        return False


@schemathesis.hook
def filter_failure(context: Any, failure: Any, case: Any, response: Any) -> bool:
    """Keep every failure but a duplicate-name 409 or a reused-key 422 flagged as rejecting
    valid data."""
    if isinstance(failure, RejectedPositiveData):
        expected = taken_only(response.status_code, response.content) or key_reused_only(
            response.status_code, response.content, case.headers
        )
        return not expected
    return True


def _tolerate_unparsable_urls() -> None:
    """Work around schemathesis 4.32: it scans response strings for same-origin URLs and
    crashes (ValueError from urlsplit) on text like "http://[x" that a user may well write in a
    bio or an article. Such a string is simply not a link."""
    from schemathesis.engine import observations

    original = observations._same_origin_path

    def same_origin_path(value: str, origin: tuple[str, str]) -> str | None:
        try:
            return original(value, origin)
        except ValueError:
            return None

    observations._same_origin_path = same_origin_path


_tolerate_unparsable_urls()


VALID_KEY = re.compile(r"[!-~]{1,200}")


@schemathesis.hook
def before_call(context: Any, case: Any, **_kwargs: Any) -> None:
    """Make every valid Idempotency-Key unique. schemathesis reuses the documented example
    key, so a later create would be answered with the replay of an earlier one, whose resource
    a later step may have deleted: correct for the API, a false "created resource not found"
    for the stateful checks. Invalid keys are left alone for negative testing; replays,
    reuse and races of keys are proven by tests/api/pipeline/test_idempotency.py and the live suite."""
    headers = case.headers or {}
    for name in list(headers):
        value = headers[name]
        if (
            name.lower() == "idempotency-key"
            and isinstance(value, str)
            and VALID_KEY.fullmatch(value)
        ):
            headers[name] = f"{value}-{uuid.uuid4().hex}"
