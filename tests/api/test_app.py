"""The application class: what it keeps between requests stays bounded."""

from __future__ import annotations

from flask import Flask
from flask.testing import FlaskClient

from api.app import Conduit


def test_the_sync_answers_do_not_grow_with_requests(app: Flask, client: FlaskClient) -> None:
    assert isinstance(app, Conduit)
    paths = ["/api/tags", "/api/articles", "/api/articles/none", "/api/user", "/api/nope"]
    for path in paths:
        client.get(path)
    known = len(app._sync)
    for _ in range(20):
        for path in paths:
            client.get(path)
    # each request's MethodView instance has a new bound dispatch_request: kept by function
    assert len(app._sync) == known


def test_the_sync_answers_are_kept_for_a_bounded_number_of_functions() -> None:
    app = Conduit(__name__)
    # a new function each time, as after_this_request makes one per use
    for function in [(lambda: None) for _ in range(Conduit.SYNC_ANSWERS + 10)]:
        assert app.ensure_sync(function) is function  # a sync function is run as it is
    assert len(app._sync) <= Conduit.SYNC_ANSWERS
