from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast

from attrs import define as _attrs_define

from ..models.replica_readiness_state import ReplicaReadinessState

T = TypeVar("T", bound="ReplicaReadiness")


@_attrs_define
class ReplicaReadiness:
    """
    Attributes:
        lag_seconds (float | None): How far behind the primary it is; null when unknown
        name (str):  Example: 10.0.0.2:5432/conduit.
        state (ReplicaReadinessState): `up` (serves reads), `lagging` (beyond `REPLICA_MAX_LAG_SECONDS`), `down` (not
            answering, as this worker last saw) or `promoted` (out of recovery: never read from)
    """

    lag_seconds: float | None
    name: str
    state: ReplicaReadinessState

    def to_dict(self) -> dict[str, Any]:
        lag_seconds: float | None
        lag_seconds = self.lag_seconds

        name = self.name

        state = self.state.value

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "lagSeconds": lag_seconds,
                "name": name,
                "state": state,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)

        def _parse_lag_seconds(data: object) -> float | None:
            if data is None:
                return data
            return cast(float | None, data)

        lag_seconds = _parse_lag_seconds(d.pop("lagSeconds"))

        name = d.pop("name")

        state = ReplicaReadinessState(d.pop("state"))

        replica_readiness = cls(
            lag_seconds=lag_seconds,
            name=name,
            state=state,
        )

        return replica_readiness
