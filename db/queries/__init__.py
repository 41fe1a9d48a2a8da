"""Read queries, each a fixed number of SQL statements whatever the page size.

Callers use this package (`from db import queries`); its modules split it by what is read:
profiles, the users behind tokens, one article, pages of articles, comments, tags, and the
schema's version. Statements are built once (per shape, memoized) with bound parameters.
"""

from db.queries._articles import (
    ARTICLE_ID_BY_SLUG,
    ArticleRef,
    ArticleView,
    article,
    article_id,
    article_to_change,
    current_slug,
)
from db.queries._comments import CommentView, comment, comment_author_id, comments
from db.queries._lists import ArticleFilters, ListShape, articles, articles_by_ids, feed
from db.queries._profiles import ProfileView, profile
from db.queries._schema import schema_version
from db.queries._tags import tags
from db.queries._users import (
    PRINCIPAL_COLUMNS,
    USER_ID_BY_NAME,
    Principal,
    Taken,
    family_and_user,
    principal,
    taken,
    token_user,
    user_by_email,
)

__all__ = [
    "ARTICLE_ID_BY_SLUG",
    "PRINCIPAL_COLUMNS",
    "USER_ID_BY_NAME",
    "ArticleFilters",
    "ArticleRef",
    "ArticleView",
    "CommentView",
    "ListShape",
    "Principal",
    "ProfileView",
    "Taken",
    "article",
    "article_id",
    "article_to_change",
    "articles",
    "articles_by_ids",
    "comment",
    "comment_author_id",
    "comments",
    "current_slug",
    "family_and_user",
    "feed",
    "principal",
    "profile",
    "schema_version",
    "tags",
    "taken",
    "token_user",
    "user_by_email",
]
