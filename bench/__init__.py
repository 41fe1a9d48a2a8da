"""Load benchmarks: `make bench` (or `python -m bench.run --help`)."""
