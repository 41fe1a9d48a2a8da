from enum import StrEnum


class ModelStatusStatus(StrEnum):
    DEGRADED = "degraded"
    IDLE = "idle"
    OK = "ok"

    def __str__(self) -> str:
        return str(self.value)
