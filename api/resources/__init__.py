"""One module per RealWorld tag; each exposes a flask-smorest Blueprint named `blp`.

What several of them need lives in `_shared`; no resource module imports another.
"""

from __future__ import annotations

from api.resources import (
    articles,
    comments,
    favorites,
    health,
    notifications,
    profiles,
    tags,
    users,
)
from api.seam import Blueprint

BLUEPRINTS: tuple[Blueprint, ...] = (
    users.blp,
    profiles.blp,
    articles.blp,
    favorites.blp,
    comments.blp,
    tags.blp,
    notifications.blp,
    health.blp,
)
