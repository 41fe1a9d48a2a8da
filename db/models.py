"""SQLAlchemy 2 typed models; the schema itself is owned by the Alembic migrations."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, validates

from db.usernames import username_key

# Stable constraint names: migrations and the integrity-error mapping rely on them.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# Column sizes double as the request schemas' length limits (marshmallow-sqlalchemy).
USERNAME_MAX = 64
USERNAME_KEY_MAX = 255  # case folding can lengthen a name (ß -> ss)
EMAIL_MAX = 254
TITLE_MAX = 200
SLUG_MAX = 255
TAG_MAX = 64
IDEMPOTENCY_KEY_MAX = 255
NOTIFICATION_TYPE_MAX = 16
DEDUPE_KEY_MAX = 100


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


follows = Table(
    "follows",
    Base.metadata,
    Column("follower_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("followed_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_follows_followed_id", "followed_id"),
)

favorites = Table(
    "favorites",
    Base.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("article_id", ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True),
    Index("ix_favorites_article_id", "article_id"),
)

article_tags = Table(
    "article_tags",
    Base.metadata,
    Column("article_id", ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True),
    # The article's own `created_at`, copied when the link is written (migration 0015): a
    # list by tag reads its page in order from the index, whichever plan runs it.
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_article_tags_tag_id_created_at", "tag_id", "created_at", "article_id"),
)

# Pending changes of tags.articles_count and users.articles_count (migration 0014): the
# PostgreSQL triggers append here instead of locking the counted row; db/counters.py reads
# a count as the row's value plus these and folds them into the rows. No foreign key: a
# delta of a tag or user deleted meanwhile is folded into nothing.
tag_count_deltas = Table(
    "tag_count_deltas",
    Base.metadata,
    Column("tag_id", Integer, nullable=False, index=True),
    Column("delta", Integer, nullable=False),
)
user_count_deltas = Table(
    "user_count_deltas",
    Base.metadata,
    Column("user_id", Integer, nullable=False, index=True),
    Column("delta", Integer, nullable=False),
)


# Slugs an article had before its title changed: old links keep working.
slug_history = Table(
    "slug_history",
    Base.metadata,
    Column("slug", String(SLUG_MAX), primary_key=True),
    Column("article_id", ForeignKey("articles.id", ondelete="CASCADE"), nullable=False, index=True),
    # Prefix searches (`base-%`) for the next free slug, whatever the database's collation.
    Index("ix_slug_history_slug_pattern", "slug", postgresql_ops={"slug": "text_pattern_ops"}),
)


class User(Base):
    __tablename__ = "users"
    # Never reuse the id of a deleted user: a token naming it must not open another account.
    __table_args__ = {"sqlite_autoincrement": True}

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(USERNAME_MAX), unique=True)
    # What makes two names the same (case, look-alikes: db/usernames.py); unique, so the
    # database decides races. Kept in step with `username` by `_key_username`.
    username_key: Mapped[str] = mapped_column(String(USERNAME_KEY_MAX), unique=True)
    email: Mapped[str] = mapped_column(String(EMAIL_MAX), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    # RealWorld 2.0: `null` until set, and setting "" stores `null` too.
    bio: Mapped[str | None] = mapped_column(Text)
    image: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # Notifications by email too, when the server sends any (SMTP_HOST); PUT /user opts out.
    email_notifications: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    # How many articles the user wrote, kept by triggers (migrations 0010, 0014) with the
    # pending deltas of user_count_deltas (db/counters.py), so the feed's and an author's
    # totals read counters instead of counting articles.
    articles_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    @validates("username")
    def _key_username(self, _key: str, username: str) -> str:
        self.username_key = username_key(username)
        return username


class Tag(Base):
    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(TAG_MAX), unique=True)
    # How many articles have the tag, kept by triggers on article_tags (migrations 0010, 0014),
    # cascades included, with the pending deltas of tag_count_deltas (db/counters.py).
    articles_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


Index(
    "ix_tags_in_use",
    Tag.articles_count.desc(),
    Tag.name,
    postgresql_where=Tag.articles_count > 0,
    sqlite_where=Tag.articles_count > 0,
)


# The all-articles total sums these: one index entry per author, not one row per user.
Index(
    "ix_users_authors",
    User.articles_count,
    postgresql_where=User.articles_count > 0,
    sqlite_where=User.articles_count > 0,
)


class Article(Base):
    __tablename__ = "articles"
    __table_args__ = (
        # Global list and per-author list, newest first.
        Index("ix_articles_created_at_id", "created_at", "id"),
        Index("ix_articles_author_id_created_at", "author_id", "created_at"),
        # Prefix searches (`base-%`) for the next free slug, whatever the collation
        # (PostgreSQL; on SQLite a plain index on slug).
        Index("ix_articles_slug_pattern", "slug", postgresql_ops={"slug": "text_pattern_ops"}),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(SLUG_MAX), unique=True)
    title: Mapped[str] = mapped_column(String(TITLE_MAX))
    description: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # How many favorites rows name the article, kept exact by the statements that add and
    # remove them (db/writes/_social.py), so reads never count. A user deleted outside the API takes
    # their favorites with them by cascade, without this update: recount after such a purge.
    favorites_count: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


# Full-text search (migrations 0012 and 0013), kept by the database and read in SQL only
# (db/search.py): PostgreSQL's generated tsvector column and its GIN index, SQLite's FTS5
# table (with its shadow tables) and its triggers. Not models: Alembic's comparison with the
# models leaves them out, and the ORM never reads or writes the column.
FULL_TEXT_COLUMN = "search_document"
FULL_TEXT_INDEX = "ix_articles_search_document"
FULL_TEXT_TABLE = "articles_fts"
UNMODELED = frozenset(
    {FULL_TEXT_COLUMN, FULL_TEXT_INDEX, FULL_TEXT_TABLE}
    | {f"{FULL_TEXT_TABLE}_{part}" for part in ("data", "idx", "docsize", "config", "content")}
)


def modeled(name: str | None, kind: str, _parent: object = None) -> bool:
    """Alembic's `include_name`: whether a schema object is the models' to compare."""
    return name not in UNMODELED


class ArticleEmbedding(Base):
    """An article's sentence embedding by one model version (ml/), for related articles,
    search and tag suggestions; written in the background (jobs/embedding.py), never in a
    request. Stale when the article changed since (`source_updated_at`) or the model did."""

    __tablename__ = "article_embeddings"

    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True
    )
    model_version: Mapped[str] = mapped_column(String(64))
    # float32, little-endian, the model's dimensions (384): 1.5 KB an article
    vector: Mapped[bytes] = mapped_column(LargeBinary)
    source_updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    embedded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class RevokedToken(Base):
    """Tokens revoked by logout, kept until they would have expired anyway."""

    __tablename__ = "revoked_tokens"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class TokenFamily(Base):
    """A session: the refresh tokens descended from one login, rotated one at a time.

    Only `current_jti` may be refreshed; every other refresh token of the family is spent by
    construction, so presenting one is reuse (unless it is `previous_jti` within the grace
    window). Access tokens name their family, so revoking it ends them too.
    """

    __tablename__ = "token_families"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    current_jti: Mapped[str] = mapped_column(String(64))
    previous_jti: Mapped[str | None] = mapped_column(String(64))
    rotated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # When the last token issued in it (refresh or access) lapses: the row may go then.
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Comment(Base):
    __tablename__ = "comments"
    __table_args__ = (Index("ix_comments_article_id_created_at", "article_id", "created_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    body: Mapped[str] = mapped_column(Text)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class IdempotencyKey(Base):
    """An `Idempotency-Key` on a create: a leased claim while it runs, then the answer it got.

    The answer is written in the transaction of the create itself, so a create is stored
    if and only if its answer is (api/pipeline/idempotency.py).
    """

    __tablename__ = "idempotency_keys"

    # Keys are scoped to the user; 0 when there is none (CreateUser). No foreign key: a user
    # id is never reused, and the rows lapse within a day anyway.
    user_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    key: Mapped[str] = mapped_column(String(IDEMPOTENCY_KEY_MAX), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))  # sha256: method, path and body
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    # The request holding the claim, and until when; a lapsed lease without an answer was
    # abandoned (its worker died) and may be taken over by a retry.
    owner: Mapped[str] = mapped_column(String(32))
    leased_until: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # The answer, both NULL while in progress.
    status: Mapped[int | None] = mapped_column(SmallInteger)
    body: Mapped[str | None] = mapped_column(Text)


# SQLite gives autoincrement only to INTEGER PRIMARY KEY; PostgreSQL gets a bigint identity.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class OutboxEvent(Base):
    """Something that notifies, written in the transaction of the write that caused it.

    The relay publishes pending rows (`sent_at` NULL) to the broker and stamps them; the
    consumers turn one into notifications, idempotently (db/notifications.py).
    """

    __tablename__ = "outbox_events"
    __table_args__ = (
        # The relay's scan: only pending rows are indexed, so the index stays small.
        Index(
            "ix_outbox_events_pending",
            "id",
            postgresql_where=Column("sent_at").is_(None),
            sqlite_where=Column("sent_at").is_(None),
        ),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    type: Mapped[str] = mapped_column(String(NOTIFICATION_TYPE_MAX))
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # The one user told (follow, comment, favorite); NULL for an article: its author's followers.
    recipient_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    # No foreign key (migration 0011): an article's deletion must not lock the events a relay
    # holds. It deletes the others; delivery skips an event whose article is gone.
    article_id: Mapped[int | None] = mapped_column(Integer, index=True)
    # What makes a repeat the same event (favoriting, unfavoriting, favoriting again tells the
    # author once); unique, so concurrent repeats emit one row.
    dedupe_key: Mapped[str] = mapped_column(String(DEDUPE_KEY_MAX), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Notification(Base):
    """One user told of one event; (event, recipient) is unique, so redelivery adds nothing."""

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("event_id", "recipient_id", name="uq_notifications_event_id"),
        # A user's list, newest first, and their unread count.
        Index("ix_notifications_recipient_id_id", "recipient_id", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(NOTIFICATION_TYPE_MAX))
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    article_id: Mapped[int | None] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), index=True
    )
    read: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # No foreign key: sent events may be purged while what they caused stays.
    event_id: Mapped[int] = mapped_column(BigInteger)
