from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define

if TYPE_CHECKING:
    from ..models.notification import Notification


T = TypeVar("T", bound="MultipleNotificationsResponse")


@_attrs_define
class MultipleNotificationsResponse:
    """
    Attributes:
        notifications (list[Notification]):
        notifications_count (int):
        unread_count (int):
    """

    notifications: list[Notification]
    notifications_count: int
    unread_count: int

    def to_dict(self) -> dict[str, Any]:
        notifications = []
        for notifications_item_data in self.notifications:
            notifications_item = notifications_item_data.to_dict()
            notifications.append(notifications_item)

        notifications_count = self.notifications_count

        unread_count = self.unread_count

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "notifications": notifications,
                "notificationsCount": notifications_count,
                "unreadCount": unread_count,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.notification import Notification  # noqa: PLC0415

        d = dict(src_dict)
        notifications = []
        _notifications = d.pop("notifications")
        for notifications_item_data in _notifications:
            notifications_item = Notification.from_dict(notifications_item_data)

            notifications.append(notifications_item)

        notifications_count = d.pop("notificationsCount")

        unread_count = d.pop("unreadCount")

        multiple_notifications_response = cls(
            notifications=notifications,
            notifications_count=notifications_count,
            unread_count=unread_count,
        )

        return multiple_notifications_response
