"""Scale: a deterministic estate generator and the benchmark helpers behind ``kitvet bench``.

:func:`kitvet.bench.writer.generate` writes a realistic estate (Windows, Linux and macOS hosts
across many institutions, ~1,200 software items and ~25 devices per host, ~1% carrying listed
items) straight into the inventory lake; :mod:`kitvet.bench.export` writes the same estate as
osquery result logs or kitvet JSON for ingest benchmarks.
"""
