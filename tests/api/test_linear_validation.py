"""Text rules run in linear time, length first, and decide exactly what their documented pattern says.

The documented `pattern`s (`^[allowed]*[visible][allowed]*$`) backtrack quadratically in
Python's `re`; the server checks the same language with single-class scans. These tests are
liveness guards, not benchmarks: each validator gets 1 MB of adversarial input under a hard
timeout of seconds, where the linear check needs milliseconds and the old one minutes.
"""

from __future__ import annotations

import itertools
import re
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import marshmallow as ma
import pytest
from marshmallow import fields

from schemas.articles import ArticlesQuery, NewArticleRequest, UpdateArticleRequest
from schemas.comments import NewCommentRequest
from schemas.fields import CharacterRule
from schemas.users import LoginUserRequest, NewUserRequest, UpdateUserRequest

MB = 1024 * 1024
HARD_TIMEOUT = 5  # seconds; a linear pass over 1 MB takes a few milliseconds
ADVERSARIAL = {
    "letters then a control character": "a" * MB + "\x01",
    "spaces then a control character": " " * MB + "\x01",
    "alternating visible and space": "a " * (MB // 2) + "\x00",
    "only whitespace": "\u3000" * MB,
    "valid but long": "a" * MB,
    "control character first": "\x01" + "a" * MB,
    "URL-like": "http://" + "a" * MB + " ",
    "email-like": "a" * MB + "@" + "a." * 1000 + "!",
}
BODIES: dict[str, tuple[type[ma.Schema], str, list[str]]] = {
    "NewArticle": (NewArticleRequest, "article", ["title", "description", "body"]),
    "UpdateArticle": (UpdateArticleRequest, "article", ["title", "description", "body"]),
    "NewComment": (NewCommentRequest, "comment", ["body"]),
    "NewUser": (NewUserRequest, "user", ["username", "email", "password"]),
    "LoginUser": (LoginUserRequest, "user", ["email", "password"]),
    "UpdateUser": (UpdateUserRequest, "user", ["username", "email", "password", "bio", "image"]),
}


@contextmanager
def hard_timeout(seconds: int) -> Iterator[None]:
    def expired(*_args: Any) -> None:
        raise TimeoutError(f"validation took longer than {seconds} s: super-linear work")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def _cases() -> Iterator[tuple[str, str, str]]:
    for (schema_name, (_s, _e, names)), shape in itertools.product(BODIES.items(), ADVERSARIAL):
        for name in names:
            yield schema_name, name, shape


@pytest.mark.parametrize(("schema_name", "field", "shape"), list(_cases()))
def test_body_fields_reject_1mb_adversarial_input_in_linear_time(
    schema_name: str, field: str, shape: str
) -> None:
    schema_class, envelope, _names = BODIES[schema_name]
    data = {envelope: {field: ADVERSARIAL[shape]}}
    with hard_timeout(HARD_TIMEOUT):
        errors = schema_class().validate(data)
    assert field in errors.get(envelope, {}), errors


@pytest.mark.parametrize("shape", list(ADVERSARIAL))
@pytest.mark.parametrize("parameter", ["tag", "author", "favorited"])
def test_query_parameters_reject_1mb_adversarial_input_in_linear_time(
    parameter: str, shape: str
) -> None:
    with hard_timeout(HARD_TIMEOUT):
        errors = ArticlesQuery().validate({parameter: ADVERSARIAL[shape]})
    assert parameter in errors, errors


def test_tag_list_items_reject_adversarial_input_in_linear_time() -> None:
    with hard_timeout(HARD_TIMEOUT):
        errors = NewArticleRequest().validate(
            {"article": {"title": "t", "description": "d", "body": "b", "tagList": ["a" * MB]}}
        )
    assert "tagList" in errors["article"], errors


class _Probe(ma.Schema):
    value = fields.String()


def _rules() -> Iterator[tuple[str, CharacterRule]]:
    """Every linear-time rule on every request field, by where it sits."""
    seen: dict[str, CharacterRule] = {}
    schemas: list[ma.Schema] = [cls() for cls, _e, _n in BODIES.values()] + [ArticlesQuery()]
    while schemas:
        schema = schemas.pop()
        for name, field in schema.fields.items():
            if isinstance(field, fields.Nested):
                schemas.append(field.schema)
                continue
            inner = field.inner if isinstance(field, fields.List) else field
            for rule in inner.validators:
                if isinstance(rule, CharacterRule):
                    seen.setdefault(f"{type(schema).__name__}.{name}", rule)
    yield from sorted(seen.items())


def _corpus() -> list[str]:
    atoms = ["a", " ", "\t", "\n", "\r", "\x00", "\x01", "\x1f", "\x7f", "\u00a0", "\u3000",
             "\ufeff", "\u0085", "é", "💥", "\u2028", "\u200b", "-"]  # fmt: skip
    corpus = [""]
    for size in (1, 2, 3):
        corpus += ["".join(p) for p in itertools.product(atoms, repeat=size)]
    return corpus


@pytest.mark.parametrize(("where", "rule"), list(_rules()))
def test_linear_check_decides_the_documented_pattern(where: str, rule: CharacterRule) -> None:
    pattern = rule.regex.pattern
    assert isinstance(pattern, str), pattern
    documented = re.compile(pattern)
    disagreements = []
    for value in _corpus():
        by_pattern = documented.fullmatch(value) is not None
        try:
            rule(value)
            by_rule = True
        except ma.ValidationError:
            by_rule = False
        if by_pattern != by_rule:
            disagreements.append(value)
    assert not disagreements, (where, disagreements[:10])


def test_every_free_text_field_has_a_linear_rule() -> None:
    where = {name for name, _rule in _rules()}
    assert {
        "NewArticle.title",
        "NewArticle.description",
        "NewArticle.body",
        "NewArticle.tag_list",
        "NewComment.body",
        "UpdateUser.bio",
        "ArticlesQuery.tag",
        "ArticlesQuery.author",
        "ArticlesQuery.favorited",
    } <= where, where


def test_an_oversized_value_is_refused_by_its_length_alone() -> None:
    """Over the limit, the character rule never runs (so its message never appears)."""
    errors: dict[str, Any] = NewArticleRequest().validate(
        {"article": {"title": "\x01" * 10_000, "description": "d", "body": "b"}}
    )
    (message,) = errors["article"]["title"]
    assert "control" not in message, message
