"""Use cases: plain Python, no Chalice, testable without HTTP."""
