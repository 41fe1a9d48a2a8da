"""A create racing another over a new tag, on real PostgreSQL transactions.

A create is one statement on PostgreSQL (db/writes/_articles.py): the article, its new tags,
its links and its outbox event. A tag that a concurrent create adds, and commits while this
statement waits on it, is invisible to the statement's snapshot; the create sees it is short
of links and makes the missing ones in a statement of its own. The interleaving is pinned:
the other create's transaction is held open by hand.
"""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import Engine, text

from tests.db.test_delete_races import (  # noqa: F401  (fixtures, used by name)
    admin,
    app,
    empty_tables,
    in_thread,
    scalar,
    url,
    wait_until_blocked,
)
from tests.factories import body_of, register

pytestmark = pytest.mark.postgres_only


def test_a_tag_committed_while_the_create_waited_is_still_linked(
    app: Flask,  # noqa: F811
    admin: Engine,  # noqa: F811
) -> None:
    client = app.test_client()
    author = register(client)
    holder = admin.connect().execution_options(isolation_level="READ COMMITTED")
    holder.begin()
    holder.execute(text("INSERT INTO tags (name) VALUES ('contested')"))
    article = {"title": "Raced", "description": "d", "body": "b", "tagList": ["contested", "own"]}
    thread, answers = in_thread(
        lambda: client.post("/api/articles", json={"article": article}, headers=author.headers)
    )
    try:
        wait_until_blocked(admin)  # the create's insert of the tag waits on the holder's
    finally:
        holder.commit()
        holder.close()
    thread.join(30)
    assert not thread.is_alive()
    (response,) = answers
    assert response.status_code == 201, response.json
    assert body_of(response)["article"]["tagList"] == ["contested", "own"]
    linked = scalar(
        admin,
        "SELECT string_agg(t.name, ',' ORDER BY t.name) FROM article_tags l"
        " JOIN tags t ON t.id = l.tag_id JOIN articles a ON a.id = l.article_id"
        " WHERE a.slug = 'raced'",
    )
    assert linked == "contested,own"
    listed = body_of(client.get("/api/articles?tag=contested"))
    assert [a["slug"] for a in listed["articles"]] == ["raced"]
