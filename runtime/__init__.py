"""The composition root: what every process of Conduit runs on, built once, typed.

`build(settings)` makes the runtime: the settings, the database (engine and sessions), the
password hasher, and the background work's two ends, the Celery app (when a broker is set)
and the relay that the web process wakes after a commit that emitted. The web app
(`api.create_app`), the Celery worker (`runtime.worker`) and the commands all start from it,
so `api/` and `jobs/` never import each other: they meet here. What only the web process
has (the read cache, the rate-limit budget) is built by `create_app` on top of it.
"""

from __future__ import annotations

from dataclasses import dataclass

from celery import Celery

from core.passwords import Passwords
from core.settings import Settings
from db.session import Database
from jobs import hint
from jobs.celery import make_celery
from ml.serving import ModelService


@dataclass(frozen=True, slots=True, eq=False)
class Runtime:
    settings: Settings
    database: Database
    passwords: Passwords
    # None in in-process mode: the relay delivers in this process (jobs/hint.py).
    celery: Celery | None
    relay: hint.HintThread
    # The embedding model, loaded once per process after fork (ml/serving.py).
    model: ModelService

    def dispose(self) -> None:
        """Stop the relay's thread, close the database's connections (tests, and a process
        that is done)."""
        self.relay.stop()
        self.database.dispose()


def build(settings: Settings | None = None) -> Runtime:
    settings = settings or Settings()
    database = Database(
        settings.database_url,
        echo=settings.sql_echo,
        replica_urls=settings.database_replica_urls,
        max_lag=settings.replica_max_lag_seconds,
        pgbouncer=settings.pgbouncer,
    )
    model = ModelService(settings.model_dir, settings.redis_url)
    celery = make_celery(settings, database, model) if settings.celery_broker_url else None
    return Runtime(
        settings=settings,
        database=database,
        passwords=Passwords(settings),
        celery=celery,
        relay=hint.install(settings, database, celery, model),
        model=model,
    )
