"""Articles' embeddings: which are stale, storing new ones, and reading them for the index.

An embedding is stale when its article has none for the current model version, or the
article changed since it was made (`source_updated_at` is the `updated_at` it was made from:
an edit during the embedding leaves it stale, never wrongly fresh). Every write here follows
the lock order of db/writes/__init__.py: the article's KEY SHARE lock first, so an article
deleted meanwhile is skipped, never a foreign key violation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    Connection,
    Insert,
    Integer,
    LargeBinary,
    String,
    bindparam,
    exists,
    func,
    or_,
    select,
    true,
)
from sqlalchemy.orm import Session

from db import counters
from db.inserts import dialect_insert
from db.models import Article, ArticleEmbedding, Tag, article_tags, utcnow

_VERSION = bindparam("version", type_=String)
_EMBEDDINGS = ArticleEmbedding.__table__


@dataclass(frozen=True, slots=True)
class Source:
    """What an article's embedding is made of, and the edit it was read at."""

    id: int
    title: str
    description: str
    body: str
    updated_at: datetime


STALE = (
    select(Article.id, Article.title, Article.description, Article.body, Article.updated_at)
    .outerjoin(
        ArticleEmbedding,
        (ArticleEmbedding.article_id == Article.id) & (ArticleEmbedding.model_version == _VERSION),
    )
    .where(
        or_(
            ArticleEmbedding.article_id.is_(None),
            ArticleEmbedding.source_updated_at != Article.updated_at,
        )
    )
    .order_by(Article.id)
    .limit(bindparam("limit", type_=Integer))
)


# One embedding pass at a time across every process (PostgreSQL): without it each web
# worker's relay, or each Celery task, would embed the same stale articles at once.
_PASS_LOCK = 0x636F6E64  # an arbitrary application-wide key ("cond")
_CLAIM = select(func.pg_try_advisory_xact_lock(_PASS_LOCK))


def claim_pass(session: Session) -> bool:
    """Whether this transaction may embed now; False while another process's pass runs (its
    transaction holds the lock until it commits, and it or the next pass takes what is left)."""
    if session.get_bind().dialect.name != "postgresql":
        return True  # one writer at a time anyway
    return bool(session.execute(_CLAIM).scalar())


def count_stale(session: Session, version: str) -> int:
    """How many articles `stale` would give, without reading their text."""
    ids = STALE.with_only_columns(Article.id).limit(None).subquery()
    return int(
        session.execute(select(func.count()).select_from(ids), {"version": version}).scalar_one()
    )


def stale(session: Session, version: str, limit: int) -> list[Source]:
    """Up to `limit` articles whose embedding for `version` is missing or out of date."""
    rows = session.execute(STALE, {"version": version, "limit": limit})
    return [Source(r.id, r.title, r.description, r.body, r.updated_at) for r in rows]


@cache
def _store(dialect: str) -> Insert:
    article = bindparam("article_id", type_=Integer)
    live = exists(
        select(Article.id).where(Article.id == article).with_for_update(read=True, key_share=True)
    )
    insert = dialect_insert(dialect, _EMBEDDINGS).from_select(
        ["article_id", "model_version", "vector", "source_updated_at", "embedded_at"],
        select(
            article,
            _VERSION,
            bindparam("vector", type_=LargeBinary),
            bindparam("source_updated_at"),
            bindparam("embedded_at"),
        ).where(live, true()),
    )
    return insert.on_conflict_do_update(
        index_elements=["article_id"],
        set_={
            "model_version": insert.excluded.model_version,
            "vector": insert.excluded.vector,
            "source_updated_at": insert.excluded.source_updated_at,
            "embedded_at": insert.excluded.embedded_at,
        },
    )


def store(
    session: Session, version: str, sources: Sequence[Source], vectors: Sequence[bytes]
) -> None:
    """Store each source's vector (float32 bytes) for `version`; a vanished article is skipped."""
    now = utcnow()
    rows = [
        {
            "article_id": source.id,
            "version": version,
            "vector": vector,
            "source_updated_at": source.updated_at,
            "embedded_at": now,
        }
        for source, vector in zip(sources, vectors, strict=True)
    ]
    if rows:  # one executemany, not a round trip per article
        session.execute(_store(session.get_bind().dialect.name), rows)


STATE = select(
    func.count(),
    func.max(ArticleEmbedding.embedded_at),
    func.coalesce(func.sum(ArticleEmbedding.article_id), 0),
).where(ArticleEmbedding.model_version == _VERSION)


@dataclass(frozen=True, slots=True)
class State:
    """A cheap change marker of the embeddings of one version: how many, when the newest was
    made, and the sum of their article ids (an article deleted and another embedded between
    two looks leave the count alone, not the sum)."""

    count: int
    newest: Any
    id_sum: int


def state(connection: Connection, version: str) -> State:
    count, newest, id_sum = connection.execute(STATE, {"version": version}).one()
    return State(int(count), newest, int(id_sum))


ALL = select(ArticleEmbedding.article_id, ArticleEmbedding.vector).where(
    ArticleEmbedding.model_version == _VERSION
)


SINCE = ALL.where(ArticleEmbedding.embedded_at >= bindparam("since"))


def vectors(
    connection: Connection, version: str, since: datetime | None = None
) -> list[tuple[int, bytes]]:
    """Every article's vector of `version`, as stored; with `since`, those embedded then
    or later."""
    if since is None:
        rows = connection.execute(ALL, {"version": version})
    else:
        rows = connection.execute(SINCE, {"version": version, "since": since})
    return [(r[0], bytes(r[1])) for r in rows]


TAGS_OF = (
    select(article_tags.c.article_id, Tag.name)
    .join(Tag, Tag.id == article_tags.c.tag_id)
    .where(article_tags.c.article_id.in_(bindparam("ids", expanding=True)))
)


def tags_of(connection: Connection, ids: Sequence[int]) -> dict[int, list[str]]:
    """The tags of each of the articles `ids`."""
    found: dict[int, list[str]] = {i: [] for i in ids}
    if ids:
        for article_id, name in connection.execute(TAGS_OF, {"ids": list(ids)}):
            found[article_id].append(name)
    return found


VOCABULARY = (
    select(Tag.name).select_from(counters.tags_with_counts()).where(counters.TAG_ARTICLES > 0)
)


def vocabulary(connection: Connection) -> list[str]:
    """The site's tags in use: the only ones suggested."""
    return list(connection.execute(VOCABULARY).scalars())
