"""Benchmarks run by `make bench`; each `bench/*_bench.py` module with a `main()` writes bench/results/<name>.md."""
