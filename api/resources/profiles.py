"""Profiles and follows."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from api.context import current_user, db_connection, db_session, viewer_id
from api.errors import fail, found
from api.seam import Blueprint, link
from db import outbox, queries, writes
from schemas.profiles import ProfileResponse

blp = Blueprint("Profile", __name__, description="Profiles and follows")

USERNAME = {"description": "Username of the profile", "example": "jake"}


def _profile_or_404(username: str, viewer_id: int | None) -> dict[str, Any]:
    return {"profile": found(queries.profile(db_connection(), username, viewer_id), "profile")}


@blp.route("/profiles/<username>", parameters=[{"in": "path", "name": "username", **USERNAME}])
class ProfileByUsername(MethodView):
    @blp.auth_optional
    @blp.response(200, ProfileResponse)
    @blp.errors(404)
    @blp.doc(operationId="GetProfileByUsername")
    def get(self, username: str) -> dict[str, Any]:
        """Get a profile

        A user's public profile; `following` is computed for the viewer when a token is given.
        """
        return _profile_or_404(username, viewer_id())


@blp.route(
    "/profiles/<username>/follow", parameters=[{"in": "path", "name": "username", **USERNAME}]
)
class Follow(MethodView):
    @blp.auth_required
    @blp.response(200, ProfileResponse)
    @blp.links(
        200,
        Unfollow=link("UnfollowUserByUsername", username="$response.body#/profile/username"),
        GetProfile=link("GetProfileByUsername", username="$response.body#/profile/username"),
    )
    @blp.errors(403, 404)
    @blp.doc(operationId="FollowUserByUsername")
    def post(self, username: str) -> dict[str, Any]:
        """Follow a user

        Idempotent: following twice is the same as once. Following yourself is a 403.
        """
        me = current_user()
        if username == me.username:  # names match exactly, as the lookup by name does
            fail(403, "profile", "forbidden")
        writes.follow(db_session(), me.id, username)  # nothing when nobody has the name
        response = _profile_or_404(username, me.id)  # read in the write's transaction
        outbox.followed(db_session(), me.id, username)
        db_session().commit()
        return response

    @blp.auth_required
    @blp.response(200, ProfileResponse)
    @blp.errors(404)
    @blp.doc(operationId="UnfollowUserByUsername")
    def delete(self, username: str) -> dict[str, Any]:
        """Unfollow a user

        Idempotent: unfollowing someone you do not follow is not an error.
        """
        me = current_user()
        writes.unfollow(db_session(), me.id, username)
        response = _profile_or_404(username, me.id)
        db_session().commit()
        return response
