from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="UpdateUser")


@_attrs_define
class UpdateUser:
    """
    Attributes:
        bio (None | str | Unset):
        email (str | Unset):  Example: jake@jake.jake.
        email_notifications (bool | Unset): Send my notifications by email too (when the server does)
        image (None | str | Unset):  Example: https://i.stack.imgur.com/xHWG8.jpg.
        password (str | Unset):  Example: jakejake.
        username (str | Unset):  Example: jake.
    """

    bio: None | str | Unset = UNSET
    email: str | Unset = UNSET
    email_notifications: bool | Unset = UNSET
    image: None | str | Unset = UNSET
    password: str | Unset = UNSET
    username: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        bio: None | str | Unset
        if isinstance(self.bio, Unset):
            bio = UNSET
        else:
            bio = self.bio

        email = self.email

        email_notifications = self.email_notifications

        image: None | str | Unset
        if isinstance(self.image, Unset):
            image = UNSET
        else:
            image = self.image

        password = self.password

        username = self.username

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if bio is not UNSET:
            field_dict["bio"] = bio
        if email is not UNSET:
            field_dict["email"] = email
        if email_notifications is not UNSET:
            field_dict["emailNotifications"] = email_notifications
        if image is not UNSET:
            field_dict["image"] = image
        if password is not UNSET:
            field_dict["password"] = password
        if username is not UNSET:
            field_dict["username"] = username

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)

        def _parse_bio(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        bio = _parse_bio(d.pop("bio", UNSET))

        email = d.pop("email", UNSET)

        email_notifications = d.pop("emailNotifications", UNSET)

        def _parse_image(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        image = _parse_image(d.pop("image", UNSET))

        password = d.pop("password", UNSET)

        username = d.pop("username", UNSET)

        update_user = cls(
            bio=bio,
            email=email,
            email_notifications=email_notifications,
            image=image,
            password=password,
            username=username,
        )

        update_user.additional_properties = d
        return update_user

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
