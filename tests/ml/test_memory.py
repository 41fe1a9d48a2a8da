"""The model's memory in a fresh process: what loading adds, and that inference stays flat.

Measured in a subprocess from /proc/self/status (VmRSS), so nothing this test process has
allocated (other tests' apps, the evaluation's vectors) blurs the figures. The bounds are
generous ceilings, not the measurements: the figures are printed (`pytest -s`) for the README.
Without onnxruntime's memory arena (ml/model.py) RSS grew by hundreds of MB after one batch of
long texts; this is the test that would catch its return.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

MB = 1024 * 1024

PROBE = r"""
import json, re

def rss():
    with open("/proc/self/status") as status:
        return int(re.search(r"VmRSS:\s+(\d+) kB", status.read()).group(1)) * 1024

import numpy
start = rss()
from ml.model import Embedder
import onnxruntime, tokenizers
imported = rss()
embedder = Embedder()
embedder.load()
loaded = rss()
# Lengths vary (so would any arena's chunk sizes), up to the model's 256-token limit.
words = "cache queue worker database index search article comment tag follower".split()
texts = [" ".join(words[(i + j) % len(words)] for j in range(20 + (i * 37) % 240)) for i in range(97)]
for text in texts[:50]:
    embedder.embed([text])
warm = rss()
for i in range(1000):
    embedder.embed([texts[i % len(texts)]])
end = rss()
print(json.dumps({"start": start, "imported": imported, "loaded": loaded, "warm": warm, "end": end}))
"""


@pytest.mark.long
def test_the_model_adds_little_memory_and_inference_does_not_grow_it() -> None:
    result = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, check=True, timeout=900
    )
    rss = json.loads(result.stdout.strip().splitlines()[-1])
    added = rss["warm"] - rss["start"]
    growth = rss["end"] - rss["warm"]
    print(
        f"RSS: {rss['start'] / MB:.0f} MB with numpy; +{(rss['imported'] - rss['start']) / MB:.0f} MB"
        f" importing onnxruntime and tokenizers; +{(rss['loaded'] - rss['imported']) / MB:.0f} MB"
        f" loading the model; +{(rss['warm'] - rss['loaded']) / MB:.0f} MB over 50 warm-up"
        f" inferences; {growth / MB:+.1f} MB over 1,000 more"
    )
    assert added < 150 * MB
    assert growth < 30 * MB
