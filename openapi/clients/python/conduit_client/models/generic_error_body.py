from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

T = TypeVar("T", bound="GenericErrorBody")


@_attrs_define
class GenericErrorBody:
    """
    Attributes:
        body (list[str]):  Example: ["can't be empty"].
    """

    body: list[str]

    def to_dict(self) -> dict[str, Any]:
        body = self.body

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "body": body,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        body = cast(list[str], d.pop("body"))

        generic_error_body = cls(
            body=body,
        )

        return generic_error_body
