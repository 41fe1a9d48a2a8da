from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define

if TYPE_CHECKING:
    from ..models.comment import Comment


T = TypeVar("T", bound="SingleCommentResponse")


@_attrs_define
class SingleCommentResponse:
    """
    Attributes:
        comment (Comment):
    """

    comment: Comment

    def to_dict(self) -> dict[str, Any]:
        comment = self.comment.to_dict()

        field_dict: dict[str, Any] = {}

        field_dict.update(
            {
                "comment": comment,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.comment import Comment  # noqa: PLC0415

        d = dict(src_dict)
        comment = Comment.from_dict(d.pop("comment"))

        single_comment_response = cls(
            comment=comment,
        )

        return single_comment_response
