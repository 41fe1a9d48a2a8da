from enum import StrEnum


class NotificationType(StrEnum):
    ARTICLE = "article"
    COMMENT = "comment"
    FAVORITE = "favorite"
    FOLLOW = "follow"

    def __str__(self) -> str:
        return str(self.value)
