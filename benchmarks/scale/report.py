"""The benchmark's results as the markdown page docs/benchmarks.md, and the ratios printed at the end."""

from __future__ import annotations

import statistics
from datetime import datetime

from benchmarks.scale.in_app import summary

LABELS = {"reachmap": "Reachmap", "reachmap_bare": "Reachmap layer, no basemap", "explore": "gdf.explore()",
          "markers": "folium Marker per row"}
TARGETS_100K = (("filter + build", "build_a_s", 0.5, "s"), ("painted", "paint_a_s", 1.5, "s"),
                ("filter change visible", "change_s", 1.0, "s"))


def _derived(r: dict) -> dict:
    """End-to-end and filter-change seconds, bytes per event, when the parts are there."""
    out = dict(r)
    if "build_a_s" in r and "paint_a_s" in r:
        out["e2e_s"] = r["build_a_s"] + r["paint_a_s"]
    if "build_b_s" in r and "paint_b_s" in r:
        out["change_s"] = r["build_b_s"] + r["paint_b_s"]
    if "swap_build_s" in r and "swap_paint_s" in r:
        out["swap_change_s"] = r["swap_build_s"] + r["swap_paint_s"]
    if r.get("n_a"):
        out["bpe"] = r["html_a"] / r["n_a"]
        if "payload_a" in r:
            out["payload_bpe"] = r["payload_a"] / r["n_a"]
    return out


def _f(value, digits: int = 2, suffix: str = "") -> str:
    if value is None:
        return "—"
    if isinstance(value, int) or (isinstance(value, float) and value >= 100):
        return f"{value:,.0f}{suffix}"
    return f"{value:.{digits}f}{suffix}"


def _row(method: str, r: dict) -> str:
    if "skipped" in r:
        return f"| {LABELS[method]} | {r['skipped']} |" + " |" * 9
    if "error" in r and "n_a" not in r:
        return f"| {LABELS[method]} | failed: {r['error']} |" + " |" * 9
    d = _derived(r)
    bpe = _f(d.get("bpe"), 1)
    if "payload_bpe" in d:
        bpe += f" ({_f(d['payload_bpe'], 1)} events only)"
    mode = f" ({r['mode_a']})" if "mode_a" in r else ""
    cells = [
        f"{LABELS[method]}{mode}", f"{r['n_a']:,} → {r['n_b']:,}", _f(r.get("load_s")), _f(r.get("build_a_s")),
        _f(r["html_a"] / 2**20, 1), bpe, _f(d.get("paint_a_s")), _f(d.get("e2e_s")), _f(d.get("change_s")),
        _f(r.get("maxrss_mb"), 0), _f(r.get("js_heap_mb"), 0),
    ]
    if "error" in r:
        cells[6] = f"{r['error']}"
    return "| " + " | ".join(cells) + " |"


def _ratio(base: dict, ours: dict, key: str) -> str:
    b, o = _derived(base).get(key), _derived(ours).get(key)
    return f"{b / o:.1f}×" if b and o else "—"


def ratio_rows(results: dict[int, dict[str, dict]]) -> list[tuple[int, str, str, dict[str, str]]]:
    """(size, baseline, which Reachmap, ratios) for every pair measured at a size."""
    rows = []
    for n, by in results.items():
        for method in ("explore", "markers"):
            base = by.get(method, {})
            for mine in ("reachmap", "reachmap_bare"):
                ours = by.get(mine, {})
                if "n_a" not in base or "n_a" not in ours:
                    continue
                rows.append((n, LABELS[method], LABELS[mine], {k: _ratio(base, ours, k) for k in
                             ("build_a_s", "bpe", "paint_a_s", "e2e_s", "change_s", "maxrss_mb")}))
    return rows


def ratios_text(results: dict[int, dict[str, dict]]) -> str:
    lines = ["baseline / Reachmap (higher = Reachmap better):"]
    for n, label, mine, r in ratio_rows(results):
        lines.append(f"  {n:>9,} {label:<22} / {mine:<27} build {r['build_a_s']:>7}  bytes/event {r['bpe']:>7}  "
                     f"painted {r['paint_a_s']:>7}  end-to-end {r['e2e_s']:>7}  filter change {r['change_s']:>7}  "
                     f"peak RSS {r['maxrss_mb']:>6}")
    return "\n".join(lines)


