"""Write operations. Callers commit; constraint violations surface as IntegrityError.

Callers use this package (`from db import writes`); its modules split it by what is written:
users, sessions and logged-out tokens, follows and favorites, articles and comments.
"""

from db.writes._articles import (
    add_comment,
    create_article,
    delete_article,
    delete_comment,
    set_tags,
    update_article,
)
from db.writes._inserts import insert_ignore
from db.writes._sessions import (
    purge_families,
    purge_revoked_tokens,
    revoke_families,
    revoke_family,
    revoke_token,
    rotate_family,
    start_family,
)
from db.writes._social import favorite, follow, unfavorite, unfollow
from db.writes._users import create_user, update_user

__all__ = [
    "add_comment",
    "create_article",
    "create_user",
    "delete_article",
    "delete_comment",
    "favorite",
    "follow",
    "insert_ignore",
    "purge_families",
    "purge_revoked_tokens",
    "revoke_families",
    "revoke_family",
    "revoke_token",
    "rotate_family",
    "set_tags",
    "start_family",
    "unfavorite",
    "unfollow",
    "update_article",
    "update_user",
]
