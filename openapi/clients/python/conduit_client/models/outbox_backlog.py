from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define

T = TypeVar("T", bound="OutboxBacklog")


@_attrs_define
class OutboxBacklog:
    """
    Attributes:
        oldest_age_seconds (float): Age of the oldest of them (0 when none): a stuck relay grows it
        pending (int): Events not yet relayed to the workers
    """

    oldest_age_seconds: float
    pending: int

    def to_dict(self) -> dict[str, Any]:
        oldest_age_seconds = self.oldest_age_seconds

        pending = self.pending

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "oldestAgeSeconds": oldest_age_seconds,
                "pending": pending,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        oldest_age_seconds = d.pop("oldestAgeSeconds")

        pending = d.pop("pending")

        outbox_backlog = cls(
            oldest_age_seconds=oldest_age_seconds,
            pending=pending,
        )

        return outbox_backlog
