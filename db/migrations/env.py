"""Alembic environment: the URL from `-x url=`, the config, or DATABASE_URL."""

from __future__ import annotations

from logging.config import fileConfig

from alembic import context
from sqlalchemy import text

from core.settings import Settings
from db.models import Base, modeled
from db.session import make_engine

config = context.config
# The advisory lock every migrating process takes first (an arbitrary constant of ours).
MIGRATION_LOCK = 7_243_610_015
if config.config_file_name is not None and config.attributes.get("configure_logger", True):
    fileConfig(config.config_file_name, disable_existing_loggers=False)


def _url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url") or config.get_main_option(
        "sqlalchemy.url"
    )
    return url or Settings().database_url


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=Base.metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    url = _url()
    if url.startswith("sqlite:///"):
        import pathlib

        pathlib.Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    # Behind PgBouncer (transaction pooling too): every migration runs in one transaction.
    engine = make_engine(url, pgbouncer=Settings().pgbouncer)
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=Base.metadata,
        render_as_batch=True,  # SQLite alters tables by copying them
        compare_type=True,
        include_name=modeled,  # full-text search is the database's, not a model (0012)
    )
    with context.begin_transaction():
        if connection.dialect.name == "postgresql":  # type: ignore[attr-defined]
            # Nodes started together (`make serve` beside `make worker`, a fleet rolling out)
            # migrate one at a time: the others wait here, then find the database at head.
            connection.execute(  # type: ignore[attr-defined]
                text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK}
            )
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
