"""Slugs from titles, allocated by the database in the statement that stores them.

A slug is free when no other article has it now or had it before a rename (slug history):
a link to an article must never change owner. A taken slug gets the next numeric suffix.
"""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy import (
    ColumnElement,
    Integer,
    ScalarSelect,
    String,
    bindparam,
    case,
    cast,
    func,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import InstrumentedAttribute

from db.models import SLUG_MAX, Article, slug_history

BASE = bindparam("base", type_=String)
OWNER = bindparam("owner_id", type_=Integer)  # the article being renamed; 0 for a new one
# Suffixes worth counting: longer ones are left alone (and never reached by counting up),
# so the next suffix always fits an integer on either backend.
SUFFIX = "^[0-9]{1,9}$"


def slugify(title: str) -> str:
    ascii_title = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_title.lower()).strip("-")
    slug = slug[: SLUG_MAX - 16].rstrip("-") or "article"
    # `/articles/feed` is a route of its own.
    return "feed-article" if slug == "feed" else slug


def _near(slug: ColumnElement[str] | InstrumentedAttribute[str]) -> ColumnElement[bool]:
    # A slug is [a-z0-9-]+ (slugify), so the base holds no LIKE wildcard; the prefix is
    # answered by the text_pattern_ops indexes of migration 0008 on PostgreSQL.
    return or_(slug == BASE, slug.like(BASE + "-%"))


def _free_slug() -> ScalarSelect[str]:
    taken = union_all(
        select(Article.slug.label("slug")).where(_near(Article.slug), Article.id != OWNER),
        select(slug_history.c.slug.label("slug")).where(
            _near(slug_history.c.slug), slug_history.c.article_id != OWNER
        ),
    ).subquery("taken")
    suffix = func.substr(taken.c.slug, func.length(BASE) + 2)
    # The plain slug counts as suffix 1, so the first duplicate is `base-2`.
    highest = func.max(
        case(
            (taken.c.slug == BASE, 1),
            (suffix.regexp_match(SUFFIX), cast(suffix, Integer)),
        )
    )
    plain_taken = func.max(case((taken.c.slug == BASE, 1), else_=0)) == 1
    # A suffix only when the plain slug is taken: another title's `base-2` must not push it.
    return (
        select(case((plain_taken, BASE + "-" + cast(highest + 1, String)), else_=BASE))
        .select_from(taken)
        .scalar_subquery()
    )


# The free slug for `base`, as an expression to store in the same statement that takes it.
FREE_SLUG = _free_slug()
