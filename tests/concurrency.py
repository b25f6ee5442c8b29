"""Running calls at the same moment in threads, for tests of races on PostgreSQL."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

needs_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="needs PostgreSQL: SQLite serialises writers, so simultaneous requests cannot race",
)


def at_once(calls) -> tuple[list, list]:
    """Run the calls in threads released together; their results and exceptions."""
    barrier = threading.Barrier(len(calls))
    results, problems = [], []
    lock = threading.Lock()

    def run(call) -> None:
        try:
            barrier.wait(timeout=10)
            outcome = call()
            with lock:
                results.append(outcome)
        except Exception as problem:
            with lock:
                problems.append(problem)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(call,)) for call in calls]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)
    return results, problems
