"""Benchmarks (`make bench`): each `bench_*.py` module has `run() -> dict` of named numbers."""
