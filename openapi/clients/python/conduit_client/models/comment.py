from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define

if TYPE_CHECKING:
    from ..models.profile import Profile


T = TypeVar("T", bound="Comment")


@_attrs_define
class Comment:
    """
    Attributes:
        author (Profile):
        body (str):  Example: It takes a Jacobian.
        created_at (datetime.datetime):
        id (int):  Example: 1.
        updated_at (datetime.datetime):
    """

    author: Profile
    body: str
    created_at: datetime.datetime
    id: int
    updated_at: datetime.datetime

    def to_dict(self) -> dict[str, Any]:
        author = self.author.to_dict()

        body = self.body

        created_at = self.created_at.isoformat()

        id = self.id

        updated_at = self.updated_at.isoformat()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "author": author,
                "body": body,
                "createdAt": created_at,
                "id": id,
                "updatedAt": updated_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.profile import Profile  # noqa: PLC0415

        d = dict(src_dict)
        author = Profile.from_dict(d.pop("author"))

        body = d.pop("body")

        created_at = datetime.datetime.fromisoformat(d.pop("createdAt"))

        id = d.pop("id")

        updated_at = datetime.datetime.fromisoformat(d.pop("updatedAt"))

        comment = cls(
            author=author,
            body=body,
            created_at=created_at,
            id=id,
            updated_at=updated_at,
        )

        return comment
