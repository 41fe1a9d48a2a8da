from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define

from ..models.readiness_read_cache import ReadinessReadCache

if TYPE_CHECKING:
    from ..models.model_status import ModelStatus
    from ..models.outbox_backlog import OutboxBacklog
    from ..models.replica_readiness import ReplicaReadiness


T = TypeVar("T", bound="Readiness")


@_attrs_define
class Readiness:
    """
    Attributes:
        model (ModelStatus):
        outbox (OutboxBacklog):
        read_cache (ReadinessReadCache): The read cache: `off` (no `REDIS_URL`), `ok` or `degraded`
        replicas (list[ReplicaReadiness]): The streaming replicas (`DATABASE_REPLICA_URLS`), as this worker's monitor
            sees them; reads go to the primary while none is `up`
        status (str): `ready`, or `degraded` while the read cache's Redis is unreachable (reads are then served from the
            database: slower, still correct), the model could not load, or a replica is not `up` (its reads go to the
            primary) Example: ready.
    """

    model: ModelStatus
    outbox: OutboxBacklog
    read_cache: ReadinessReadCache
    replicas: list[ReplicaReadiness]
    status: str

    def to_dict(self) -> dict[str, Any]:
        model = self.model.to_dict()

        outbox = self.outbox.to_dict()

        read_cache = self.read_cache.value

        replicas = []
        for replicas_item_data in self.replicas:
            replicas_item = replicas_item_data.to_dict()
            replicas.append(replicas_item)

        status = self.status

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "model": model,
                "outbox": outbox,
                "readCache": read_cache,
                "replicas": replicas,
                "status": status,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.model_status import ModelStatus  # noqa: PLC0415
        from ..models.outbox_backlog import OutboxBacklog  # noqa: PLC0415
        from ..models.replica_readiness import ReplicaReadiness  # noqa: PLC0415

        d = dict(src_dict)
        model = ModelStatus.from_dict(d.pop("model"))

        outbox = OutboxBacklog.from_dict(d.pop("outbox"))

        read_cache = ReadinessReadCache(d.pop("readCache"))

        replicas = []
        _replicas = d.pop("replicas")
        for replicas_item_data in _replicas:
            replicas_item = ReplicaReadiness.from_dict(replicas_item_data)

            replicas.append(replicas_item)

        status = d.pop("status")

        readiness = cls(
            model=model,
            outbox=outbox,
            read_cache=read_cache,
            replicas=replicas,
            status=status,
        )

        return readiness
