"""Integrity errors told apart by kind and constraint name, the same on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from db.errors import Kind, Violation, is_unique_violation, violation
from db.models import Comment, Tag, User, follows
from db.session import Database


def raised(db: Database, write: Callable[[Session], object]) -> IntegrityError:
    """The IntegrityError a write raises, in a savepoint that undoes it."""
    session = db.session()
    with pytest.raises(IntegrityError) as caught, session.begin_nested():
        write(session)
    return caught.value


def add_user(username: str, email: str) -> Callable[[Session], object]:
    def write(session: Session) -> None:
        session.add(User(username=username, email=email, password_hash="x"))
        session.flush()

    return write


@pytest.fixture
def user_id(db: Database) -> int:
    session = db.session()
    user = User(username="owner", email="owner@example.com", password_hash="x")
    session.add(user)
    session.flush()
    return user.id


def test_a_unique_constraint_by_its_name(db: Database) -> None:
    error = raised(db, lambda s: s.execute(insert(Tag), [{"name": "dragons"}] * 2))
    assert violation(error) == Violation(Kind.UNIQUE, "uq_tags_name")
    assert is_unique_violation(error, "uq_tags_name")
    assert not is_unique_violation(error, "uq_users_email")


@pytest.mark.usefixtures("user_id")
@pytest.mark.parametrize(
    ("username", "email", "constraint"),
    [
        ("owner", "other@example.com", "uq_users_username"),
        ("owner2", "owner@example.com", "uq_users_email"),
        # `Owner` is `owner` once case is folded: only the key collides, not the username
        ("Owner", "other@example.com", "uq_users_username_key"),
    ],
)
def test_unique_constraints_of_one_table_are_told_apart(
    db: Database, username: str, email: str, constraint: str
) -> None:
    found = violation(raised(db, add_user(username, email)))
    assert found.kind is Kind.UNIQUE
    if constraint == "uq_users_username":  # both collide; the database reports one
        assert found.constraint in {"uq_users_username", "uq_users_username_key"}
    else:
        assert found.constraint == constraint


def test_a_primary_key_is_a_unique_constraint(db: Database, user_id: int) -> None:
    pair = {"follower_id": user_id, "followed_id": user_id}
    error = raised(db, lambda s: s.execute(insert(follows), [pair, pair]))
    assert violation(error) == Violation(Kind.UNIQUE, "pk_follows")


def test_a_foreign_key(db: Database, backend: str) -> None:
    row = {"body": "x", "article_id": 2**31 - 1, "author_id": 2**31 - 1}
    found = violation(raised(db, lambda s: s.execute(insert(Comment), row)))
    assert found.kind is Kind.FOREIGN_KEY
    if backend == "sqlite":
        assert found.constraint is None  # SQLite does not say which one
    else:
        assert found.constraint in {
            "fk_comments_article_id_articles",
            "fk_comments_author_id_users",
        }


def test_not_null(db: Database) -> None:
    error = raised(db, lambda s: s.execute(insert(Tag), {"name": None}))
    assert violation(error).kind is Kind.NOT_NULL
    assert not is_unique_violation(error, "uq_tags_name")
