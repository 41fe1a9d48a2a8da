from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

from ..models.model_status_status import ModelStatusStatus
from ..types import UNSET, Unset

T = TypeVar("T", bound="ModelStatus")


@_attrs_define
class ModelStatus:
    """
    Attributes:
        name (str):  Example: all-MiniLM-L6-v2.
        status (ModelStatusStatus): `ok` (loaded in this worker), `idle` (loads on first use) or `degraded` (could not
            load: the model's operations answer 503, all else works)
        version (str | Unset): A hash of the weights, once loaded
    """

    name: str
    status: ModelStatusStatus
    version: str | Unset = UNSET

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        status = self.status.value

        version = self.version

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "name": name,
                "status": status,
            }
        )
        if version is not UNSET:
            field_dict["version"] = version

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        name = d.pop("name")

        status = ModelStatusStatus(d.pop("status"))

        version = d.pop("version", UNSET)

        model_status = cls(
            name=name,
            status=status,
            version=version,
        )

        return model_status
