from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="NewUser")


@_attrs_define
class NewUser:
    """
    Attributes:
        email (str):  Example: jake@jake.jake.
        password (str):  Example: jakejake.
        username (str):  Example: jake.
    """

    email: str
    password: str
    username: str

    def to_dict(self) -> dict[str, Any]:
        email = self.email

        password = self.password

        username = self.username

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "email": email,
                "password": password,
                "username": username,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        email = d.pop("email")

        password = d.pop("password")

        username = d.pop("username")

        new_user = cls(
            email=email,
            password=password,
            username=username,
        )

        return new_user
