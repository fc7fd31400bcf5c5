"""Benchmarks: ratios and counts, printed as one JSON line per figure (``make bench``)."""
