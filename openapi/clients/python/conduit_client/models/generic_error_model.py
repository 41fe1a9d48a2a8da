from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define

if TYPE_CHECKING:
    from ..models.generic_error_model_errors import GenericErrorModelErrors


T = TypeVar("T", bound="GenericErrorModel")


@_attrs_define
class GenericErrorModel:
    """
    Attributes:
        errors (GenericErrorModelErrors):  Example: {'title': ["can't be blank"]}.
    """

    errors: GenericErrorModelErrors

    def to_dict(self) -> dict[str, Any]:
        errors = self.errors.to_dict()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "errors": errors,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.generic_error_model_errors import GenericErrorModelErrors  # noqa: PLC0415

        d = dict(src_dict)
        errors = GenericErrorModelErrors.from_dict(d.pop("errors"))

        generic_error_model = cls(
            errors=errors,
        )

        return generic_error_model
