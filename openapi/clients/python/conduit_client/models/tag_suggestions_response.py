from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define

if TYPE_CHECKING:
    from ..models.model_info import ModelInfo
    from ..models.suggestion import Suggestion


T = TypeVar("T", bound="TagSuggestionsResponse")


@_attrs_define
class TagSuggestionsResponse:
    """
    Attributes:
        model (ModelInfo):
        suggestions (list[Suggestion]):
    """

    model: ModelInfo
    suggestions: list[Suggestion]

    def to_dict(self) -> dict[str, Any]:
        model = self.model.to_dict()

        suggestions = []
        for suggestions_item_data in self.suggestions:
            suggestions_item = suggestions_item_data.to_dict()
            suggestions.append(suggestions_item)

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "model": model,
                "suggestions": suggestions,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.model_info import ModelInfo  # noqa: PLC0415
        from ..models.suggestion import Suggestion  # noqa: PLC0415

        d = dict(src_dict)
        model = ModelInfo.from_dict(d.pop("model"))

        suggestions = []
        _suggestions = d.pop("suggestions")
        for suggestions_item_data in _suggestions:
            suggestions_item = Suggestion.from_dict(suggestions_item_data)

            suggestions.append(suggestions_item)

        tag_suggestions_response = cls(
            model=model,
            suggestions=suggestions,
        )

        return tag_suggestions_response
