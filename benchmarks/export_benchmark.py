"""How fast `python -m dashboard export` writes 100,000 (or 1M) events, against geopandas on the same rows.

    python benchmarks/export_benchmark.py --rows 100000
    python benchmarks/export_benchmark.py --rows 100000 --rows 1000000 --runs 1

Builds a store of N events, each with a location of its own (the ACLED-like file of
benchmarks/import_benchmark.py, imported with `python -m dashboard import`), in a temporary folder (or
--keep DIR, reused when the store is there). Then, each in a fresh process, `--runs` times:

- reachmap: `python -m dashboard export "from=2021-01-01&to=2023-12-31" --format F -o FILE` for geojson, csv,
  kml and html — wall time of the whole command (imports, gazetteer, table, selection, writing) and peak
  RSS of that process (os.wait4's ru_maxrss);
- baselines on the same rows: the store's events layer read with geopandas (pyogrio; timed apart, not in
  the ratio), then `gdf.to_file(…, driver="GeoJSON")`, `gdf.to_csv(…)` and `gdf.explore()` saved as HTML.

Targets (issue 15, this 2-core machine): each text format <= 3 s per 100,000 events, the HTML page
<= 15 bytes per event, peak memory flat in the number of events. Wall time swings with whatever else the
machine runs: figures are printed as the range of the runs.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.import_benchmark import write_acled  # noqa: E402  (the same honest data as the import)

QUERY = "from=2021-01-01&to=2023-12-31"
FORMATS = ("geojson", "csv", "kml", "html")
TARGET_S = 3.0  # per 100,000 events, each text format
TARGET_BYTES_PER_EVENT = 15  # the HTML page

BASELINE = """
import json, sys, time
import geopandas as gpd
what, store, out = sys.argv[1], sys.argv[2], sys.argv[3]
t0 = time.perf_counter()
gdf = gpd.read_file(store, layer="events", engine="pyogrio")
gdf = gdf[(gdf["t_end"] >= "2021-01-01") & (gdf["t_start"] <= "2023-12-31")]
read_s = time.perf_counter() - t0
t0 = time.perf_counter()
if what == "geojson":
    gdf.to_file(out, driver="GeoJSON", engine="pyogrio")
elif what == "csv":
    gdf.to_csv(out)
elif what == "kml":  # benchmarks/scale/paths.py
    gdf.to_file(out, driver="KML", engine="pyogrio")
else:
    try:
        gdf.explore(tiles=None).save(out)
    except ImportError as exc:  # explore() wants matplotlib and mapclassify, which Reachmap does not need
        print(json.dumps({"skipped": str(exc).split(". ")[0]}))
        sys.exit(0)
print(json.dumps({"seconds": time.perf_counter() - t0, "read_s": read_s, "rows": len(gdf)}))
"""


def timed(cmd: list[str], env: dict, cwd: Path = ROOT) -> tuple[float, float, str, float]:
    """Wall seconds, peak RSS in MB, stdout+stderr and CPU seconds (user + system, steadier than wall time on
    a busy machine) of one process run to its end."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out = proc.stdout.read()  # type: ignore[union-attr]
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{out}")
    return seconds, usage.ru_maxrss / 1024, out, usage.ru_utime + usage.ru_stime


def build_store(folder: Path, rows: int, env: dict) -> Path:
    store = folder / f"store_{rows}.gpkg"
    if store.exists():
        print(f"  reusing {store}")
        return store
    csv_path = folder / f"acled_{rows}.csv"
    write_acled(csv_path, rows)
    seconds, peak, *_ = timed([sys.executable, "-m", "dashboard", "import", str(csv_path)],
                             {**env, "REACHMAP_STORE_PATH": str(store)})
    print(f"  store of {rows:,} events built by `dashboard import` in {seconds:.1f} s (peak {peak:,.0f} MB)")
    csv_path.unlink()
    return store


def span(values: list[float], fmt: str = "{:.2f}") -> str:
    low, high = min(values), max(values)
    return fmt.format(low) if len(values) == 1 or fmt.format(low) == fmt.format(high) else \
        f"{fmt.format(low)}–{fmt.format(high)}"


