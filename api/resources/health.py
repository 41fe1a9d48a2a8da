"""Liveness and readiness probes for orchestrators and load balancers."""

from __future__ import annotations

from functools import cache
from typing import Any

from alembic.script import ScriptDirectory
from flask.views import MethodView
from marshmallow import fields

from api import cache as read_cache
from api.context import db_session
from api.errors import DATABASE_DOWN, fail
from api.extensions import Blueprint
from api.ratelimit import exempt
from db import queries
from db.errors import DatabaseUnavailable
from db.migrate import alembic_config
from schemas.base import ResponseSchema

RETRY = {"Retry-After": "1"}

blp = Blueprint("Operations", __name__, description="Health probes (beyond the RealWorld spec)")


class Health(ResponseSchema):
    status = fields.String(required=True, metadata={"example": "ok"})


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
class Readiness(MethodView):
    decorators = [exempt]

    @blp.public
    @blp.response(200, Health)
    @blp.alt_response(503, response="ServiceUnavailable")
    @blp.doc(operationId="GetReadiness")
    def get(self) -> dict[str, Any]:
        """Readiness

        The database answers and its schema is at the latest migration.
        """
        try:
            version = queries.schema_version(db_session())
        except DatabaseUnavailable:
            fail(503, "database", DATABASE_DOWN, RETRY)
        if version != _head_revision():
            fail(503, "database", "schema is not at the latest migration", RETRY)
        # Without Redis the reads come from the database: slower, still correct, so still ready.
        return {"status": "degraded" if read_cache.health() == "degraded" else "ready"}
