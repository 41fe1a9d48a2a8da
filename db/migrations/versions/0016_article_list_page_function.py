"""article_list_page(): the global and the by-tag list, planned once per server connection

Behind PgBouncer in transaction pooling psycopg prepares nothing (PgBouncer 1.18 does not
track prepared statements), so each list statement was parsed and planned on every run: for
the anonymous list on the bench's data, 0.4 ms of the server's CPU before a 0.2 ms execution
(`pgbench -M extended` against `-M prepared`: 0.64 ms against 0.23 ms a page). A PL/pgSQL
function keeps its statements' plans for the life of the server connection that ran it,
whichever client PgBouncer lent that connection to, so the list runs through this function
there, and its call is a one-row function scan that is cheap to plan.

Each RETURN QUERY is the statement `db/queries/_lists.py::_page_statement` builds for its
shape (the global list, a lone tag; anonymous or signed in), with the same columns, so the
rows are the same and PostgreSQL chooses between a custom and a generic plan exactly as it
does for the prepared statement. `tests/db/test_list_function.py` holds the two to the same
pages. PostgreSQL only: SQLite plans nothing ahead and has no functions.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 23:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Each branch is one shape's statement; the tags are joined by the unit separator, chr(31)
# (db/queries/_articles.py::TAG_SEPARATOR). What the viewer sees, and the page and total of
# the global list or of a lone tag, are the parts that differ: constants, never input.
_TAG_ID = "(SELECT tags.id FROM tags WHERE tags.name = tag_name)"
_VIEWER = {
    False: ("false", "false"),
    True: (
        "EXISTS (SELECT * FROM favorites\n"
        "        WHERE favorites.article_id = articles.id AND favorites.user_id = viewer_id)",
        "EXISTS (SELECT * FROM follows\n"
        "        WHERE follows.follower_id = viewer_id AND follows.followed_id = users.id)",
    ),
}
_LIST = {
    False: (
        "(SELECT articles.id AS id FROM articles\n"
        "      ORDER BY articles.created_at DESC, articles.id DESC",
        "(SELECT coalesce(sum(users.articles_count), 0)\n"
        "        + (SELECT coalesce(sum(user_count_deltas.delta), 0) FROM user_count_deltas)\n"
        "        FROM users WHERE users.articles_count > 0)",
    ),
    True: (
        f"""(SELECT article_tags.article_id AS id FROM article_tags
      WHERE article_tags.tag_id = {_TAG_ID}
      ORDER BY article_tags.created_at DESC, article_tags.article_id DESC""",  # noqa: S608
        f"(SELECT count(*) FROM article_tags WHERE article_tags.tag_id = {_TAG_ID})",  # noqa: S608
    ),
}


def _page(viewer: bool, tag: bool) -> str:
    favorited, following = _VIEWER[viewer]
    page, total = _LIST[tag]
    return f"""RETURN QUERY SELECT articles.id, articles.slug, articles.title, articles.description, false,
      (SELECT string_agg(tags.name, chr(31)) FROM article_tags
        JOIN tags ON tags.id = article_tags.tag_id WHERE article_tags.article_id = articles.id),
      articles.created_at, articles.updated_at, {favorited}, articles.favorites_count,
      users.username, users.bio, users.image, {following},
      {total}
    FROM articles JOIN users ON users.id = articles.author_id
    JOIN {page}
      LIMIT page_limit OFFSET page_offset) AS page ON page.id = articles.id
    ORDER BY articles.created_at DESC, articles.id DESC;"""  # noqa: S608 (constants only)


CREATE = f"""
CREATE FUNCTION article_list_page(
  viewer_id integer, page_limit integer, page_offset integer, tag_name varchar
) RETURNS TABLE (
  id integer, slug varchar, title varchar, description text, body boolean, tag_names text,
  created_at timestamptz, updated_at timestamptz, favorited boolean, favorites_count integer,
  username varchar, bio text, image text, following boolean, total bigint
) LANGUAGE plpgsql STABLE AS $$
#variable_conflict use_column
BEGIN
  IF tag_name IS NULL AND viewer_id IS NULL THEN
    {_page(viewer=False, tag=False)}
  ELSIF tag_name IS NULL THEN
    {_page(viewer=True, tag=False)}
  ELSIF viewer_id IS NULL THEN
    {_page(viewer=False, tag=True)}
  ELSE
    {_page(viewer=True, tag=True)}
  END IF;
END
$$
"""


def upgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute(CREATE)


def downgrade() -> None:
    if op.get_context().dialect.name == "postgresql":
        op.execute("DROP FUNCTION article_list_page(integer, integer, integer, varchar)")
