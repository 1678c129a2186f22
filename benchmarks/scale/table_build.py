"""The app's first server start on a store: building its EventTable and the table kept beside it.

    python -m benchmarks.scale.table_build STORE [STORE ...] [--runs 2]

For each store, each run removes the kept table (`<store>.table.arrow`, `.text.arrow`, `.places.arrow`), builds it
again in a fresh process with `EventTable.from_store_path` (what the first server start does) and then
reads it back in a second fresh process (what every later start does), and prints wall and CPU seconds
and the peak resident memory (`ru_maxrss`) of each. The store itself is only read. Build a store with
`benchmarks/import_benchmark.write_acled` and `python -m dashboard import` (see docs/benchmarks.md).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from dashboard.table import _cache_files  # the kept table's files

ROOT = Path(__file__).resolve().parents[2]

_WORKER = """
import json, resource, sys, time
from dashboard.table import EventTable
wall, cpu = time.perf_counter(), time.process_time()
table = EventTable.from_store_path(sys.argv[1])
print(json.dumps({"rows": len(table), "wall_s": time.perf_counter() - wall, "cpu_s": time.process_time() - cpu,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def measure(store: Path) -> dict:
    """One build from the store in a fresh process (the kept table removed first), then one read back."""
    for kept in _cache_files(store):
        kept.unlink(missing_ok=True)
    result = {}
    for step in ("build", "reread"):
        out = subprocess.run([sys.executable, "-c", _WORKER, str(store)], cwd=ROOT, capture_output=True, text=True,
                             check=True)
        result[step] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stores", nargs="+", type=Path)
    parser.add_argument("--runs", type=int, default=1)
    args = parser.parse_args(argv)
    print("| store | events | run | build wall s | build CPU s | build peak MB | reread wall s | reread peak MB |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for store in args.stores:
        for run in range(1, args.runs + 1):
            r = measure(store)
            b, a = r["build"], r["reread"]
            print(f"| {store.name} | {b['rows']:,} | {run} | {b['wall_s']:.1f} | {b['cpu_s']:.1f} | {b['peak_mb']:,.0f} "
                  f"| {a['wall_s']:.2f} | {a['peak_mb']:,.0f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
