"""Pin the native thread pools of numpy's BLAS, OpenMP and tokenizers to one thread.

Why: each gunicorn worker is one process serving one request at a time per thread, and a
machine runs several workers. A BLAS or OpenMP pool sized to the core count in every worker
oversubscribes the CPU (N workers x N cores threads) and makes latency erratic. onnxruntime's
own pools are sized by `SessionOptions` (ml/model.py), not by these variables.

When: BLAS libraries (OpenBLAS, MKL) read their variables once, when numpy is first imported.
`pin()` must therefore run before `import numpy` in the process that will use it. Under
gunicorn the master imports the app's modules before forking (preload_app is False, but the
worker class lives in `api`), so the safe place is the top of the gunicorn config (the master,
inherited by every worker); `post_fork` also works while nothing in the master has imported
numpy. `pin()` says which case it met. This module imports nothing heavy for that reason.
"""

from __future__ import annotations

import os
import sys

# Read at import by OpenBLAS, MKL, Apple Accelerate, numexpr and OpenMP runtimes; the last two
# are for the Rust tokenizers library, whose batch encoding would otherwise spawn a pool
# (and which warns, then disables itself, when a process forks after using it).
THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "RAYON_NUM_THREADS",
)


def pin(threads: int = 1) -> bool:
    """Set the thread-count variables to `threads`; False when numpy was imported too early.

    An operator's explicit value is overwritten: one thread per worker is the point, and the
    number of workers (WEB_CONCURRENCY) is the knob for using more cores.
    """
    for name in THREAD_VARIABLES:
        os.environ[name] = str(threads)
    os.environ["TOKENIZERS_PARALLELISM"] = "false"
    return "numpy" not in sys.modules
