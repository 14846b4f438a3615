"""Benchmarks: `python -m bench` (or `make bench`). Not tests: nothing here asserts timings;
each benchmark prints a table and records its figures in bench/RESULTS.md under its own
heading. Raw figures and sample outputs go to bench/out/ (git-ignored)."""
