"""Liveness and readiness probes for orchestrators and load balancers."""

from __future__ import annotations

from functools import cache
from typing import Any

from alembic.script import ScriptDirectory
from flask.views import MethodView
from marshmallow import fields
from marshmallow.validate import OneOf

from api.context import database, db_session, model
from api.errors import DATABASE_DOWN, fail
from api.pipeline import cache as read_cache
from api.pipeline.ratelimit import exempt
from api.seam import Blueprint
from db import outbox, queries
from db.errors import DatabaseUnavailable
from db.migrate import alembic_config
from schemas.base import ResponseSchema

RETRY = {"Retry-After": "1"}

blp = Blueprint("Operations", __name__, description="Health probes (beyond the RealWorld spec)")


class Health(ResponseSchema):
    status = fields.String(required=True, metadata={"example": "ok"})


class OutboxBacklog(ResponseSchema):
    pending = fields.Integer(
        required=True, metadata={"description": "Events not yet relayed to the workers"}
    )
    oldest_age_seconds = fields.Float(
        required=True,
        data_key="oldestAgeSeconds",
        metadata={"description": "Age of the oldest of them (0 when none): a stuck relay grows it"},
    )


class ModelStatus(ResponseSchema):
    status = fields.String(
        required=True,
        validate=OneOf(["ok", "idle", "degraded"]),
        metadata={
            "description": "`ok` (loaded in this worker), `idle` (loads on first use) or"
            " `degraded` (could not load: the model's operations answer 503, all else works)"
        },
    )
    name = fields.String(required=True, metadata={"example": "all-MiniLM-L6-v2"})
    version = fields.String(metadata={"description": "A hash of the weights, once loaded"})


class ReplicaReadiness(ResponseSchema):
    name = fields.String(required=True, metadata={"example": "10.0.0.2:5432/conduit"})
    state = fields.String(
        required=True,
        validate=OneOf(["up", "lagging", "down", "promoted"]),
        metadata={
            "description": "`up` (serves reads), `lagging` (beyond `REPLICA_MAX_LAG_SECONDS`),"
            " `down` (not answering, as this worker last saw) or `promoted` (out of recovery:"
            " never read from)"
        },
    )
    lag_seconds = fields.Float(
        required=True,
        allow_none=True,
        data_key="lagSeconds",
        metadata={"description": "How far behind the primary it is; null when unknown"},
    )


class Readiness(ResponseSchema):
    status = fields.String(
        required=True,
        metadata={
            "example": "ready",
            "description": "`ready`, or `degraded` while the read cache's Redis is unreachable"
            " (reads are then served from the database: slower, still correct), the model"
            " could not load, or a replica is not `up` (its reads go to the primary)",
        },
    )
    read_cache = fields.String(
        required=True,
        data_key="readCache",
        validate=OneOf(["off", "ok", "degraded"]),
        metadata={"description": "The read cache: `off` (no `REDIS_URL`), `ok` or `degraded`"},
    )
    outbox = fields.Nested(OutboxBacklog, required=True)
    model = fields.Nested(ModelStatus, required=True)
    replicas = fields.List(
        fields.Nested(ReplicaReadiness),
        required=True,
        metadata={
            "description": "The streaming replicas (`DATABASE_REPLICA_URLS`), as this worker's"
            " monitor sees them; reads go to the primary while none is `up`"
        },
    )


@cache
def _head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


@blp.route("/health")
class Liveness(MethodView):
    decorators = [exempt]

    @blp.public
    @blp.response(200, Health)
    @blp.doc(operationId="GetHealth")
    def get(self) -> dict[str, Any]:
        """Liveness

        The process answers; nothing else is checked.
        """
        return {"status": "ok"}


@blp.route("/ready")
class Ready(MethodView):
    decorators = [exempt]

    @blp.public
    @blp.response(200, Readiness)
    @blp.alt_response(503, response="ServiceUnavailable")
    @blp.doc(operationId="GetReadiness")
    def get(self) -> dict[str, Any]:
        """Readiness

        The database answers and its schema is at the latest migration. Also reports the
        outbox backlog (informational: a backlog does not make the API unready).
        """
        try:
            version = queries.schema_version(db_session())
        except DatabaseUnavailable:
            fail(503, "database", DATABASE_DOWN, RETRY)
        if version != _head_revision():
            fail(503, "database", "schema is not at the latest migration", RETRY)
        pending, age = outbox.backlog(db_session())
        # Without Redis the reads come from the database: slower, still correct, so still ready.
        cache = read_cache.health()
        status = model().status()
        replicas = database().replicas
        found = [] if replicas is None else replicas.statuses()
        degraded = (
            cache == "degraded"
            or status["status"] == "degraded"
            or any(replica.state != "up" for replica in found)
        )
        return {
            "status": "degraded" if degraded else "ready",
            "read_cache": cache,
            "outbox": {"pending": pending, "oldest_age_seconds": age},
            "model": status,
            "replicas": [
                {"name": r.name, "state": r.state, "lag_seconds": r.lag_seconds} for r in found
            ],
        }
