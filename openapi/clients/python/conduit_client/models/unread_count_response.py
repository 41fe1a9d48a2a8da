from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="UnreadCountResponse")


@_attrs_define
class UnreadCountResponse:
    """
    Attributes:
        unread_count (int):
    """

    unread_count: int

    def to_dict(self) -> dict[str, Any]:
        unread_count = self.unread_count

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "unreadCount": unread_count,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        unread_count = d.pop("unreadCount")

        unread_count_response = cls(
            unread_count=unread_count,
        )

        return unread_count_response
