"""Tags."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from api.context import db_connection, model
from api.pipeline.ratelimit import suggest_limit
from api.seam import Blueprint
from db import queries
from ml.suggest import article_text
from schemas.articles import NewArticleRequest
from schemas.ml import TagSuggestionsResponse
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


@blp.route("/tags/suggestions")
class TagSuggestions(MethodView):
    decorators = [suggest_limit]

    @blp.auth_required
    @blp.arguments(
        NewArticleRequest,
        example={"article": {"title": "Taming dragons", "description": "d", "body": "b"}},
    )
    @blp.response(200, TagSuggestionsResponse)
    @blp.errors(429, 503)
    @blp.doc(operationId="SuggestTags")
    def post(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Suggest tags for a draft

        The site's own tags, best first (at most 5), for a draft shaped like CreateArticle's:
        its nearest articles' tags by meaning, weighted, and a bonus for a tag the draft names.
        Tags in its `tagList` are left out. The model reads the first 256 tokens of title,
        description and body, in that order. 503 `model` when the model is unavailable.
        """
        draft = payload["article"]
        served = model()
        text = article_text(draft["title"], draft["description"], draft["body"])
        found = served.suggestions(db_connection(), text, set(draft.get("tag_list", [])))
        return {
            "suggestions": [{"tag": tag, "score": round(score, 4)} for tag, score in found],
            "model": {"name": served.name, "version": served.version()},
        }
