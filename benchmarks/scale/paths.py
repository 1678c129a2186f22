"""The user's other paths at scale: import, each export, a snapshot and a PNG, next to pandas and geopandas.

    python -m benchmarks.scale.paths --sizes 100000,1000000 [--with-3m] [--keep DIR] [--out FILE]
    python -m benchmarks.scale.paths --snapshot STORE     # the snapshot step alone, on a copy of a store
    python -m benchmarks.scale.run --paths …            # the same, after the map benchmark

For each size, in a folder of its own (temporary, or --keep DIR, where the CSV and the store are reused):
the ACLED-like file of benchmarks/import_benchmark.py (`write_acled`: one village per row outside the
cities, as real exports have it), then each step in a fresh process, timed from outside — wall seconds,
CPU seconds (user + system, children included: steadier than wall time on a shared machine) and peak RSS
(os.wait4's ru_maxrss: the largest process of the step, interpreter and imports included):

- import:   `python -m dashboard import FILE` into a new store, next to `pandas.read_csv` and
            read_csv + `GeoDataFrame.to_file(GPKG)` of the same file (import_benchmark.STEP);
- exports:  `python -m dashboard export "<query>" --format F` for geojson, csv, kml and html, next to
            geopandas reading the same store's events layer and writing `gdf.to_file` (GeoJSON, KML),
            `gdf.to_csv` and `gdf.explore().save` (up to --explore-max events; export_benchmark.BASELINE);
- PNG:      `python -m dashboard export "<query>" --format png` (headless Chromium; no baseline);
- snapshot: what the Map page's "Share snapshot" and a snapshot link do — the selection read as columns,
            frozen into the store (`snapshot.freeze`), then, in a second process, opened (`open_snapshot`,
            `frozen_scene`) with its map page built and its list of events made (timed inside each process,
            peak RSS each process's; no baseline).

Ratios are Reachmap's wall time over the baseline's, both measured in this run. Before the exports a
process reads the store once, so the table kept beside it (table.py) is there for every export alike.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from benchmarks.export_benchmark import BASELINE, QUERY, timed
from benchmarks.import_benchmark import STEP, write_acled

ROOT = Path(__file__).resolve().parents[2]
FORMATS = ("geojson", "csv", "kml", "html")
BASELINES = {"geojson": ("geojson", "gdf.to_file (GeoJSON)"), "csv": ("csv", "gdf.to_csv"),
             "kml": ("kml", "gdf.to_file (KML)"), "html": ("explore", "gdf.explore().save")}

# What the app does when a user freezes the Map page's selection and later opens its link, in two processes
# (`freeze QUERY`, then `open ID`) so that each step's peak RSS is its own: the page that freezes holds the
# live table, the one that opens a link does not.
SNAPSHOT = """
import json, sys, time
from dashboard.ingest import open_gazetteer, open_store
from dashboard.ingest.catalogue import load_catalogue
from dashboard.scene import load_basemap, scene_map, table_scene
from dashboard.share import from_query
from dashboard.snapshot import freeze, frozen_scene, listing, open_snapshot
from dashboard.table import EventTable

gazetteer, catalogue = open_gazetteer(), load_catalogue()
step, arg = sys.argv[1:3]


def peak_mb():  # the process's peak RSS so far (Linux; 0 elsewhere): what the step itself adds shows beside it
    try:
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) / 1024 for line in status if line.startswith("VmHWM:"))
    except (OSError, StopIteration):
        return 0.0


if step == "freeze":
    with open_store(gazetteer=gazetteer) as store:
        path = store.path
    state = from_query(arg).state

    def load(ids):
        with open_store(path, gazetteer=gazetteer) as store:
            return store.events_by_id(ids)

    scene = table_scene(state, EventTable.from_store_path(path), load, gazetteer, catalogue)
    before = peak_mb()
    t0, c0 = time.perf_counter(), time.process_time()
    with open_store(gazetteer=gazetteer) as store:
        snapshot_id = freeze(store, scene, "")
    t1, c1 = time.perf_counter(), time.process_time()
    print(json.dumps({"id": snapshot_id, "events": len(scene.events), "seconds": t1 - t0, "cpu": c1 - c0,
                      "before_mb": before}))
