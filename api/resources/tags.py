"""Tags."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from api.context import db_connection
from api.seam import Blueprint
from db import queries
from schemas.tags import TagsResponse

blp = Blueprint("Tags", __name__, description="Tags in use")


@blp.route("/tags")
class Tags(MethodView):
    @blp.cached
    @blp.public
    @blp.response(200, TagsResponse)
    @blp.doc(operationId="GetTags")
    def get(self) -> dict[str, Any]:
        """Get tags

        Tags used by at least one article, most used first.
        """
        return {"tags": queries.tags(db_connection())}
