"""Typed settings, read from the environment and an optional `.env` file.

Building them reads; it writes nothing (the development JWT key is made by `create_app`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
INSTANCE_DIR = PROJECT_ROOT / "instance"
MIN_SECRET_BYTES = 32
LogFormat = Literal["json", "text"]
# PgBouncer's pool_mode, as the app must know it (db/session.py: what psycopg may do).
PoolMode = Literal["transaction", "session"]


def _log_format_for(values: dict[str, Any]) -> LogFormat:
    """Unset LOG_FORMAT: readable lines in development, JSON everywhere else."""
    return "text" if values.get("app_env", "development") == "development" else "json"


def default_workers() -> int:
    """`WEB_CONCURRENCY` unset: two sync workers per core (each waits out its statements), at most 8."""
    return min((os.cpu_count() or 1) * 2, 8)


def _psycopg3(url: str) -> str:
    """Heroku-style URLs name no driver; we only ship psycopg 3."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


class ServerSettings(BaseSettings):
    """How a node is served: gunicorn's, nginx's and the metrics listener's knobs.

    Read by gunicorn's config (deploy/gunicorn_conf.py), `make serve-proxy` (deploy/), and the
    app where it must agree with them (the idempotency lease outlives GUNICORN_TIMEOUT). Kept
    apart from `Settings` so that the launchers read it without the app's own validation
    (a production JWT key, say); `Settings.server` is the same section for the app. An
    empty variable means its default, as the shell scripts that set them expect.
    """

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", env_ignore_empty=True)

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    # e.g. `unix:/run/conduit/gunicorn.sock` (what `make serve-proxy` uses); wins over HOST/PORT
    gunicorn_bind: str | None = None
    web_concurrency: int = Field(default_factory=default_workers, ge=1)
    gunicorn_threads: int = Field(default=1, ge=1)
    # A request is cut off after this; PostgreSQL's statement_timeout (db/session.py) is lower.
    gunicorn_timeout: int = Field(default=30, ge=1)
    gunicorn_graceful_timeout: int = Field(default=20, ge=1)
    gunicorn_max_requests: int = Field(default=100_000, ge=0)
    gunicorn_access_log: str | None = None
    # `host:port` where gunicorn's master serves /metrics for every worker (never via nginx)
    metrics_bind: str = ""
    # whether the app also serves /metrics on its own port; unset: everywhere but production
    metrics_public: bool | None = None
    # Where the workers' metric files go (prometheus_client's own variable); unset, gunicorn's
    # config names one of its own (CONDUIT_OWN_METRICS_DIR then says so), removed at exit.
    prometheus_multiproc_dir: str = ""
    conduit_own_metrics_dir: str = ""
    nginx: str = ""  # the nginx binary; empty: found on PATH or in /usr/sbin
    nginx_client_timeout: int = Field(default=10, ge=1)
    nginx_worker_processes: str = "auto"
    nginx_worker_connections: int = Field(default=1024, ge=1)

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> ServerSettings:
        """The section as a child given `environ` will read it (its values win over ours)."""
        names = {name.upper(): name for name in cls.model_fields}
        given: dict[str, Any] = {
            names[key]: value for key, value in environ.items() if key in names and value
        }
        return cls(**given)

    @property
    def bind(self) -> str:
        return self.gunicorn_bind or f"{self.host}:{self.port}"


