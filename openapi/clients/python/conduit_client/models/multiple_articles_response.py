from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define

if TYPE_CHECKING:
    from ..models.article_preview import ArticlePreview


T = TypeVar("T", bound="MultipleArticlesResponse")


@_attrs_define
class MultipleArticlesResponse:
    """
    Attributes:
        articles (list[ArticlePreview]):
        articles_count (int):
    """

    articles: list[ArticlePreview]
    articles_count: int

    def to_dict(self) -> dict[str, Any]:
        articles = []
        for articles_item_data in self.articles:
            articles_item = articles_item_data.to_dict()
            articles.append(articles_item)

        articles_count = self.articles_count

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "articles": articles,
                "articlesCount": articles_count,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.article_preview import ArticlePreview  # noqa: PLC0415

        d = dict(src_dict)
        articles = []
        _articles = d.pop("articles")
        for articles_item_data in _articles:
            articles_item = ArticlePreview.from_dict(articles_item_data)

            articles.append(articles_item)

        articles_count = d.pop("articlesCount")

        multiple_articles_response = cls(
            articles=articles,
            articles_count=articles_count,
        )

        return multiple_articles_response
