"""One model load for the whole ML suite: loading costs a second, the suite embeds thousands."""

from __future__ import annotations

import pytest

from ml.model import Embedder


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    model = Embedder()
    model.load()
    return model