def measure(rows: int, folder: Path, runs: int, code: Path, baselines_max: int,
            formats: tuple[str, ...] = FORMATS) -> None:
    env = {**os.environ, "PYTHONPATH": str(code), "REACHMAP_DATA_DIR": str(folder / "data")}
    print(f"\n{rows:,} events, each with a location of its own; the CLI of {code}")
    store = build_store(folder, rows, env)
    env["REACHMAP_STORE_PATH"] = str(store)
    table = []
    for fmt in formats:
        # Another checkout's files are kept apart, so the two can be compared (cmp) after both runs.
        out = folder / (f"export.{fmt}" if code == ROOT else f"export-{code.name}.{fmt}")
        ours = [timed([sys.executable, "-m", "dashboard", "export", QUERY, "--format", fmt, "-o", str(out)], env,
                      cwd=code) for _ in range(runs)]
        size = out.stat().st_size
        written = ours[-1][2].strip().splitlines()[-1]
        base_fmt = {"geojson": "geojson", "csv": "csv", "html": "explore"}.get(fmt)
        base = []
        if base_fmt and rows <= baselines_max:
            for _ in range(runs):
                b_out = folder / f"baseline.{fmt}"
                seconds, peak, text, _ = timed([sys.executable, "-c", BASELINE, base_fmt, str(store), str(b_out)], env)
                result = json.loads(text.strip().splitlines()[-1])
                if "skipped" in result:
                    print(f"  baseline {base_fmt} skipped: {result['skipped']}")
                    break
                base.append((result, peak, b_out.stat().st_size))
        table.append((fmt, ours, size, base, written))
    print(f"  (exports of `{QUERY}`; {runs} run(s) each, ranges over the runs)")
    print(f"  {'format':8} {'reachmap s':>12} {'CPU s':>12} {'peak MB':>10} {'file MB':>8} {'B/event':>8}   "
          f"{'baseline':22} {'s':>12} {'peak MB':>10} {'ratio':>10}")
    for fmt, ours, size, base, written in table:
        seconds = [o[0] for o in ours]
        line = (f"  {fmt:8} {span(seconds):>12} {span([o[3] for o in ours]):>12} "
                f"{span([o[1] for o in ours], '{:,.0f}'):>10} "
                f"{size / 1e6:8.1f} {size / rows:8.1f}   ")
        if base:
            name = {"geojson": "gdf.to_file (GeoJSON)", "csv": "gdf.to_csv", "html": "gdf.explore().save"}[fmt]
            b_seconds = [b[0]["seconds"] for b in base]
            ratios = [s / b for s, b in zip(seconds, b_seconds)]
            line += (f"{name:22} {span(b_seconds):>12} {span([b[1] for b in base], '{:,.0f}'):>10} "
                     f"{span(ratios):>9}x")
        print(line)
        if fmt != "html":
            target = TARGET_S * max(1.0, rows / 100_000)
            verdict = "meets" if max(seconds) <= target else "MISSES"
            print(f"  {'':8} {verdict} the target of {target:.0f} s ({written})")
        else:
            verdict = "meets" if size / rows <= TARGET_BYTES_PER_EVENT else "MISSES"
            print(f"  {'':8} {verdict} the target of {TARGET_BYTES_PER_EVENT} bytes per event")
    if table and table[0][3]:
        print(f"  (baselines read the events layer with geopandas first: {span([b[0]['read_s'] for b in table[0][3]])}"
              " s, not counted)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, action="append", help="events in the store (repeat for more sizes)")
    parser.add_argument("--runs", type=int, default=3, help="runs of each measurement (default 3)")
    parser.add_argument("--keep", type=Path, help="folder for the stores, kept and reused between runs")
    parser.add_argument("--code", type=Path, default=ROOT,
                        help="the checkout whose CLI is timed (e.g. an earlier commit's `git archive`): before/after")
    parser.add_argument("--format", dest="formats", action="append", choices=FORMATS,
                        help="only this format (repeatable; default: all four)")
    parser.add_argument("--baselines-max", type=int, default=100_000,
                        help="run the geopandas baselines up to this many events (default 100,000)")
    args = parser.parse_args()
    formats = tuple(args.formats or FORMATS)
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        for rows in args.rows or [100_000]:
            measure(rows, args.keep, args.runs, args.code.resolve(), args.baselines_max, formats)
        return
    with tempfile.TemporaryDirectory(prefix="reachmap-export-bench-") as tmp:
        for rows in args.rows or [100_000]:
            measure(rows, Path(tmp), args.runs, args.code.resolve(), args.baselines_max, formats)


if __name__ == "__main__":
    main()
