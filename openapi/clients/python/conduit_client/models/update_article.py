from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="UpdateArticle")


@_attrs_define
class UpdateArticle:
    """
    Attributes:
        body (str | Unset):
        description (str | Unset):
        tag_list (list[str] | Unset):  Example: ['dragons', 'training'].
        title (str | Unset):  Example: Did you train your dragon?.
    """

    body: str | Unset = UNSET
    description: str | Unset = UNSET
    tag_list: list[str] | Unset = UNSET
    title: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        body = self.body

        description = self.description

        tag_list: list[str] | Unset = UNSET
        if not isinstance(self.tag_list, Unset):
            tag_list = self.tag_list

        title = self.title

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if body is not UNSET:
            field_dict["body"] = body
        if description is not UNSET:
            field_dict["description"] = description
        if tag_list is not UNSET:
            field_dict["tagList"] = tag_list
        if title is not UNSET:
            field_dict["title"] = title

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        body = d.pop("body", UNSET)

        description = d.pop("description", UNSET)

        tag_list = cast(list[str], d.pop("tagList", UNSET))

        title = d.pop("title", UNSET)

        update_article = cls(
            body=body,
            description=description,
            tag_list=tag_list,
            title=title,
        )

        update_article.additional_properties = d
        return update_article

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
