from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

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
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        body = self.body

        description = self.description

        title = self.title

        tag_list: list[str] | Unset = UNSET
        if not isinstance(self.tag_list, Unset):
            tag_list = self.tag_list

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
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

        new_article.additional_properties = d
        return new_article

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
