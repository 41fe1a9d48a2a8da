from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="Profile")


@_attrs_define
class Profile:
    """
    Attributes:
        bio (str):  Example: I work at statefarm.
        following (bool):
        image (str):  Example: https://i.stack.imgur.com/xHWG8.jpg.
        username (str):  Example: jake.
    """

    bio: str
    following: bool
    image: str
    username: str

    def to_dict(self) -> dict[str, Any]:
        bio = self.bio

        following = self.following

        image = self.image

        username = self.username

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "bio": bio,
                "following": following,
                "image": image,
                "username": username,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        bio = d.pop("bio")

        following = d.pop("following")

        image = d.pop("image")

        username = d.pop("username")

        profile = cls(
            bio=bio,
            following=following,
            image=image,
            username=username,
        )

        return profile
