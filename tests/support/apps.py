"""The app as tests build it: test settings, TESTING mode, its engine disposed afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask

from api import create_app
from api.context import runtime_of
from testkit.settings import make_settings


@contextmanager
def built_app(url: str) -> Iterator[Flask]:
    application = create_app(make_settings(url))
    application.config["TESTING"] = True
    try:
        yield application
    finally:
        runtime_of(application).dispose()
