from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define

if TYPE_CHECKING:
    from ..models.login_user import LoginUser


T = TypeVar("T", bound="LoginUserRequest")


@_attrs_define
class LoginUserRequest:
    """
    Attributes:
        user (LoginUser):
    """

    user: LoginUser

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
        from ..models.login_user import LoginUser  # noqa: PLC0415

        d = dict(src_dict)
        user = LoginUser.from_dict(d.pop("user"))

        login_user_request = cls(
            user=user,
        )

        return login_user_request
