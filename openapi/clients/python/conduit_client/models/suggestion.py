from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="Suggestion")


@_attrs_define
class Suggestion:
    """
    Attributes:
        score (float):  Example: 0.83.
        tag (str):  Example: dragons.
    """

    score: float
    tag: str

    def to_dict(self) -> dict[str, Any]:
        score = self.score

        tag = self.tag

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "score": score,
                "tag": tag,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        score = d.pop("score")

        tag = d.pop("tag")

        suggestion = cls(
            score=score,
            tag=tag,
        )

        return suggestion
