from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

T = TypeVar("T", bound="Profile")


@_attrs_define
class Profile:
    """
    Attributes:
        bio (None | str):  Example: I work at statefarm.
        following (bool):
        image (None | str):  Example: https://i.stack.imgur.com/xHWG8.jpg.
        username (str):  Example: jake.
    """

    bio: None | str
    following: bool
    image: None | str
    username: str

    def to_dict(self) -> dict[str, Any]:
        bio: None | str
        bio = self.bio

        following = self.following

        image: None | str
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

        def _parse_bio(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        bio = _parse_bio(d.pop("bio"))

        following = d.pop("following")

        def _parse_image(data: object) -> None | str:
            if data is None:
                return data
            return cast(None | str, data)

        image = _parse_image(d.pop("image"))

        username = d.pop("username")

        profile = cls(
            bio=bio,
            following=following,
            image=image,
            username=username,
        )

        return profile
