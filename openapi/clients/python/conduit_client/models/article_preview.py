from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define

if TYPE_CHECKING:
    from ..models.profile import Profile


T = TypeVar("T", bound="ArticlePreview")


@_attrs_define
class ArticlePreview:
    """
    Attributes:
        author (Profile):
        created_at (datetime.datetime):
        description (str):  Example: Ever wonder how?.
        favorited (bool):
        favorites_count (int):
        slug (str):  Example: how-to-train-your-dragon.
        tag_list (list[str]):
        title (str):  Example: How to train your dragon.
        updated_at (datetime.datetime):
    """

    author: Profile
    created_at: datetime.datetime
    description: str
    favorited: bool
    favorites_count: int
    slug: str
    tag_list: list[str]
    title: str
    updated_at: datetime.datetime

    def to_dict(self) -> dict[str, Any]:
        author = self.author.to_dict()

        created_at = self.created_at.isoformat()

        description = self.description

        favorited = self.favorited

        favorites_count = self.favorites_count

        slug = self.slug

        tag_list = self.tag_list

        title = self.title

        updated_at = self.updated_at.isoformat()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "author": author,
                "createdAt": created_at,
                "description": description,
                "favorited": favorited,
                "favoritesCount": favorites_count,
                "slug": slug,
                "tagList": tag_list,
                "title": title,
                "updatedAt": updated_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.profile import Profile  # noqa: PLC0415

        d = dict(src_dict)
        author = Profile.from_dict(d.pop("author"))

        created_at = datetime.datetime.fromisoformat(d.pop("createdAt"))

        description = d.pop("description")

        favorited = d.pop("favorited")

        favorites_count = d.pop("favoritesCount")

        slug = d.pop("slug")

        tag_list = cast(list[str], d.pop("tagList"))

        title = d.pop("title")

        updated_at = datetime.datetime.fromisoformat(d.pop("updatedAt"))

        article_preview = cls(
            author=author,
            created_at=created_at,
            description=description,
            favorited=favorited,
            favorites_count=favorites_count,
            slug=slug,
            tag_list=tag_list,
            title=title,
            updated_at=updated_at,
        )

        return article_preview
