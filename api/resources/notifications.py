"""A user's notifications (beyond the RealWorld spec): listed, counted, marked read."""

from __future__ import annotations

from typing import Any

from flask.views import MethodView

from api.context import current_user, db_session
from api.seam import Blueprint
from db import notifications
from schemas.notifications import (
    MarkRead,
    MultipleNotificationsResponse,
    NotificationsQuery,
    UnreadCountResponse,
)

blp = Blueprint(
    "Notifications",
    __name__,
    description="Follows, comments, favorites and new articles you are told of"
    " (beyond the RealWorld spec)",
)


@blp.route("/notifications")
class Notifications(MethodView):
    @blp.auth_required
    @blp.arguments(NotificationsQuery(), location="query")
    @blp.response(200, MultipleNotificationsResponse)
    @blp.doc(operationId="GetNotifications")
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Get your notifications

        Newest first: someone followed you, commented on or favorited your article, or an
        author you follow published. Page with `limit` (1-100, default 20) and `offset`;
        `notificationsCount` counts them all, `unreadCount` those not marked read. They
        arrive moments after the write that caused them (they are delivered in the
        background).
        """
        me = current_user()
        session = db_session()
        total, unread = notifications.counts(session, me.id)
        page = notifications.page(session, me.id, args["limit"], args["offset"])
        return {"notifications": page, "notifications_count": total, "unread_count": unread}


@blp.route("/notifications/read")
class MarkNotificationsRead(MethodView):
    @blp.auth_required
    @blp.arguments(MarkRead(), required=False, example={"upTo": 42})
    @blp.response(200, UnreadCountResponse)
    @blp.doc(operationId="MarkNotificationsRead")
    def post(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Mark notifications read

        All of them, or with `{"upTo": id}` those up to the newest one you have seen (so
        one that arrived since stays unread). Idempotent. Answers how many stay unread.
        """
        me = current_user()
        session = db_session()
        notifications.mark_read(session, me.id, payload.get("up_to"))
        _total, unread = notifications.counts(session, me.id)
        session.commit()
        return {"unread_count": unread}