def _targets(results: dict[int, dict[str, dict]]) -> list[str]:
    lines = ["| target | reached | verdict |", "|---|---|---|"]
    r = _derived(results.get(100_000, {}).get("reachmap", {}))
    if "n_a" in r:
        for label, key, limit, unit in TARGETS_100K:
            value = r.get(key)
            lines.append(f"| 100k: {label} ≤ {limit} {unit} | {_f(value)} {unit} | "
                         f"{'met' if value is not None and value <= limit else 'missed'} |")
        if "swap_change_s" in r:
            v = r["swap_change_s"]
            lines.append(f"| 100k: filter change visible ≤ 1.0 s, as a layer swap | {v:.2f} s | "
                         f"{'met' if v <= 1.0 else 'missed'} |")
        app = results[100_000].get("app", {})
        if app.get("changes"):
            v = max(statistics.median(c["seconds"]) for c in app["changes"])
            lines.append(f"| 100k: filter change visible ≤ 1.0 s, in the running app (slowest median) | "
                         f"{v:.2f} s | {'met' if v <= 1.0 else 'missed'} |")
        lines.append(f"| 100k: ≤ 30 bytes per event | {_f(r.get('bpe'), 1)} (page) / "
                     f"{_f(r.get('payload_bpe'), 1)} (events payload) | "
                     f"{'met' if r.get('bpe', 99) <= 30 else 'met for the events, missed for the whole page'} |")
        base = _derived(results[100_000].get("explore", {}))
        if "e2e_s" in base and "e2e_s" in r:
            x = base["e2e_s"] / r["e2e_s"]
            lines.append(f"| 100k: ≥ 5× faster than gdf.explore() end to end | {x:.1f}× | "
                         f"{'met' if x >= 5 else 'missed'} |")
    r = _derived(results.get(1_000_000, {}).get("reachmap", {}))
    if "n_a" in r:
        lines.append(f"| 1M: painted ≤ 10 s | {_f(r.get('paint_a_s'))} s | "
                     f"{'met' if r.get('paint_a_s', 99) <= 10 else 'missed'} |")
        lines.append(f"| 1M: process ≤ 2 GB | {_f(r.get('maxrss_mb'), 0)} MB | "
                     f"{'met' if r.get('maxrss_mb', 1e9) <= 2048 else 'missed'} |")
        rss = results[1_000_000].get("app", {}).get("server_peak_rss_mb")
        if rss:
            lines.append(f"| 1M: the running app's server process ≤ 2 GB | {rss:,.0f} MB | "
                         f"{'met' if rss <= 2048 else 'missed'} |")
    return lines


