from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define

if TYPE_CHECKING:
    from ..models.new_article import NewArticle


T = TypeVar("T", bound="NewArticleRequest")


@_attrs_define
class NewArticleRequest:
    """
    Attributes:
        article (NewArticle):
    """

    article: NewArticle

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
        from ..models.new_article import NewArticle  # noqa: PLC0415

        d = dict(src_dict)
        article = NewArticle.from_dict(d.pop("article"))

        new_article_request = cls(
            article=article,
        )

        return new_article_request
