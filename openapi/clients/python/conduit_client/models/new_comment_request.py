from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define

if TYPE_CHECKING:
    from ..models.new_comment import NewComment


T = TypeVar("T", bound="NewCommentRequest")


@_attrs_define
class NewCommentRequest:
    """
    Attributes:
        comment (NewComment):
    """

    comment: NewComment

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
        from ..models.new_comment import NewComment  # noqa: PLC0415

        d = dict(src_dict)
        comment = NewComment.from_dict(d.pop("comment"))

        new_comment_request = cls(
            comment=comment,
        )

        return new_comment_request