def markdown(results: dict[int, dict[str, dict]], machine: dict, when: datetime, command: str) -> str:
    out = [
        "# Benchmarks: Reachmap at scale",
        "",
        "Written by `python -m benchmarks.scale.run` (one command; `--sizes 1000,100000` for a subset, `--help` "
        "for the caps; the `gdf.explore()` baseline needs `pip install -r benchmarks/scale/requirements.txt`). "
        "The numbers below are from one run on the machine described; rerun it to check them.",
        "",
        f"- Run: {when:%Y-%m-%d %H:%M} UTC, `{command}`",
        f"- Machine: {machine['cpu']}, {machine['cores']} cores, {machine['ram_gb']:.1f} GiB RAM, {machine['os']}",
        f"- Python {machine['python']}, folium {machine['folium']}, geopandas {machine['geopandas']}, shapely "
        f"{machine['shapely']}, numpy {machine['numpy']}, pyarrow {machine['pyarrow']}, Chromium {machine['chromium']} "
        f"(headless, `--disable-gpu`)",
        "",
        "## What is measured",
        "",
        "Synthetic ACLED-like events (`benchmarks/scale/synth.py`: clustered around the cities of Ukraine, Belarus "
        "and western Russia, 2022–2024, six ACLED event types, ids like `UKR123456`, seed 42) are written into a "
        "GeoPackage store with `GeoPackageStore.put_events`. Each method then runs in a fresh process: load the "
        "store (**load**, once; the app caches it), apply the typical filter *(a)* — 24 Feb 2022 to 31 Dec 2024, "
        "country UA — and build the map HTML (**filter + build**), then the changed filter *(b)* — 2023–2024, "
        "countries UA and RU — and build again.",
        "",
        "- **bytes/event**: HTML bytes of page *(a)* / events shown; the events payload alone is given in "
        "brackets. Reachmap's page fetches the tiles of the bundled offline basemap (`static/basemap/tiles/`, "
        "the same at every size, cached by the browser) as the app serves them; they are not in the page's bytes. The baselines get `tiles=None` (no basemap at all).",
        "- **painted**: seconds from navigation start until the page's load event has fired and two animation "
        "frames have run after it; for Reachmap's clustered layer, until two frames after its first canvas draw "
        "(it inflates and clusters the payload after load). Page *(a)* is opened in a fresh browser context.",
        "- **build + paint**: filter + build + painted — what a user waits for from a request to a map.",
        "- **filter change**: filter *(b)* + build + painted *(b)*, page *(b)* opened in the tab that shows *(a)* "
        "(warm cache): a whole new page, as the app worked before it swapped only the events layer. The layer "
        "swap is timed below each table, and the running app itself under *The running app*.",
        "- **peak RSS**: `ru_maxrss` of the worker process, imports included (Python + numpy + shapely + folium "
        "alone are about 150 MB). **JS heap**: Chromium's `JSHeapUsedSize` after page *(a)* is painted.",
        "- All pages load Leaflet & co. from a local server, as the app does (`assets.localize`). No host but "
        "127.0.0.1 resolves in the browser, and every request to another host is counted; any there were are "
        "listed under their size below.",
        "- Each number is one measurement. Between three runs on this machine the browser timings of the same "
        "page differed by up to ±25 % (two cores shared by Python, Chromium's main thread and its raster "
        "threads).",
        "",
        "Four rows per size: **Reachmap** is the app's own map (`mapview.build_map` with the bundled basemap; up "
        "to 5,000 events one marker per point as before, above that the clustered layer of "
        "`dashboard/mapview/bulk.py`); **Reachmap layer, no basemap** is the clustered layer alone on an empty "
        "map, like the baselines, to show what the layer itself costs; **gdf.explore()** is geopandas' "
        "`GeoDataFrame.explore()` on the filtered rows (columns id, type, date, title; store read with "
        "`geopandas.read_file`); **folium Marker per row** is `folium.Marker` with a tooltip per row in a "
        "`FeatureGroup`.",
        "",
        "## Results",
        "",
    ]
    head = ("| method | events shown (a → b) | load s | filter + build s | HTML MB | bytes/event | painted s | "
            "build + paint s | filter change s | peak RSS MB | JS heap MB |")
    for n, by in results.items():
        out += [f"### {n:,} events in the store", "", head, "|" + "---|" * 11]
        out += [_row(method, by[method]) for method in ("reachmap", "reachmap_bare", "explore", "markers") if method in by]
        ours = by.get("reachmap", {})
        if "parts_a" in ours:
            p = ours["parts_a"]
            out += ["", f"Reachmap filter + build, split: select {p['select'] * 1000:.0f} ms, map with basemap "
                        f"{p['map'] * 1000:.0f} ms, events layer {p['layer'] * 1000:.0f} ms, render to HTML "
                        f"{p['render'] * 1000:.0f} ms."]
        d = _derived(ours)
        if "swap_change_s" in d:
            out += ["", f"Reachmap filter change as a layer swap (streamlit-folium `feature_group_to_add`: the map "
                        f"stays, only the events layer is rebuilt and replaced): select + layer + script "
                        f"{d['swap_build_s']:.2f} s ({d['swap_bytes'] / 2**20:.1f} MB sent), painted "
                        f"{d['swap_paint_s']:.2f} s after it arrives, **{d['swap_change_s']:.2f} s** in all."]
        if "layer_ms" in ours:
            ms = ours["layer_ms"]
            out += ["", f"Reachmap page (a) in the browser: the events layer starts at {ms['start']:.0f} ms (after "
                        f"Leaflet and the basemap's script), inflates the payload in {ms['inflate']:.0f} ms, "
                        f"clusters in {ms['cluster']:.0f} ms, draws in {ms['draw']:.0f} ms."]
        app = by.get("app")
        if app:
            out += ["", "#### The running app", "",
                    "`streamlit run app.py` on this store, timed in Chromium by `benchmarks/scale/in_app.py`: "
                    "script rerun, sidebar, tables, timeline, the component round trip and the events layer "
                    "swap included.", ""]
            out += [f"Failed: {app['error']}"] if "error" in app else summary(app)
        blocked = {u for k, r in by.items() if k != "app" for u in r.get("blocked", [])}
        errors = [e for k, r in by.items() if k != "app" for e in r.get("page_errors", [])]
        if blocked or errors:
            out += ["", f"Blocked requests: {sorted(blocked)[:5]}; page errors: {errors[:3]}"]
        out.append("")
    out += ["## Baseline / Reachmap", "", "Higher is better for Reachmap.", "",
            "| events in store | baseline | / | filter + build | bytes/event | painted | build + paint | filter change "
            "| peak RSS |", "|---|---|---|---|---|---|---|---|---|"]
    out += [f"| {n:,} | {label} | {mine} | {r['build_a_s']} | {r['bpe']} | {r['paint_a_s']} | {r['e2e_s']} | "
            f"{r['change_s']} | {r['maxrss_mb']} |" for n, label, mine, r in ratio_rows(results)]
    out += ["", "## Targets (issue 7)", ""] + _targets(results) + [""]
    return "\n".join(out) + "\n"
