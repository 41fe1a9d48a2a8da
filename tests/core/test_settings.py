"""Typed settings: weak secrets refused in production, a stable development key, URL and list parsing."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

import api.app
from api import create_app
from api.context import runtime_of
from core.settings import ServerSettings, Settings

ENV_VARS = (
    "APP_ENV",
    "DATABASE_URL",
    "JWT_SECRET_KEY",
    "CORS_ORIGINS",
    "ACCESS_TOKEN_MINUTES",
    "MAX_CONTENT_LENGTH",
)


@pytest.fixture(autouse=True)
def isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No environment, no `.env`, and an instance/ directory of our own."""
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    monkeypatch.chdir(workdir)  # `.env` is read from the working directory
    instance = tmp_path / "instance"
    monkeypatch.setattr(api.app, "INSTANCE_DIR", instance)
    return instance


def app_secret(settings: Settings | None = None) -> str:
    """The JWT key an app built from `settings` (default: from the environment) signs with."""
    app = create_app(settings or Settings(database_url="sqlite://"))
    try:
        secret: str = app.config["JWT_SECRET_KEY"]
        return secret
    finally:
        runtime_of(app).dispose()


# --- the JWT secret in production --------------------------------------------


@pytest.mark.parametrize(
    "secret",
    [
        None,
        "",
        "x" * 31,
        "é" * 15 + "x",  # 16 characters but 31 bytes: the limit is in bytes
    ],
)
def test_production_refuses_a_missing_or_short_secret(secret: str | None) -> None:
    kwargs: dict[str, Any] = {} if secret is None else {"jwt_secret_key": secret}
    with pytest.raises(ValidationError, match="JWT_SECRET_KEY"):
        Settings(app_env="production", **kwargs)


@pytest.mark.parametrize("secret", ["x" * 32, "é" * 16, "s" * 100])
def test_production_accepts_32_bytes_or_more(secret: str) -> None:
    settings = Settings(app_env="production", jwt_secret_key=secret)
    assert settings.jwt_secret_key == secret


def test_production_app_refuses_to_start_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, isolated: Path
) -> None:
    monkeypatch.setenv("APP_ENV", "production")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{isolated.parent / 'prod.db'}")
    monkeypatch.setenv("JWT_SECRET_KEY", "y" * 31)
    with pytest.raises(ValidationError, match="JWT_SECRET_KEY"):
        create_app()
    # never a development key written on the way
    assert not (isolated / "dev-jwt-secret").exists()

    monkeypatch.setenv("JWT_SECRET_KEY", "y" * 32)
    app = create_app()
    try:
        assert app.config["JWT_SECRET_KEY"] == "y" * 32
    finally:
        runtime_of(app).dispose()


def test_production_secret_from_a_dotenv_file(isolated: Path) -> None:
    Path(".env").write_text("APP_ENV=production\nJWT_SECRET_KEY=" + "z" * 40 + "\n")
    settings = Settings()
    assert settings.app_env == "production"
    assert settings.jwt_secret_key == "z" * 40


# --- the development key -----------------------------------------------------


def test_building_settings_writes_no_file(isolated: Path) -> None:
    settings = Settings()
    assert settings.app_env == "development"
    assert settings.jwt_secret_key == ""  # the app makes the development key, not Settings
    assert not isolated.exists()


def test_development_without_secret_uses_a_stable_key_in_instance(isolated: Path) -> None:
    first = app_secret()
    second = app_secret()
    assert first == second
    assert len(first.encode()) >= 32
    path = isolated / "dev-jwt-secret"
    assert path.read_text().strip() == first
    assert path.stat().st_mode & 0o777 == 0o600
    assert list(isolated.iterdir()) == [path]  # no temporary files left behind


def test_development_key_survives_a_restart_and_differs_per_instance(
    monkeypatch: pytest.MonkeyPatch, isolated: Path, tmp_path: Path
) -> None:
    (isolated).mkdir()
    (isolated / "dev-jwt-secret").write_text("kept-from-an-earlier-run-" + "k" * 20 + "\n")
    assert app_secret() == "kept-from-an-earlier-run-" + "k" * 20

    other = tmp_path / "other-instance"
    monkeypatch.setattr(api.app, "INSTANCE_DIR", other)
    fresh = app_secret()
    assert fresh != "kept-from-an-earlier-run-" + "k" * 20
    assert (other / "dev-jwt-secret").read_text().strip() == fresh


