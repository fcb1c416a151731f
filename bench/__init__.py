"""Benchmarks (not tests): ratios against a baseline measured in the same run; figures in RESULTS-*.md."""
