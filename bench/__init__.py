"""Benchmarks of the emulator: ``python -m bench`` (or ``python bench/run.py``) writes BENCHMARKS.md.

Every figure is measured next to a baseline taken in the same run (raw DuckDB for BigQuery
operations, raw onnxruntime ``session.run`` for inference, an empty Python process for
start-up) and reported with the ratio to it, because absolute times drift on shared machines.
"""