def test_test_env_without_secret_also_gets_the_development_key(isolated: Path) -> None:
    assert app_secret(Settings(app_env="test", database_url="sqlite://")) == app_secret()


def test_an_explicit_development_secret_is_used_as_is(isolated: Path) -> None:
    assert Settings(jwt_secret_key="short").jwt_secret_key == "short"
    assert app_secret(Settings(jwt_secret_key="short", database_url="sqlite://")) == "short"
    assert not isolated.exists()


# --- URLs and lists ----------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u:p@db:5432/conduit", "postgresql+psycopg://u:p@db:5432/conduit"),
        (
            "postgresql://u:p@db/conduit?sslmode=require",
            "postgresql+psycopg://u:p@db/conduit?sslmode=require",
        ),
        ("postgresql+psycopg://u@db/conduit", "postgresql+psycopg://u@db/conduit"),
        ("sqlite:////tmp/x.db", "sqlite:////tmp/x.db"),
    ],
)
def test_database_url_gets_the_psycopg3_driver(
    monkeypatch: pytest.MonkeyPatch, given: str, expected: str
) -> None:
    assert Settings(database_url=given).database_url == expected
    monkeypatch.setenv("DATABASE_URL", given)
    assert Settings().database_url == expected


def test_default_database_is_sqlite() -> None:
    settings = Settings()
    assert settings.is_sqlite
    assert not Settings(database_url="postgres://u@h/d").is_sqlite


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("a,b", ["a", "b"]),
        ("https://a.example, https://b.example ,", ["https://a.example", "https://b.example"]),
        ("https://only.example", ["https://only.example"]),
        ("", []),
        (" , ", []),
    ],
)
def test_cors_origins_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, raw: str, expected: list[str]
) -> None:
    monkeypatch.setenv("CORS_ORIGINS", raw)
    assert Settings().cors_origins == expected


def test_allowed_origins() -> None:
    assert Settings().allowed_origins == "*"
    assert Settings(app_env="production", jwt_secret_key="p" * 32).allowed_origins == []
    assert Settings(
        app_env="production", jwt_secret_key="p" * 32, cors_origins=["https://a.example"]
    ).allowed_origins == ["https://a.example"]
    assert Settings(cors_origins="a,b").allowed_origins == ["a", "b"]


# --- bounds ------------------------------------------------------------------


@pytest.mark.parametrize(
    "overrides",
    [
        {"app_env": "staging"},
        {"access_token_minutes": 0},
        {"access_token_minutes": 60 * 24 * 31},
        {"max_content_length": 10},
        {"argon2_memory_kib": 1024},
        {"argon2_time_cost": 1},
        {"argon2_parallelism": 0},
    ],
)
def test_out_of_bounds_settings_are_refused(overrides: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        Settings(**overrides)  # type: ignore[arg-type]


def test_numbers_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACCESS_TOKEN_MINUTES", "15")
    monkeypatch.setenv("MAX_CONTENT_LENGTH", "2048")
    settings = Settings()
    assert (settings.access_token_minutes, settings.max_content_length) == (15, 2048)
    monkeypatch.setenv("ACCESS_TOKEN_MINUTES", "fifteen")
    with pytest.raises(ValidationError):
        Settings()


def test_the_server_section_reads_what_gunicorn_and_nginx_are_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One source for the servers' knobs (core/settings.py ServerSettings): an empty variable
    is its default, GUNICORN_BIND wins over HOST/PORT, a launcher's mapping wins over ours."""
    monkeypatch.setenv("GUNICORN_TIMEOUT", "45")
    monkeypatch.setenv("PORT", "")
    monkeypatch.setenv("METRICS_PUBLIC", "false")
    server = ServerSettings()
    assert (server.gunicorn_timeout, server.port, server.bind) == (45, 8000, "127.0.0.1:8000")
    assert server.metrics_public is False
    given = ServerSettings.from_environ({"GUNICORN_BIND": "unix:/tmp/g.sock", "PORT": "9"})
    assert (given.bind, given.port, given.gunicorn_timeout) == ("unix:/tmp/g.sock", 9, 45)
    assert Settings(database_url="sqlite://").server.gunicorn_timeout == 45  # the app: the same
    monkeypatch.setenv("WEB_CONCURRENCY", "zero")
    with pytest.raises(ValueError, match="web_concurrency"):
        ServerSettings()
