from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define

from ..models.notification_type import NotificationType

if TYPE_CHECKING:
    from ..models.article_summary import ArticleSummary
    from ..models.profile import Profile


T = TypeVar("T", bound="Notification")


@_attrs_define
class Notification:
    """
    Attributes:
        actor (Profile):
        article (ArticleSummary | None): The article concerned; null for a follow
        created_at (datetime.datetime):
        id (int):  Example: 42.
        read (bool):
        type_ (NotificationType):  Example: follow.
    """

    actor: Profile
    article: ArticleSummary | None
    created_at: datetime.datetime
    id: int
    read: bool
    type_: NotificationType

    def to_dict(self) -> dict[str, Any]:
        from ..models.article_summary import ArticleSummary  # noqa: PLC0415

        actor = self.actor.to_dict()

        article: dict[str, Any] | None
        if isinstance(self.article, ArticleSummary):
            article = self.article.to_dict()
        else:
            article = self.article

        created_at = self.created_at.isoformat()

        id = self.id

        read = self.read

        type_ = self.type_.value

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "actor": actor,
                "article": article,
                "createdAt": created_at,
                "id": id,
                "read": read,
                "type": type_,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.article_summary import ArticleSummary  # noqa: PLC0415
        from ..models.profile import Profile  # noqa: PLC0415

        d = dict(src_dict)
        actor = Profile.from_dict(d.pop("actor"))

        def _parse_article(data: object) -> ArticleSummary | None:
            if data is None:
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                article_type_0 = ArticleSummary.from_dict(data)

                return article_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(ArticleSummary | None, data)

        article = _parse_article(d.pop("article"))

        created_at = datetime.datetime.fromisoformat(d.pop("createdAt"))

        id = d.pop("id")

        read = d.pop("read")

        type_ = NotificationType(d.pop("type"))

        notification = cls(
            actor=actor,
            article=article,
            created_at=created_at,
            id=id,
            read=read,
            type_=type_,
        )

        return notification
