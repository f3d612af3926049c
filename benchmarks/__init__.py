"""Reproducible performance measurements, reported as medians and ratios to same-run baselines."""
