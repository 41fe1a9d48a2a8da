"""One module per RealWorld tag; each exposes a flask-smorest Blueprint named `blp`."""

from __future__ import annotations

from api.extensions import Blueprint
from api.resources import articles, comments, health, profiles, tags, users

BLUEPRINTS: tuple[Blueprint, ...] = (
    users.blp,
    profiles.blp,
    articles.blp,
    articles.favorites_blp,
    comments.blp,
    tags.blp,
    health.blp,
)
