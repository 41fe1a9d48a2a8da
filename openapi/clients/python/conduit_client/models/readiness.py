from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define

if TYPE_CHECKING:
    from ..models.outbox_backlog import OutboxBacklog


T = TypeVar("T", bound="Readiness")


@_attrs_define
class Readiness:
    """
    Attributes:
        outbox (OutboxBacklog):
        status (str):  Example: ok.
    """

    outbox: OutboxBacklog
    status: str

    def to_dict(self) -> dict[str, Any]:
        outbox = self.outbox.to_dict()

        status = self.status

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "outbox": outbox,
                "status": status,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.outbox_backlog import OutboxBacklog  # noqa: PLC0415

        d = dict(src_dict)
        outbox = OutboxBacklog.from_dict(d.pop("outbox"))

        status = d.pop("status")

        readiness = cls(
            outbox=outbox,
            status=status,
        )

        return readiness
