"""Reachmap at 1k–1M events, side by side with `gdf.explore()` and a folium marker-per-row map.

    python -m benchmarks.scale.run                                  # sizes 1000,10000,100000,1000000
    python -m benchmarks.scale.run --sizes 1000,100000 --out /tmp/b.md

For each size: synthetic ACLED-like events (benchmarks/scale/synth.py, seed 42) are written once into a
GeoPackage store through `GeoPackageStore.put_events` (kept in <data_dir>/bench/ for the next run; 1M
events take a few minutes the first time). Then, for each method, a fresh worker process
(benchmarks/scale/workers.py) loads the store, applies a typical filter (a) and builds the map HTML, then
a changed filter (b) and builds again, and reports its peak memory; headless Chromium
(benchmarks/scale/browser.py) paints page a in a fresh context, then page b in the same tab.

Measured, per method and size:
  (a) filter + build  — server seconds from the filter to the HTML string (the store load is cached by the
                        app and reported apart as `load`);
  (b) bytes/event     — HTML bytes of page a / events shown (Reachmap: also the events payload alone);
  (c) painted         — seconds from navigation start until painted (see browser.py);
  (d) filter change   — (filter b + build) + painted b in the warm tab: what a user waits for after changing
                        a filter, without Streamlit's websocket hop;
  (e) peak RSS        — ru_maxrss of the worker process (imports included), plus Chromium's JS heap.
At sizes of --app-min (default 100,000) and above the app itself is also started on the store and timed
in the browser — first map, filter changes, Events page, server memory (benchmarks/scale/in_app.py).
Baselines stop at --explore-max (default 100,000) / --markers-max (default 10,000) events and at
--time-limit seconds per step; a step over the limit is reported as such.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from datetime import datetime, timezone
from importlib.metadata import version
from pathlib import Path

from dashboard import settings

SYNTH_VERSION = 1
METHODS = ("reachmap", "reachmap_bare", "explore", "markers")
LABELS = {"reachmap": "Reachmap", "reachmap_bare": "Reachmap layer, no basemap", "explore": "gdf.explore()",
          "markers": "folium Marker per row"}
ROOT = Path(__file__).resolve().parents[2]


def ensure_store(n: int) -> Path:
    """The synthetic store of n events, written once through GeoPackageStore.put_events."""
    from benchmarks.scale import synth
    from dashboard.gazetteer import Gazetteer
    from dashboard.store import GeoPackageStore

    path = settings.data_dir() / "bench" / f"synthetic-{n}-v{SYNTH_VERSION}.gpkg"
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.unlink(missing_ok=True)
    print(f"writing {n:,} synthetic events to {path} …", file=sys.stderr, flush=True)
    with GeoPackageStore.open(tmp) as store:
        store.put_events(synth.events(n, Gazetteer.open()), origin="synthetic")
    os.replace(tmp, path)
    return path


def run_worker(method: str, store: Path, out: Path, limit_s: float) -> dict:
    cmd = [sys.executable, "-m", "benchmarks.scale.workers", method, str(store), str(out)]
    try:
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=limit_s)
    except subprocess.TimeoutExpired:
        return {"error": f"build over the {limit_s:.0f} s limit"}
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1][:160] if proc.stderr.strip() else "failed"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def machine(chromium: str) -> dict:
    info = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    cpu = next((line.split(":", 1)[1].strip() for line in info.splitlines() if line.startswith("model name")), "?")
    mem = Path("/proc/meminfo").read_text().split()[1] if Path("/proc/meminfo").exists() else "0"
    return {"cpu": cpu, "cores": os.cpu_count(), "ram_gb": int(mem) / 2**20, "os": platform.platform(),
            "python": platform.python_version(), "folium": version("folium"), "geopandas": version("geopandas"),
            "shapely": version("shapely"), "numpy": version("numpy"), "pyarrow": version("pyarrow"),
            "chromium": chromium}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000,1000000",
                        help="comma-separated numbers of events in the store (default %(default)s)")
    parser.add_argument("--explore-max", type=int, default=100_000, help="largest size for gdf.explore()")
    parser.add_argument("--markers-max", type=int, default=10_000,
                        help="largest size for the marker map (default %(default)s: at 10,000 it already takes "
                             "about 40 s to paint)")
    parser.add_argument("--time-limit", type=float, default=300.0, help="seconds allowed per build and per paint")
    parser.add_argument("--app-min", type=int, default=100_000,
                        help="also start the app itself (streamlit run app.py) on stores of at least this many "
                             "events and time it in the browser (benchmarks/scale/in_app.py); 0 to skip")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmarks.md", help="markdown report")
    parser.add_argument("--paths", action="store_true",
                        help="also time import, each export, a snapshot and a PNG at these sizes next to pandas "
                             "and geopandas (benchmarks/scale/paths.py; sizes of 100,000 and more), into the report")
    parser.add_argument("--from-json", type=Path, metavar="RESULTS",
                        help="measure nothing: rewrite the report from a results.json an earlier run kept")
    args = parser.parse_args(argv)
    if args.from_json:
        return rewrite(args.from_json, args.out)
    sizes = [int(s.replace("_", "")) for s in args.sizes.split(",") if s.strip()]
    caps = {"reachmap": max(sizes), "reachmap_bare": max(sizes), "explore": args.explore_max,
            "markers": args.markers_max}

    from benchmarks.scale.browser import Chromium, Server
    from dashboard.mapview.bulk import BULK_THRESHOLD
    from benchmarks.scale.report import markdown, ratios_text

    results: dict[int, dict[str, dict]] = {}
    with tempfile.TemporaryDirectory(prefix="reachmap-bench-") as tmp:
        pages = Path(tmp)
        server, chromium = Server(pages), Chromium()
        try:
            for n in sizes:
                store = ensure_store(n)
                results[n] = {}
                for method in METHODS:
                    if n > caps[method]:
                        results[n][method] = {"skipped": f"not run above {caps[method]:,} events "
                                                         f"(--{method}-max)"}
                        continue
                    print(f"{n:>9,} {LABELS[method]:<22} building …", file=sys.stderr, flush=True)
                    r = run_worker(method, store, pages, args.time_limit)
                    swap = None
                    if method == "reachmap" and r.get("mode_b") == "clustered":
                        swapped = run_worker("reachmap_swap", store, pages, args.time_limit)
                        if "error" in swapped:
                            r["swap_error"] = swapped["error"]
                        else:
                            r.update({k: v for k, v in swapped.items() if k != "maxrss_mb"})
                            swap = server.url + "reachmap-b.swap.js"
                    if "error" not in r:
                        print(f"{n:>9,} {LABELS[method]:<22} painting …", file=sys.stderr, flush=True)
                        r.update(chromium.measure(server.url + f"{method}-a.html", server.url + f"{method}-b.html",
                                                  args.time_limit, swap))
                    results[n][method] = r
                    for f in pages.glob(f"{method}-*"):
                        f.unlink()
                if args.app_min and n >= max(args.app_min, 2 * BULK_THRESHOLD):  # the app's clustered map
                    from benchmarks.scale import in_app

                    print(f"{n:>9,} the running app          timing …", file=sys.stderr, flush=True)
                    try:
                        results[n]["app"] = in_app.run(store, browser=chromium.browser)
                    except Exception as exc:  # a failed app run is reported, the harness goes on
                        results[n]["app"] = {"error": f"{type(exc).__name__}: {str(exc).splitlines()[0]}"[:200]}
            info = machine(chromium.version)
        finally:
            chromium.close()
            server.close()
    command = " ".join(["python -m benchmarks.scale.run", *(argv if argv is not None else sys.argv[1:])])
    report = markdown(results, info, datetime.now(timezone.utc), command)
    if args.paths and [n for n in sizes if n >= 100_000]:
        from benchmarks.scale import paths

        report = report.rstrip("\n") + "\n\n" + paths.run([n for n in sizes if n >= 100_000],
                                                             explore_max=args.explore_max, command=command)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    write_report(args.out, report)
    raw = settings.data_dir() / "bench" / "results.json"  # every number, for a closer look (git-ignored)
    raw.write_text(json.dumps({"machine": info, "results": results, "command": command,
                               "when": datetime.now(timezone.utc).isoformat()}, indent=1, default=str),
                   encoding="utf-8")
    print(report)
    print(ratios_text(results))
    return 0


# Sections after this line in docs/benchmarks.md are written by other benchmarks (concurrency, basemap):
# rewriting the scale report keeps them.
OTHER_SECTIONS = "<!-- Sections below come from other benchmarks; benchmarks.scale.run keeps them. -->"


def write_report(out: Path, report: str) -> None:
    """Write the scale report, keeping whatever stands after OTHER_SECTIONS in the old file."""
    old = out.read_text(encoding="utf-8") if out.exists() else ""
    kept = old[old.index(OTHER_SECTIONS):] if OTHER_SECTIONS in old else OTHER_SECTIONS + "\n"
    out.write_text(report.rstrip("\n") + "\n\n" + kept, encoding="utf-8")


def rewrite(raw: Path, out: Path) -> int:
    """The report again from kept results (after a change to the report's wording, say)."""
    from benchmarks.scale.report import markdown, ratios_text

    data = json.loads(raw.read_text(encoding="utf-8"))
    results = {int(n): by for n, by in data["results"].items()}
    when = datetime.fromisoformat(data["when"]) if "when" in data else datetime.fromtimestamp(
        raw.stat().st_mtime, timezone.utc)
    report = markdown(results, data["machine"], when, data.get("command", "python -m benchmarks.scale.run"))
    write_report(out, report)
    print(report)
    print(ratios_text(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
