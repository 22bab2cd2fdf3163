"""Benchmarks and evaluation baselines (run from the repository root)."""
