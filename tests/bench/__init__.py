"""The load benchmark of ``scripts/bench``: datasets of the peer's and the ward's shape, written in bulk
exactly as the services would leave them (:mod:`tests.bench.plan`, :mod:`tests.bench.bulk`), load
generators (:mod:`tests.bench.load`) and the run that measures, checks the budgets and reports
(:mod:`tests.bench.runner`). Not a timed test: ``tests/bench/test_bulk.py`` only proves the datasets.
"""
