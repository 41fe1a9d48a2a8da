"""Write operations. Callers commit; constraint violations surface as IntegrityError.

Callers use this package (`from db import writes`); its modules split it by what is written:
users, sessions and logged-out tokens, follows and favorites, articles and comments.

The lock order (PostgreSQL), which every statement touching an article or what hangs off it
follows, so that no two of them can deadlock: **the article's row first**, then its
dependants (comments, favorites, tag links, slug history, notifications, events). The
article counters of tags and users take no lock in a write: their triggers append deltas
(migration 0014), which only the relay's fold (db/counters.py), one at a time, moves into
the rows.
- Deleting an article locks its row (the DELETE itself), then the cascades take its
  dependants; its outbox events have no foreign key (migration 0011): they are deleted
  after it, skipping those a relay holds.
- An edit locks the row first (`queries.article_to_change(..., lock=True)`, FOR NO KEY
  UPDATE), then writes slug history and tag links.
- A favorite, a comment, a tag link, an event or a notification takes the article's KEY SHARE
  lock (its foreign key check, or `db/notifications.py`'s explicit one) before any row of its
  own: one waiting for a deletion finds the article gone and answers 404 (api/errors.py).
- The relay holds outbox rows while it delivers, and takes article locks under them; that is
  safe only because no transaction that holds an article's lock waits for an outbox row a
  relay holds (the deletion skips them).
What still collides (two edits of one article's tags, say) is a transient error, and the
unit of work runs again (db/retry.py).
"""

from db.writes._articles import (
    add_comment,
    create_article,
    delete_article,
    delete_comment,
    set_tags,
    update_article,
)
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
