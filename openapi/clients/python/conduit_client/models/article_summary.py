from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="ArticleSummary")


@_attrs_define
class ArticleSummary:
    """
    Attributes:
        slug (str):  Example: how-to-train-your-dragon.
        title (str):  Example: How to train your dragon.
    """

    slug: str
    title: str

    def to_dict(self) -> dict[str, Any]:
        slug = self.slug

        title = self.title

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "slug": slug,
                "title": title,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        slug = d.pop("slug")

        title = d.pop("title")

        article_summary = cls(
            slug=slug,
            title=title,
        )

        return article_summary
