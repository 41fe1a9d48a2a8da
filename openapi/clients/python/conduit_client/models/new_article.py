from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..types import UNSET, Unset

T = TypeVar("T", bound="NewArticle")


@_attrs_define
class NewArticle:
    """
    Attributes:
        body (str):  Example: You have to believe.
        description (str):  Example: Ever wonder how?.
        title (str):  Example: How to train your dragon.
        tag_list (list[str] | Unset):  Example: ['dragons', 'training'].
    """

    body: str
    description: str
    title: str
    tag_list: list[str] | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        body = self.body

        description = self.description

        title = self.title

        tag_list: list[str] | Unset = UNSET
        if not isinstance(self.tag_list, Unset):
            tag_list = self.tag_list

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "body": body,
                "description": description,
                "title": title,
            }
        )
        if tag_list is not UNSET:
            field_dict["tagList"] = tag_list

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        body = d.pop("body")

        description = d.pop("description")

        title = d.pop("title")

        tag_list = cast(list[str], d.pop("tagList", UNSET))

        new_article = cls(
            body=body,
            description=description,
            title=title,
            tag_list=tag_list,
        )

        return new_article
