"""Articles and the personal feed."""

from __future__ import annotations

import logging
from typing import Any

from flask.views import MethodView

from api.context import current_user, db_connection, db_session, model, viewer_id
from api.errors import fail, found
from api.resources._shared import SLUG, article_id_or_404, article_response
from api.seam import Blueprint, link
from db import queries, search, writes
from ml.fusion import reciprocal_rank_fusion
from ml.model import ModelError
from schemas.articles import (
    ArticlesQuery,
    MultipleArticlesResponse,
    NewArticleRequest,
    Page,
    SingleArticleResponse,
    UpdateArticleRequest,
)
from schemas.ml import RELATED_MAX, RelatedQuery

ARTICLE_SLUG = "$response.body#/article/slug"
ARTICLE_LINKS = {
    name: link(operation, slug=ARTICLE_SLUG)
    for name, operation in (
        ("GetArticle", "GetArticle"),
        ("UpdateArticle", "UpdateArticle"),
        ("DeleteArticle", "DeleteArticle"),
        ("GetComments", "GetArticleComments"),
        ("AddComment", "CreateArticleComment"),
        ("Favorite", "CreateArticleFavorite"),
        ("Unfavorite", "DeleteArticleFavorite"),
    )
}

log = logging.getLogger(__name__)

blp = Blueprint("Articles", __name__, description="Articles and the personal feed")

NEW_ARTICLE_EXAMPLE = {
    "article": {
        "title": "How to train your dragon",
        "description": "Ever wonder how?",
        "body": "You have to believe",
        "tagList": ["reactjs", "angularjs", "dragons"],
    }
}


def _own_article_or_error(slug: str, *, lock: bool = False) -> queries.ArticleRef:
    article = found(queries.article_to_change(db_connection(), slug, lock=lock), "article")
    if article.author_id != current_user().id:
        fail(403, "article", "forbidden")
    return article


def _articles_page(views: list[queries.ArticleView], total: int) -> dict[str, Any]:
    return {"articles": views, "articles_count": total}


def _search(q: str, filters: queries.ArticleFilters, limit: int, offset: int) -> dict[str, Any]:
    """Words and meaning, fused by rank; `articlesCount` counts what either half matched.
    Without the model (it could not load), words alone: search degrades, it does not fail."""
    connection = db_connection()
    by_words = search.by_words(connection, q, filters)
    try:
        near = model().by_meaning(connection, q, search.CANDIDATES)
    except ModelError as error:
        log.warning("search by words only: %s", error)
        near = []
    passing = search.passing(connection, near, filters)
    fused = reciprocal_rank_fusion([by_words, [i for i in near if i in passing]])
    page = queries.articles_by_ids(connection, fused[offset : offset + limit], viewer_id())
    return _articles_page(page, len(fused))


@blp.route("/articles")
class Articles(MethodView):
    @blp.cached
    @blp.auth_optional
    @blp.conditional
    @blp.arguments(ArticlesQuery(), location="query")
    @blp.response(200, MultipleArticlesResponse)
    @blp.doc(operationId="GetArticles")
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Get recent articles globally

        Newest first. Filter by `tag`, `author` and `favorited` (combinable); page with
        `limit` (1-100, default 20) and `offset`. `articlesCount` counts all matches.
        """
        filters = queries.ArticleFilters(args.get("tag"), args.get("author"), args.get("favorited"))
        if args.get("q", "").strip():
            return _search(args["q"], filters, args["limit"], args["offset"])
        views, total = queries.articles(
            db_connection(), filters, viewer_id(), args["limit"], args["offset"]
        )
        return _articles_page(views, total)

    @blp.auth_required
    @blp.arguments(NewArticleRequest(), example=NEW_ARTICLE_EXAMPLE)
    @blp.idempotent
    @blp.response(201, SingleArticleResponse)
    @blp.links(201, **ARTICLE_LINKS)
    @blp.errors(409)
    @blp.doc(operationId="CreateArticle")
    def post(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Create an article

        The slug derives from the title (with a numeric suffix when taken); tags are
        de-duplicated and returned sorted.
        """
        data = payload["article"]
        session = db_session()
        me = current_user()
        article = writes.create_article(
            session,
            author=me,
            title=data["title"],
            description=data["description"],
            body=data["body"],
            tag_names=data.get("tag_list", []),
        )
        session.commit()
        return {"article": article}


