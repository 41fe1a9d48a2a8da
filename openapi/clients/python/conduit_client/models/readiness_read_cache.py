from enum import StrEnum


class ReadinessReadCache(StrEnum):
    DEGRADED = "degraded"
    OFF = "off"
    OK = "ok"

    def __str__(self) -> str:
        return str(self.value)
