from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define

if TYPE_CHECKING:
    from ..models.new_user import NewUser


T = TypeVar("T", bound="NewUserRequest")


@_attrs_define
class NewUserRequest:
    """
    Attributes:
        user (NewUser):
    """

    user: NewUser

    def to_dict(self) -> dict[str, Any]:
        user = self.user.to_dict()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "user": user,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.new_user import NewUser  # noqa: PLC0415

        d = dict(src_dict)
        user = NewUser.from_dict(d.pop("user"))

        new_user_request = cls(
            user=user,
        )

        return new_user_request
