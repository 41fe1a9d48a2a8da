"""Usernames are one name regardless of case and look-alike characters (a unique key decides)."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text

from db.migrate import downgrade, upgrade
from db.usernames import mixes_scripts, normalized, username_key
from tests.factories import PASSWORD, body_of, register

TAKEN = {"errors": {"username": ["has already been taken"]}}
CYRILLIC_A = "\u0430"  # looks like Latin "a"
CYRILLIC_ACE = "\u0430\u0441\u0435"  # Cyrillic a, es, ie: looks like "ace"


def _signup(client: FlaskClient, username: str, email: str) -> tuple[int, object]:
    response = client.post(
        "/api/users", json={"user": {"username": username, "email": email, "password": PASSWORD}}
    )
    return response.status_code, response.json


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("alice", "ALICE"),
        ("ALICE", "alice"),
        ("Alice", "aLiCe"),
        ("strasse", "STRAẞE"),  # capital sharp s folds to "ss"
        ("ace", CYRILLIC_ACE),  # a whole name of Cyrillic look-alikes
        ("jake", "\uff4a\uff41\uff4b\uff45"),  # full-width letters: NFKC makes them "jake"
    ],
)
def test_a_name_equal_under_case_or_look_alikes_is_taken(
    client: FlaskClient, first: str, second: str
) -> None:
    assert _signup(client, first, "first@example.com")[0] == 201
    assert _signup(client, second, "second@example.com") == (409, TAKEN)


def test_mixing_look_alike_scripts_is_refused(client: FlaskClient) -> None:
    status, body = _signup(client, f"{CYRILLIC_A}lice", "mixed@example.com")
    assert (status, body) == (
        422,
        {"errors": {"username": ["must not mix look-alike scripts (such as Latin and Cyrillic)"]}},
    )


def test_names_in_one_other_script_are_welcome(client: FlaskClient) -> None:
    for name in ("Élodie", "Ωμέγα", "ユーザー", "пользователь"):
        assert _signup(client, name, f"{len(name)}{name.encode().hex()}@example.com")[0] == 201


def test_full_width_letters_are_stored_normalized(client: FlaskClient) -> None:
    status, body = _signup(client, "\uff2a\uff41\uff4b\uff45", "fw@example.com")
    assert status == 201
    assert body["user"]["username"] == "Jake"  # type: ignore[index]
    assert client.get("/api/profiles/Jake").status_code == 200


def test_renaming_to_another_case_of_your_own_name_works(client: FlaskClient) -> None:
    account = register(client, "casey")
    response = client.put(
        "/api/user", json={"user": {"username": "Casey"}}, headers=account.headers
    )
    assert response.status_code == 200
    assert body_of(response)["user"]["username"] == "Casey"


def test_renaming_to_a_variant_of_someone_elses_name_is_taken(client: FlaskClient) -> None:
    register(client, "owner")
    other = register(client, "other")
    response = client.put("/api/user", json={"user": {"username": "OWNER"}}, headers=other.headers)
    assert (response.status_code, response.json) == (409, TAKEN)


def test_the_key() -> None:
    assert username_key("ALICE") == username_key("alice") == "alice"
    assert username_key(CYRILLIC_ACE) == "ace"
    assert username_key("STRAẞE") == "strasse"
    assert normalized("\uff2a") == "J"
    assert mixes_scripts(f"{CYRILLIC_A}lice") and not mixes_scripts("jake_1.x-y")
    assert not mixes_scripts("пользователь")


def test_the_migration_keeps_colliding_accounts_apart_and_reports_them(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Existing `alice` and `ALICE` (and a look-alike) are never merged: the oldest keeps the
    key, later ones get `<key>#<id>`, each collision is logged; the downgrade drops the key."""
    url = f"sqlite:///{tmp_path / 'keys.db'}"
    upgrade(url, "0005")
    engine = create_engine(url)
    with engine.begin() as conn:
        for name in ("alice", "ALICE", "bob", f"{CYRILLIC_A}lice"):
            conn.execute(
                text(
                    "INSERT INTO users (username, email, password_hash, created_at)"
                    " VALUES (:n, :e, 'x', CURRENT_TIMESTAMP)"
                ),
                {"n": name, "e": f"{name.encode().hex()}@example.com"},
            )
    with caplog.at_level("WARNING"):
        upgrade(url, "0006")
    with engine.connect() as conn:
        keys: dict[str, str] = dict(
            conn.execute(text("SELECT username, username_key FROM users")).all()
        )
    assert keys == {
        "alice": "alice",
        "ALICE": "alice#2",
        "bob": "bob",
        f"{CYRILLIC_A}lice": "alice#4",
    }
    reported = [r.getMessage() for r in caplog.records if "collides" in r.getMessage()]
    assert len(reported) == 2 and all("'alice' (id 1)" in line for line in reported), reported
    downgrade(url, "0005")
    with engine.connect() as conn:
        columns = [row[1] for row in conn.execute(text("PRAGMA table_info(users)"))]
    assert "username_key" not in columns
    engine.dispose()
