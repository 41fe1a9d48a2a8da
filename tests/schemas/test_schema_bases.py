"""Every schema stands on the project base, so the spec and dump rules are stated once."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
from collections.abc import Iterator

import marshmallow as ma

import schemas
from schemas.base import PartialUpdate, Schema


def _schemas() -> Iterator[type[ma.Schema]]:
    for info in pkgutil.iter_modules(schemas.__path__):
        module = importlib.import_module(f"schemas.{info.name}")
        for value in vars(module).values():
            defined_here = getattr(value, "__module__", None) == module.__name__
            if defined_here and inspect.isclass(value) and issubclass(value, ma.Schema):
                yield value


def test_every_schema_derives_from_the_project_base() -> None:
    strays = [cls.__qualname__ for cls in _schemas() if not issubclass(cls, Schema)]
    assert not strays


def test_update_bodies_are_partial_updates() -> None:
    updates = {cls.__name__ for cls in _schemas() if issubclass(cls, PartialUpdate)}
    assert updates == {"PartialUpdate", "UpdateUser", "UpdateArticle"}
