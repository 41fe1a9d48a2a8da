"""Comments on articles."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from api.context import current_user, db_connection, db_session, viewer_id
from api.errors import fail, found
from api.resources._shared import SLUG, article_id_or_404
from api.seam import Blueprint, link
from db import outbox, queries, writes
from schemas.comments import MultipleCommentsResponse, NewCommentRequest, SingleCommentResponse

blp = Blueprint("Comments", __name__, description="Comments on articles")

COMMENT_ID = {"in": "path", "name": "id", "description": "ID of the comment", "example": 1}


@blp.route("/articles/<slug:slug>/comments", parameters=SLUG)
class Comments(MethodView):
    @blp.cached
    @blp.auth_optional
    @blp.conditional
    @blp.response(200, MultipleCommentsResponse)
    @blp.errors(404)
    @blp.doc(operationId="GetArticleComments")
    def get(self, slug: str) -> dict[str, Any]:
        """Get comments for an article

        Newest first; `following` is computed for the viewer when a token is given.
        """
        return {"comments": found(queries.comments(db_connection(), slug, viewer_id()), "article")}

    @blp.auth_required
    @blp.arguments(NewCommentRequest(), example={"comment": {"body": "His name was my name too."}})
    @blp.idempotent
    @blp.response(201, SingleCommentResponse)
    @blp.links(
        201,
        DeleteComment=link(
            "DeleteArticleComment", slug="$request.path.slug", id="$response.body#/comment/id"
        ),
    )
    @blp.errors(404)
    @blp.doc(operationId="CreateArticleComment")
    def post(self, payload: dict[str, Any], slug: str) -> dict[str, Any]:
        """Create a comment for an article

        Any signed-in user may comment on any article.
        """
        me = current_user()
        session = db_session()
        comment = writes.add_comment(
            session, article_id_or_404(slug), me.id, payload["comment"]["body"]
        )
        outbox.commented(session, comment)
        # Read back inside the write's transaction: after the commit, a concurrent deletion
        # of the article could already have taken the comment with it.
        view = queries.comment(session.connection(), comment.id, me.id)
        session.commit()
        return {"comment": view}


@blp.route(
    "/articles/<slug:slug>/comments/<int(min=1, max=2147483647):id>",
    parameters=[*SLUG, COMMENT_ID],
)
class CommentById(MethodView):
    @blp.auth_required
    @blp.response(204)
    @blp.errors(403, 404)
    @blp.doc(operationId="DeleteArticleComment")
    def delete(self, slug: str, id: int) -> None:
        """Delete a comment for an article

        Only the comment's author may. A comment of another article is a 404.
        """
        session = db_session()
        author_id = found(
            queries.comment_author_id(session.connection(), article_id_or_404(slug), id), "comment"
        )
        if author_id != current_user().id:
            fail(403, "comment", "forbidden")
        writes.delete_comment(session, id)
        session.commit()
