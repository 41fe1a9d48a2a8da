"""Swagger UI 5 at /api/docs, every asset served by us (no CDN), under a strict CSP."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from flask import Blueprint, Flask, Response, send_from_directory

_spec = importlib.util.find_spec("swagger_ui")  # swagger-ui-py ships the Swagger UI 5 assets
assert _spec is not None and _spec.submodule_search_locations
SWAGGER_UI_ASSETS = Path(next(iter(_spec.submodule_search_locations))) / "static"
HERE = Path(__file__).resolve().parent
DOCS_PATH = "/api/docs"

DOCS_CONFIG = {
    "OPENAPI_SWAGGER_UI_PATH": "docs",
    # flask-smorest appends asset names to this URL: the trailing slash matters.
    "OPENAPI_SWAGGER_UI_URL": f"{DOCS_PATH}/assets/",
    "OPENAPI_SWAGGER_UI_CONFIG": {
        "persistAuthorization": True,
        "displayRequestDuration": True,
        "deepLinking": True,
        "docExpansion": "list",
        "defaultModelsExpandDepth": 1,
        "filter": True,
        "validatorUrl": None,
    },
}

# The UI's CSS embeds its icons as data: URIs; everything else comes from this origin.
DOCS_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; form-action 'none'; frame-ancestors 'none'; "
    "base-uri 'none'"
)


def register(app: Flask) -> None:
    """Call before flask-smorest's Api: our template must shadow its inline-script one."""
    app.config.update(DOCS_CONFIG)
    blueprint = Blueprint(
        "docs",
        __name__,
        url_prefix=DOCS_PATH,
        static_folder=str(SWAGGER_UI_ASSETS),
        static_url_path="/assets",
        template_folder=str(HERE / "templates"),
    )

    @blueprint.route("/swagger-initializer.js")
    def initializer() -> Response:
        return send_from_directory(HERE / "static", "swagger-initializer.js")

    app.register_blueprint(blueprint)
