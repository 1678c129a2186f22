"""How fast the gazetteer builds, starts and looks names up.

    python benchmarks/gazetteer_timing.py                  # builds a fresh index in a temp folder first
    python benchmarks/gazetteer_timing.py --index data/gazetteer-v1.sqlite   # reuse an existing index

Cold starts run in fresh `python -c` processes against an already-built index (the operating system's
file cache is warm, as it is for a user's second start). Targets: first lookup in a fresh process
(import + open + lookup) <= 1.5 s; later lookups <= 1 ms each (median over many different names).
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from dashboard.gazetteer import Gazetteer  # noqa: E402

COLD_TARGET_S = 1.5
LOOKUP_TARGET_MS = 1.0

COLD_SCRIPT = """
import time; t0 = time.perf_counter()
from pathlib import Path
from dashboard.gazetteer import Gazetteer
found = Gazetteer.open(Path({path!r})).lookup({query!r})
assert found, 'no candidate'
print(time.perf_counter() - t0)
"""


def run_python(code: str) -> tuple[float, str]:
    """Run code in a fresh interpreter; wall time including interpreter start, and its stdout."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - started
    if done.returncode:
        raise SystemExit(f"subprocess failed:\n{done.stderr}")
    return wall, done.stdout.strip()


def timed(fn, *args, **kw) -> float:
    started = time.perf_counter()
    fn(*args, **kw)
    return time.perf_counter() - started


def verdict(ok: bool) -> str:
    return "ok" if ok else "OVER TARGET"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path, help="an existing index to time (default: build a fresh one)")
    parser.add_argument("--cold-runs", type=int, default=5, help="fresh processes to start (default 5)")
    parser.add_argument("--names", type=int, default=2000, help="different names to look up (default 2000)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="gazetteer-bench-") as tmp:
        path = args.index or Path(tmp) / "gazetteer.sqlite"
        if args.index is None:
            wall, _ = run_python(f"from pathlib import Path\nfrom dashboard.gazetteer import build_index\n"
                                 f"build_index(Path({str(path)!r}))")
            print(f"build (one time, fresh process):   {wall:6.1f} s")
        print(f"index size:                        {path.stat().st_size / 1e6:6.1f} MB  ({path})")
        with sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True) as con:
            counts = dict(con.execute("SELECT key, value FROM meta WHERE key IN ('places', 'names')"))
            all_names = [n for (n,) in con.execute("SELECT name FROM places WHERE kind = 'city' ORDER BY id")]
        con.close()
        print(f"rows:                              {counts.get('places')} places, {counts.get('names')} names")

        cold = []
        queries = ["Chernihiv", "Minsk", "Desna", "St. Petersburg", "Belarus"]
        for i in range(args.cold_runs):
            wall, inside = run_python(COLD_SCRIPT.format(path=str(path), query=queries[i % len(queries)]))
            cold.append((wall, float(inside)))
        walls, insides = [c[0] for c in cold], [c[1] for c in cold]
        print(f"first lookup, fresh process:       median {statistics.median(insides):.3f} s, "
              f"max {max(insides):.3f} s (import + open + lookup; target <= {COLD_TARGET_S} s: "
              f"{verdict(max(insides) <= COLD_TARGET_S)})")
        print(f"  same, wall incl. interpreter:    median {statistics.median(walls):.3f} s, max {max(walls):.3f} s")

        rng = random.Random(42)
        sample = rng.sample(all_names, min(args.names, len(all_names)))
        gaz = Gazetteer.open(path)
        gaz.lookup("warm-up")
        exact = sorted(timed(gaz.lookup, name) * 1000 for name in sample)
        median = statistics.median(exact)
        print(f"exact lookups ({len(exact)} names):       median {median:.3f} ms, "
              f"p95 {exact[int(0.95 * len(exact))]:.3f} ms, max {exact[-1]:.3f} ms "
              f"(target median <= {LOOKUP_TARGET_MS} ms: {verdict(median <= LOOKUP_TARGET_MS)})")
        prefixes = sorted(timed(gaz.lookup, name[:4], prefix=True) * 1000 for name in sample[:500])
        print(f"prefix lookups (500 x 4 letters):  median {statistics.median(prefixes):.3f} ms, "
              f"p95 {prefixes[int(0.95 * len(prefixes))]:.3f} ms, max {prefixes[-1]:.3f} ms")
        misses = sorted(timed(gaz.lookup, name + "qx") * 1000 for name in sample[:500])
        print(f"misses (500):                      median {statistics.median(misses):.3f} ms")
        print(f"resolve miss + suggestions:        {timed(_resolve_quietly, gaz, 'Chernihivv') * 1000:.1f} ms")
        print(f"country('BY'), first (outlines):   {timed(gaz.country, 'BY') * 1000:.1f} ms")
        print(f"border('BY', 'UA'), first:         {timed(gaz.border, 'BY', 'UA') * 1000:.1f} ms")
        print(f"capitals():                        {timed(gaz.capitals) * 1000:.1f} ms")
        print(f"cities(100000), first:             {timed(gaz.cities, 100_000) * 1000:.1f} ms")
        print(f"cities(0), first:                  {timed(gaz.cities, 0) * 1000:.1f} ms")
        gaz.close()


def _resolve_quietly(gaz: Gazetteer, query: str) -> None:
    from dashboard.errors import NotFoundError

    try:
        gaz.resolve(query)
    except NotFoundError:
        pass  # the miss is what is being timed


if __name__ == "__main__":
    main()