class Settings(BaseSettings):
    """Every knob the service has; environment variables use the same names, upper-cased."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    app_env: Literal["development", "test", "production"] = "development"
    database_url: str = f"sqlite:///{INSTANCE_DIR / 'conduit.db'}"
    # Streaming replicas of DATABASE_URL, comma-separated: safe requests read from one that
    # has replayed the client's own last write and lags under REPLICA_MAX_LAG_SECONDS
    # (db/replicas.py); empty: every read goes to DATABASE_URL.
    database_replica_urls: Annotated[list[str], NoDecode] = Field(default_factory=list)
    replica_max_lag_seconds: float = Field(default=5.0, gt=0, le=3600)
    # The database URLs name PgBouncer: no startup `options` (set statement_timeout on the
    # role). In transaction pooling (PGBOUNCER_POOL_MODE) no server-side prepared statements
    # either: PgBouncer 1.18 would run one prepared on a server connection on another.
    behind_pgbouncer: bool = False
    pgbouncer_pool_mode: PoolMode = "transaction"
    # Outside production, empty means the development key kept in instance/ (see create_app).
    jwt_secret_key: str = ""
    access_token_minutes: int = Field(default=60 * 24, ge=1, le=60 * 24 * 30)
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    max_content_length: int = Field(default=1024 * 1024, ge=1024)
    sql_echo: bool = False
    # argon2id cost, at or above OWASP's minimum (m=19 MiB, t=2, p=1)
    argon2_memory_kib: int = Field(default=19 * 1024, ge=19 * 1024)
    argon2_time_cost: int = Field(default=2, ge=2)
    argon2_parallelism: int = Field(default=1, ge=1)
    # Shared state between workers and replicas (rate-limit counters, the read cache); None:
    # in-process memory for the counters, and no read cache.
    redis_url: str | None = None
    # Anonymous article, comment and tag reads answered from Redis (api/pipeline/cache.py); a write
    # makes them unreachable at once, the TTL only bounds what a failed invalidation leaves.
    read_cache: bool = True
    read_cache_ttl_seconds: int = Field(default=60, ge=1, le=3600)
    rate_limit_enabled: bool = True
    rate_limit_login: str = "10/minute"
    rate_limit_register: str = "10/minute"
    rate_limit_default: str = "1200/minute"
    # Tag suggestions run the model (CPU): per client address, like login and registration.
    rate_limit_suggest: str = "60/minute"
    # Number of reverse proxies in front of us whose X-Forwarded-* headers are trusted.
    proxy_count: int = Field(default=0, ge=0, le=5)
    log_level: str = "INFO"
    # "text": one readable line per record; "json": one object per line, for log collectors.
    log_format: LogFormat = Field(default_factory=_log_format_for)
    access_log: bool = True

    # Sessions: rotating refresh tokens (api/sessions.py). A presented spent refresh token
    # revokes its family, except within the grace window after its rotation (two tabs).
    refresh_token_days: int = Field(default=30, ge=1, le=365)
    refresh_grace_seconds: int = Field(default=10, ge=0, le=300)
    # Cookie mode (api/cookies.py): the refresh token travels in an HttpOnly cookie, not in
    # bodies, out of reach of page scripts. Off by default: RealWorld clients use bodies.
    session_cookie: bool = False
    # Secure unless serving plain http (local development and tests).
    session_cookie_secure: bool = True
    session_cookie_samesite: Literal["Strict", "Lax", "None"] = "Strict"

    # Background work (jobs/): the Celery broker, e.g. amqp://guest:guest@127.0.0.1:5672//
    # (Redis also works). None: in-process mode, where a thread of the web process relays
    # outbox events and delivers them itself (fine for `make run`, not for several workers).
    celery_broker_url: str | None = None
    # How often the relay sweeps the outbox for events a lost hint left pending (beat, or the
    # in-process thread); after each commit that emitted, it is woken at once anyway.
    outbox_sweep_seconds: float = Field(default=5.0, gt=0, le=3600)
    # Wake the relay after each commit that emitted (off in tests, which relay explicitly).
    outbox_hint: bool = True
    # Email delivery of notifications: off unless SMTP_HOST is set (plain SMTP, e.g. a local
    # relay or sink); users opt out with `emailNotifications: false` in PUT /user.
    smtp_host: str | None = None
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_from: str = "Conduit <notifications@localhost>"
    # Followers notified per fan-out statement and task: 10,000 followers are 10 tasks.
    outbox_fan_out_batch: int = Field(default=1000, ge=1, le=100_000)
    # How the node is served (gunicorn, nginx, metrics): read here too where the app must agree.
    server: ServerSettings = Field(default_factory=ServerSettings)
    # MODEL_DIR: a directory holding model.onnx and tokenizer.json, another ONNX export of
    # all-MiniLM-L6-v2; None: the int8 export of the installed package (ml/model.py).
    model_dir: str | None = None
    # Load the model in each gunicorn worker before its first request (deploy/gunicorn_conf.py);
    # false: on first use.
    model_preload: bool = True

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        if isinstance(value, str):
            return [o.strip() for o in value.split(",") if o.strip()]
        return value

    @field_validator("database_url")
    @classmethod
    def _psycopg3_driver(cls, value: str) -> str:
        return _psycopg3(value)

    @field_validator("database_replica_urls", mode="before")
    @classmethod
    def _split_replicas(cls, value: object) -> object:
        if isinstance(value, str):
            return [_psycopg3(url.strip()) for url in value.split(",") if url.strip()]
        if isinstance(value, list):
            return [_psycopg3(str(url)) for url in value]
        return value

    @model_validator(mode="after")
    def _secret_strength(self) -> Settings:
        if self.app_env == "production" and len(self.jwt_secret_key.encode()) < MIN_SECRET_BYTES:
            raise ValueError(
                f"JWT_SECRET_KEY must be set to at least {MIN_SECRET_BYTES} bytes in production"
            )
        return self

    @property
    def pgbouncer(self) -> PoolMode | None:
        """The pooling of the PgBouncer the database URLs name, or None (the servers themselves)."""
        return self.pgbouncer_pool_mode if self.behind_pgbouncer else None

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def allowed_origins(self) -> list[str] | str:
        """Explicit allowlist; any origin only outside production when none is configured."""
        if self.cors_origins:
            return self.cors_origins
        return [] if self.app_env == "production" else "*"


def environment() -> dict[str, str]:
    """This process's environment, whole: what a launcher hands to the servers it starts."""
    return dict(os.environ)
