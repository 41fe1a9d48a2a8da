"""Favorite and unfavorite articles."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from api.context import current_user, db_session
from api.resources._shared import SLUG, article_response
from api.seam import Blueprint
from db import outbox, writes
from schemas.articles import SingleArticleResponse

blp = Blueprint("Favorites", __name__, description="Favorite articles")


@blp.route("/articles/<slug:slug>/favorite", parameters=SLUG)
class Favorite(MethodView):
    @blp.auth_required
    @blp.response(200, SingleArticleResponse)
    @blp.errors(404)
    @blp.doc(operationId="CreateArticleFavorite")
    def post(self, slug: str) -> dict[str, Any]:
        """Favorite an article

        Idempotent: favoriting twice counts once.
        """
        me = current_user()
        writes.favorite(db_session(), me.id, slug)  # nothing when the slug names no article
        response = article_response(slug, me.id)  # read in the write's transaction: no BEGIN
        outbox.favorited(db_session(), me.id, response["article"].id)
        db_session().commit()
        return response

    @blp.auth_required
    @blp.response(200, SingleArticleResponse)
    @blp.errors(404)
    @blp.doc(operationId="DeleteArticleFavorite")
    def delete(self, slug: str) -> dict[str, Any]:
        """Unfavorite an article

        Idempotent: unfavoriting an article you have not favorited is not an error.
        """
        me = current_user()
        writes.unfavorite(db_session(), me.id, slug)
        response = article_response(slug, me.id)
        db_session().commit()
        return response