@blp.route("/articles/feed")
class Feed(MethodView):
    @blp.auth_required
    @blp.conditional
    @blp.arguments(Page(), location="query")
    @blp.response(200, MultipleArticlesResponse)
    @blp.doc(operationId="GetArticlesFeed")
    def get(self, args: dict[str, Any]) -> dict[str, Any]:
        """Get recent articles from users you follow

        Newest first, paged like the global list.
        """
        views, total = queries.feed(
            db_connection(), current_user().id, args["limit"], args["offset"]
        )
        return _articles_page(views, total)


@blp.route("/articles/<slug:slug>", parameters=SLUG)
class ArticleBySlug(MethodView):
    @blp.cached
    @blp.auth_optional
    @blp.conditional
    @blp.response(200, SingleArticleResponse)
    @blp.errors(404)
    @blp.doc(operationId="GetArticle")
    def get(self, slug: str) -> dict[str, Any]:
        """Get an article

        With its body; `favorited` and `following` are computed when a token is given.
        """
        return article_response(slug, viewer_id())

    @blp.auth_required
    @blp.arguments(
        UpdateArticleRequest(), example={"article": {"title": "Did you train your dragon?"}}
    )
    @blp.response(200, SingleArticleResponse)
    @blp.links(200, **ARTICLE_LINKS)
    @blp.errors(403, 404, 409)
    @blp.doc(operationId="UpdateArticle")
    def put(self, payload: dict[str, Any], slug: str) -> dict[str, Any]:
        """Update an article

        Only the author may. A new title gives a new slug; `tagList`, when sent, replaces the tags.
        """
        session = db_session()
        article = _own_article_or_error(slug, lock=True)  # the article first: the lock order
        renamed = writes.update_article(session, article, payload["article"])
        response = article_response(renamed, current_user().id)  # in the write's transaction
        session.commit()
        return response

    @blp.auth_required
    @blp.response(204)
    @blp.errors(403, 404)
    @blp.doc(operationId="DeleteArticle")
    def delete(self, slug: str) -> None:
        """Delete an article

        Only the author may; its comments, tags links and favorites go with it.
        """
        session = db_session()
        writes.delete_article(session, _own_article_or_error(slug).id)
        session.commit()


@blp.route("/articles/<slug:slug>/related", parameters=SLUG)
class Related(MethodView):
    @blp.auth_optional
    @blp.arguments(RelatedQuery(), location="query")
    @blp.response(200, MultipleArticlesResponse)
    @blp.errors(404, 503)
    @blp.doc(operationId="GetRelatedArticles")
    def get(self, args: dict[str, Any], slug: str) -> dict[str, Any]:
        """Get related articles

        The articles nearest in meaning to this one (its title, description and body, by the
        embedding model), nearest first, itself excluded; `limit` default 5, at most 20 served. An article
        not embedded yet (it is, in the background, seconds after it is written) has none.
        """
        limit = min(args["limit"], RELATED_MAX)
        known = _related_sources.get(slug)
        if known is not None:  # one statement: the neighbours, and this article as the check
            source, related = _related_views(known, limit)
            if source is not None and source.slug == slug:
                return _articles_page(related, len(related))
            _related_sources.pop(slug, None)  # renamed or deleted since: look it up again
        article_id = article_id_or_404(slug)
        source, related = _related_views(article_id, limit)
        if source is not None and source.slug == slug:  # not a former slug: remembered
            if len(_related_sources) >= RELATED_SOURCES_MAX:
                _related_sources.clear()
            _related_sources[slug] = article_id
        return _articles_page(related, len(related))


# slug -> article id, per worker, for related articles: saves the lookup's round trip. Never
# trusted alone: the page's own statement reads the article too and must find it under that
# slug (a slug is one article's at a time), else the entry goes.
_related_sources: dict[str, int] = {}
RELATED_SOURCES_MAX = 10_000


def _related_views(
    article_id: int, limit: int
) -> tuple[queries.ArticleView | None, list[queries.ArticleView]]:
    """The article `article_id` as it stands now (None if gone) and its related articles, read
    in one statement."""
    ids = model().related(db_connection(), article_id, limit)
    views = queries.articles_by_ids(db_connection(), [article_id, *ids], viewer_id())
    if views and views[0].id == article_id:
        return views[0], views[1:]
    return None, views
