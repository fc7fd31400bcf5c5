"""Use cases: plain Python, framework-free, testable without HTTP."""
