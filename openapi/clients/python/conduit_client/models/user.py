from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="User")


@_attrs_define
class User:
    """
    Attributes:
        bio (None | str):
        email (str):  Example: jake@jake.jake.
        email_notifications (bool): Whether notifications also come by email (an extension; set it with
            `UpdateCurrentUser`) Example: True.
        image (None | str):
        token (str):  Example: jwt.token.here.
        username (str):  Example: jake.
        refresh_token (str | Unset): Beside a new session's `token` (login, registration, refresh): exchange it at
            `RefreshToken` for a new pair; each is good for one exchange Example: jwt.refresh.token.here.
    """

    bio: None | str
    email: str
    email_notifications: bool
    image: None | str
    token: str
    username: str
    refresh_token: str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        bio: None | str
        bio = self.bio

        email = self.email

        email_notifications = self.email_notifications

        image: None | str
        image = self.image

        token = self.token

        username = self.username

        refresh_token = self.refresh_token

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "bio": bio,
                "email": email,
                "emailNotifications": email_notifications,
                "image": image,
                "token": token,
                "username": username,
            }
        )
        if refresh_token is not UNSET:
            field_dict["refreshToken"] = refresh_token

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)

        def _parse_bio(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        bio = _parse_bio(d.pop("bio"))

        email = d.pop("email")

        email_notifications = d.pop("emailNotifications")

        def _parse_image(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        image = _parse_image(d.pop("image"))

        token = d.pop("token")

        username = d.pop("username")

        refresh_token = d.pop("refreshToken", UNSET)

        user = cls(
            bio=bio,
            email=email,
            email_notifications=email_notifications,
            image=image,
            token=token,
            username=username,
            refresh_token=refresh_token,
        )

        return user
