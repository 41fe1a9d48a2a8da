from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define

if TYPE_CHECKING:
    from ..models.update_article import UpdateArticle


T = TypeVar("T", bound="UpdateArticleRequest")


@_attrs_define
class UpdateArticleRequest:
    """
    Attributes:
        article (UpdateArticle):
    """

    article: UpdateArticle

    def to_dict(self) -> dict[str, Any]:
        article = self.article.to_dict()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "article": article,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.update_article import UpdateArticle  # noqa: PLC0415

        d = dict(src_dict)
        article = UpdateArticle.from_dict(d.pop("article"))

        update_article_request = cls(
            article=article,
        )

        return update_article_request
