from enum import StrEnum


class ReplicaReadinessState(StrEnum):
    DOWN = "down"
    LAGGING = "lagging"
    PROMOTED = "promoted"
    UP = "up"

    def __str__(self) -> str:
        return str(self.value)
