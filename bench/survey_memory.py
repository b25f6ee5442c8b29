"""The memory of one survey import, measured in a fresh process (bench/import_survey.py).

``run_memory_child`` starts this script on a generated file:

    .venv/bin/python bench/survey_memory.py FILE --database-url URL [--tracemalloc]

It sets up Django against the benchmark's database, notes its RSS (with the importer imported
and the connection open, before reading the file), imports the file as new rows, written, and
prints one JSON line: the RSS before, the peak RSS (``ru_maxrss``) after, the seconds, the
report's counts and, with ``--tracemalloc``, the peak of Python allocations (calamine's own
Rust buffers are not seen by it).
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from common import PROJECT_DIR, BenchError, setup_django
from survey_sheets import FILENAME


def _current_rss_kb() -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return _max_rss_kb()


def _max_rss_kb() -> int:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak // 1024 if sys.platform == "darwin" else peak  # bytes on macOS, KB on Linux


def child(path: str, url: str, trace: bool) -> int:
    """In this fresh process: import the file as new rows, print one JSON line of figures."""
    import tracemalloc

    setup_django(url)
    from django.db import connection
    from django.test.utils import override_settings

    from couriers.imports.survey import CourierSurveyImporter

    connection.ensure_connection()
    gc.collect()
    figures: dict[str, Any] = {
        "baseline_rss_kb": _current_rss_kb(),
        "baseline_maxrss_kb": _max_rss_kb(),
    }
    if trace:
        tracemalloc.start()
    started = time.perf_counter()
    data = Path(path).read_bytes()
    with override_settings(DEBUG=False):
        report = CourierSurveyImporter(user=None).run(data, FILENAME)
    figures["seconds"] = time.perf_counter() - started
    if trace:
        figures["tracemalloc_peak_kb"] = tracemalloc.get_traced_memory()[1] // 1024
        tracemalloc.stop()
    figures["peak_maxrss_kb"] = _max_rss_kb()
    figures.update(
        rows=report.rows,
        new=report.new,
        updated=report.updated,
        unchanged=report.unchanged,
        written=report.written,
        errors=[str(error) for error in report.errors[:20]],
        error_count=len(report.errors),
        file_error=report.file_error,
    )
    connection.close()
    print(json.dumps(figures))
    return 0


def run_memory_child(path: Path, url: str, rows: int, trace: bool) -> dict[str, Any]:
    """Import the `rows`-row file at `path` in a fresh process (this script); its figures."""
    command = [sys.executable, str(Path(__file__).resolve()), str(path), "--database-url", url]
    if trace:
        command.append("--tracemalloc")
    done = subprocess.run(command, capture_output=True, text=True, cwd=PROJECT_DIR, check=False)
    if done.returncode != 0:
        raise BenchError(
            f"memory child exited {done.returncode}:\n{done.stderr[-3000:]}{done.stdout[-2000:]}"
        )
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    if figures["error_count"] or figures["file_error"]:
        raise BenchError(
            f"memory child: {figures['error_count']} errors {figures['file_error']}\n"
            + "\n".join(figures["errors"])
        )
    got = (figures["rows"], figures["new"], figures["updated"], figures["written"])
    if got != (rows, rows, 0, True):
        raise BenchError(f"memory child: (rows, new, updated, written) = {got}, rows {rows}")
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", help="the .xlsx survey to import")
    parser.add_argument("--database-url", required=True, help="the benchmark's database")
    parser.add_argument("--tracemalloc", action="store_true", help="trace Python allocations")
    args = parser.parse_args()
    return child(args.file, args.database_url, args.tracemalloc)


if __name__ == "__main__":
    sys.exit(main())
