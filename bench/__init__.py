"""Benchmarks and evaluations (run as scripts; `bench.story_eval` is also imported by tests)."""
