"""Benchmarks. Each prints one JSON document; none is part of the test suite's assertions."""
