from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define

if TYPE_CHECKING:
    from ..models.article import Article


T = TypeVar("T", bound="SingleArticleResponse")


@_attrs_define
class SingleArticleResponse:
    """
    Attributes:
        article (Article):
    """

    article: Article

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
        from ..models.article import Article  # noqa: PLC0415

        d = dict(src_dict)
        article = Article.from_dict(d.pop("article"))

        single_article_response = cls(
            article=article,
        )

        return single_article_response
