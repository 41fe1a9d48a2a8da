"""A transient database error (a deadlock victim, a serialization failure) reruns the unit of
work; it is not an outage. The errors here are PostgreSQL's own, raised by the server with
their real SQLSTATE (`RAISE ... USING ERRCODE`), in a view that writes before it fails."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import text

from api import create_app
from api.context import db_session, runtime_of
from db import retry
from testkit.database import PostgresServer
from testkit.settings import make_settings

pytestmark = pytest.mark.postgres_only


@pytest.fixture
def app(postgres_server: PostgresServer) -> Iterator[Flask]:
    """An app with one extra write view that collides `fail` times, then succeeds."""
    with postgres_server.database(migrate=True) as url:
        application = create_app(make_settings(url))
        application.config["TESTING"] = True
        runs: list[int] = []
        application.config["RUNS"] = runs

        def collide() -> Any:
            runs.append(1)
            session = db_session()
            session.execute(
                text("INSERT INTO tags (name) VALUES (:name)"), {"name": f"t{len(runs)}"}
            )
            if len(runs) <= application.config["FAIL"]:
                sqlstate = application.config["SQLSTATE"]
                session.execute(
                    text(
                        f"DO $$ BEGIN RAISE EXCEPTION 'collided' USING ERRCODE = '{sqlstate}'; END $$"
                    )
                )
            session.commit()
            return {"runs": len(runs)}

        application.add_url_rule("/api/collide", "collide", collide, methods=["POST"])
        yield application
        runtime_of(application).dispose()


def tags(app: Flask) -> list[str]:
    with runtime_of(app).database.engine.connect() as conn:
        return list(conn.execute(text("SELECT name FROM tags ORDER BY name")).scalars())


def retries(kind: str) -> float:
    value: float = retry.RETRIES.labels(kind)._value.get()
    return value


@pytest.mark.parametrize(
    ("sqlstate", "kind"),
    [("40P01", "deadlock"), ("40001", "serialization"), ("55P03", "lock_timeout")],
)
def test_a_transient_error_reruns_the_request(app: Flask, sqlstate: str, kind: str) -> None:
    app.config.update(FAIL=2, SQLSTATE=sqlstate)
    before = retries(kind)
    response = app.test_client().post("/api/collide")
    assert response.status_code == 200, response.json
    assert response.json == {"runs": 3}
    # the first two runs were rolled back whole: only the third one's row is there
    assert tags(app) == ["t3"]
    assert retries(kind) == before + 2


def test_still_colliding_after_the_reruns_is_409_with_retry_after(app: Flask) -> None:
    app.config.update(FAIL=100, SQLSTATE="40P01")
    response = app.test_client().post("/api/collide")
    assert response.status_code == 409
    assert response.json == {
        "errors": {"request": ["conflicts with a concurrent change, try again"]}
    }
    assert response.headers["Retry-After"] == "1"
    assert app.config["RUNS"] == [1] * retry.ATTEMPTS
    assert tags(app) == []


def test_an_outage_is_still_503_and_not_rerun(app: Flask) -> None:
    """Any other operational error keeps its meaning (here 57014, a statement timeout)."""
    app.config.update(FAIL=100, SQLSTATE="57014")
    response = app.test_client().post("/api/collide")
    assert response.status_code == 503
    assert response.json == {"errors": {"database": ["is unavailable, try again"]}}
    assert app.config["RUNS"] == [1]


def test_the_loop_of_the_relay_and_the_tasks(app: Flask) -> None:
    """`retry.run`: the same rule for units of work outside a request."""
    engine = runtime_of(app).database.engine
    runs: list[int] = []
    with engine.connect() as conn:

        def work() -> int:
            runs.append(1)
            conn.execute(text("INSERT INTO tags (name) VALUES (:name)"), {"name": f"r{len(runs)}"})
            if len(runs) < 3:
                conn.execute(
                    text("DO $$ BEGIN RAISE EXCEPTION 'x' USING ERRCODE = '40001'; END $$")
                )
            conn.commit()
            return len(runs)

        assert retry.run(work, rollback=conn.rollback) == 3
    assert tags(app) == ["r3"]
