"""How fast the map's columns (EventTable) load from a GeoPackage and from PostGIS, cold and kept (issue 18).

    eval "$(.ci/postgres.sh start)"                      # a throwaway server (or any REACHMAP_TEST_POSTGRES_URL)
    python benchmarks/postgis_table.py                   # 100,000 events
    python benchmarks/postgis_table.py --rows 1000000

Writes the deterministic ACLED-like CSV of import_benchmark, imports it with `python -m dashboard import` into a
new GeoPackage and into a new PostGIS database (the same importer: RowWriter, COPY on PostGIS), then, each in a
fresh Python process: EventTable cold (the kept table deleted first: GDAL/pyogrio from the file, ADBC from
the server) and kept (read back from the kept Arrow files). Prints numbers; asserts nothing.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.import_benchmark import write_acled  # noqa: E402

_LOAD = """
import sys, time
from dashboard.table import EventTable
t = time.perf_counter()
table = EventTable.from_store(sys.argv[1])
print(f"{time.perf_counter() - t:.3f} {len(table)}")
"""


def timed(cmd: list[str], env: dict) -> float:
    start = time.perf_counter()
    done = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True)  # the import's progress: not shown
    if done.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{done.stderr[-2000:]}")
    return time.perf_counter() - start


def load(location: str, env: dict) -> tuple[float, int]:
    out = subprocess.run([sys.executable, "-c", _LOAD, location], env=env, cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout.split()
    return float(out[0]), int(out[1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, action="append", help="events (repeatable; default 100000)")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    server = os.environ.get("REACHMAP_TEST_POSTGRES_URL")
    if not server:
        print("set REACHMAP_TEST_POSTGRES_URL (eval \"$(.ci/postgres.sh start)\")", file=sys.stderr)
        return 2
    from dashboard.gazetteer import default_index_path
    from tests.conftest import PostgresServer

    pg = PostgresServer(server)
    for rows in args.rows or [100_000]:
        with tempfile.TemporaryDirectory() as folder:
            folder = Path(folder)
            env = {**os.environ, "REACHMAP_DATA_DIR": str(folder / "data"), "REACHMAP_STORE_URL": ""}
            env["REACHMAP_GAZETTEER_INDEX"] = str(default_index_path())  # the index built once, not again here
            csv_path = folder / "acled.csv"
            write_acled(csv_path, rows)
            gpkg = folder / "store.gpkg"
            url = pg.create()
            try:
                import_gpkg = timed([sys.executable, "-m", "dashboard", "import", str(csv_path)],
                                    {**env, "REACHMAP_STORE_PATH": str(gpkg)})
                import_pg = timed([sys.executable, "-m", "dashboard", "import", str(csv_path)],
                                  {**env, "REACHMAP_STORE_URL": url})
                print(f"{rows:,} rows: import into GeoPackage {import_gpkg:.1f} s, into PostGIS {import_pg:.1f} s")
                for name, location, kept in (
                        ("GeoPackage", str(gpkg), lambda: list(folder.glob("store.gpkg.*.arrow"))),
                        ("PostGIS", url, lambda: list((folder / "data" / "postgis-cache").glob("*.arrow")))):
                    cold, warm = [], []
                    for _ in range(args.runs):
                        for f in kept():
                            f.unlink()
                        seconds, n = load(location, env)
                        cold.append(seconds)
                        warm.append(load(location, env)[0])
                    print(f"  {name:10} EventTable of {n:,}: cold {min(cold):.2f}–{max(cold):.2f} s, "
                          f"kept {min(warm):.2f}–{max(warm):.2f} s ({args.runs} runs)")
            finally:
                pg.drop_all()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