else:
    before = peak_mb()
    t1, c1 = time.perf_counter(), time.process_time()
    with open_store(gazetteer=gazetteer) as store:
        snapshot, view = open_snapshot(store, arg)
    opened = frozen_scene(snapshot, view, gazetteer, catalogue)
    page = scene_map(opened, load_basemap(gazetteer), interactive=False).get_root().render()
    rows = listing(opened.events)
    t2, c2 = time.perf_counter(), time.process_time()
    assert len(snapshot.events) == len(rows["title"]), (len(snapshot.events), len(rows["title"]))
    with open_store(gazetteer=gazetteer) as store:
        store.delete_snapshot(arg)
    print(json.dumps({"events": len(snapshot.events), "seconds": t2 - t1, "cpu": c2 - c1, "page_mb": len(page) / 1e6,
                      "before_mb": before}))
"""


@dataclass
class Step:
    """One measured process (or one span inside it): seconds, CPU seconds, peak RSS in MB."""

    seconds: float
    cpu: float
    peak_mb: float


@dataclass
class Row:
    path: str
    events: int
    ours: Step | None
    baseline: str = ""
    base: Step | None = None
    note: str = ""


def _run(cmd: list[str], env: dict) -> tuple[Step, str]:
    seconds, peak, out, cpu = timed(cmd, env)
    return Step(seconds, cpu, peak), out


def _last_json(out: str) -> dict:
    return json.loads(out.strip().splitlines()[-1])


def measure(n: int, folder: Path, explore_max: int, say=print) -> list[Row]:
    """Every path for a store of n events, in `folder` (its CSV and store reused when there)."""
    folder.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "REACHMAP_DATA_DIR": str(folder / "data")}
    py = sys.executable
    rows: list[Row] = []
    csv_path, store = folder / f"acled_{n}.csv", folder / f"store_{n}.gpkg"
    env["REACHMAP_STORE_PATH"] = str(store)
    _run([py, "-c", "from dashboard.gazetteer import Gazetteer; Gazetteer.open()"], env)  # its index, built once

    if not csv_path.exists():
        say(f"{n:>10,} writing the ACLED-like file …")
        write_acled(csv_path, n)
    size_mb = csv_path.stat().st_size / 1e6
    if store.exists():
        say(f"{n:>10,} reusing {store}")
        rows.append(Row("import", n, None, note=f"store reused from {store}; not timed"))
    else:
        say(f"{n:>10,} import and its baselines …")
        base, out = _run([py, "-c", STEP, "baseline", str(csv_path), str(folder / "unused.gpkg")], env)
        rows.append(Row("import: baseline read_csv", n, None, "pandas.read_csv", base,
                        f"{size_mb:,.0f} MB CSV; {_last_json(out)['seconds']:.2f} s of it reading"))
        gpkg = folder / f"baseline_{n}.gpkg"
        gpkg.unlink(missing_ok=True)
        base_gpkg, out = _run([py, "-c", STEP, "baseline_gpkg", str(csv_path), str(gpkg)], env)
        gpkg.unlink(missing_ok=True)
        ours, out = _run([py, "-m", "dashboard", "import", str(csv_path)], env)
        rows.append(Row("import", n, ours, "read_csv + GeoDataFrame.to_file (GPKG)", base_gpkg,
                        f"read_csv alone {base.seconds:.2f} s: import is {ours.seconds / base.seconds:.1f}× that"))
    first, _ = _run([py, "-c", "import sys; from dashboard.table import EventTable; "
                     "EventTable.from_store_path(sys.argv[1])", str(store)], env)
    rows.append(Row("first read of the store", n, first, note="the columnar table, then kept beside the store"))

    for fmt in FORMATS:
        say(f"{n:>10,} export {fmt} …")
        out_path = folder / f"export.{fmt}"
        ours, _ = _run([py, "-m", "dashboard", "export", QUERY, "--format", fmt, "-o", str(out_path)], env)
        size = out_path.stat().st_size
        what, name = BASELINES[fmt]
        base, note = None, f"{size / 1e6:,.1f} MB, {size / n:,.0f} B/event"
        if what != "explore" or n <= explore_max:
            b_path = folder / f"baseline.{fmt}"
            base, out = _run([py, "-c", BASELINE, what, str(store), str(b_path)], env)
            parts = _last_json(out)
            note += f"; baseline reads the layer in {parts['read_s']:.1f} s, writes in {parts['seconds']:.1f} s"
            b_path.unlink(missing_ok=True)
        else:
            name, note = f"{name}: not run above {explore_max:,}", note
        out_path.unlink()
        rows.append(Row(f"export {fmt}", n, ours, name, base, note))

    say(f"{n:>10,} PNG …")
    png = folder / f"map_{n}.png"
    ours, _ = _run([py, "-m", "dashboard", "export", QUERY, "--format", "png", "-o", str(png)], env)
    rows.append(Row("export png", n, ours, note=f"{png.stat().st_size / 1e6:.1f} MB image kept at {png}"))

    say(f"{n:>10,} snapshot …")
    rows += snapshot_rows(n, env)
    return rows


def snapshot_rows(n: int | None, env: dict) -> list[Row]:
    """Freeze the query's selection in one process and open it (map page + list) in another: seconds and
    CPU seconds timed inside each (the step alone), peak RSS each process's whole (imports and, when
    freezing, the live table included). `n`: the store's events (None: the selection's)."""
    frozen, out = _run([sys.executable, "-c", SNAPSHOT, "freeze", QUERY], env)
    made = _last_json(out)
    n = made["events"] if n is None else n
    opened, out = _run([sys.executable, "-c", SNAPSHOT, "open", made["id"]], env)
    spans = _last_json(out)
    return [Row("snapshot: freeze", n, Step(made["seconds"], made["cpu"], frozen.peak_mb),
                note=f"{made['events']:,} events; peak RSS: the freezing process, live table included "
                     f"({made['before_mb']:,.0f} MB before freezing)"),
            Row("snapshot: open (map page + list)", n, Step(spans["seconds"], spans["cpu"], opened.peak_mb),
                note=f"map page {spans['page_mb']:.1f} MB; peak RSS: the opening process "
                     f"({spans['before_mb']:,.0f} MB before opening)")]


def _cell(step: Step | None) -> list[str]:
    if step is None:
        return ["—", "—", "—"]
    return [f"{step.seconds:.2f}", f"{step.cpu:.2f}", f"{step.peak_mb:,.0f}"]


def markdown(rows: list[Row], command: str, when: datetime) -> str:
    """The rows as a markdown table, ratios of wall time (ours / baseline) from this run."""
    lines = [f"## Import, exports, snapshot and PNG at scale", "",
             f"`{command}` — {when:%Y-%m-%d %H:%M} UTC, {os.cpu_count()} cores (shared: wall time is noisy, "
             "CPU seconds steadier). Seconds are whole processes (start-up, imports and the gazetteer "
             "included) except the snapshot's, timed inside one process.", "",
             "| path | events | Reachmap s | CPU s | peak MB | baseline | baseline s | CPU s | peak MB | ratio | notes |",
             "|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---|"]
    for r in rows:
        ratio = f"{r.ours.seconds / r.base.seconds:.2f}×" if r.ours and r.base else "—"
        lines.append("| " + " | ".join([r.path, f"{r.events:,}", *_cell(r.ours), r.baseline or "—", *_cell(r.base),
                                        ratio, r.note]) + " |")
    return "\n".join(lines) + "\n"


def run(sizes: list[int], keep: Path | None = None, explore_max: int = 100_000, command: str | None = None) -> str:
    """Measure every size and return the markdown table (headed by `command`, default this process's)."""
    command = command or " ".join(["python -m benchmarks.scale.paths", *sys.argv[1:]])
    rows: list[Row] = []
    say = lambda text: print(text, file=sys.stderr, flush=True)  # noqa: E731
    if keep is not None:
        for n in sizes:
            rows += measure(n, keep / f"paths-{n}", explore_max, say)
    else:
        for n in sizes:
            with tempfile.TemporaryDirectory(prefix=f"reachmap-paths-{n}-") as tmp:
                rows += measure(n, Path(tmp), explore_max, say)
    return markdown(rows, command, datetime.now(timezone.utc))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000", help="comma-separated events (default %(default)s)")
    parser.add_argument("--with-3m", action="store_true", help="also 3,000,000 events (about an hour)")
    parser.add_argument("--explore-max", type=int, default=100_000, help="largest size for gdf.explore()")
    parser.add_argument("--keep", type=Path, help="folder for the files and stores, kept and reused between runs")
    parser.add_argument("--out", type=Path, help="also write the markdown table to this file")
    parser.add_argument("--snapshot", type=Path, metavar="STORE",
                        help="only the snapshot step, on this store (a copy: the snapshot is written into it)")
    args = parser.parse_args(argv)
    if args.snapshot:
        env = {**os.environ, "PYTHONPATH": str(ROOT), "REACHMAP_STORE_PATH": str(args.snapshot)}
        command = " ".join(["python -m benchmarks.scale.paths", *sys.argv[1:]])
        print(markdown(snapshot_rows(None, env), command, datetime.now(timezone.utc)))
        return 0
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    if args.with_3m and 3_000_000 not in sizes:
        sizes.append(3_000_000)
    t0 = time.perf_counter()
    table = run(sizes, args.keep, args.explore_max)
    print(table)
    print(f"(measured in {time.perf_counter() - t0:,.0f} s)", file=sys.stderr)
    if args.out:
        args.out.write_text(table, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
