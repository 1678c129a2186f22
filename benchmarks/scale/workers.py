"""The server side of one measurement, run in a fresh process so its peak memory is its own.

    python -m benchmarks.scale.workers METHOD STORE OUT_DIR

METHOD is `reachmap` (the app's map: bundled basemap, markers up to 5,000 events, the clustered layer
above), `reachmap_bare` (the clustered layer alone on an empty map, like the baselines), `explore`
(geopandas' GeoDataFrame.explore) or `markers` (one folium.Marker per row in a FeatureGroup). Each loads the store once (timed as `load_s`: the app caches this), then for the
typical filter (a) and the changed filter (b) applies the filter and builds the map HTML (timed together
as `build_<tag>_s`), writes `<METHOD>-<tag>.html` into OUT_DIR, and finally prints one JSON line with the
timings, the sizes and `ru_maxrss` — the peak resident memory of this process.

Every map is passed through `assets.localize`, so the browser loads Leaflet & co. from static/vendor and
never from a CDN (the baselines' defaults); the baselines get `tiles=None` for the same reason.
"""

from __future__ import annotations

import json
import resource
import sys
import time
from dataclasses import replace
from datetime import date
from pathlib import Path

from dashboard.query import EventFilter

FILTERS = {
    # The typical question: Ukraine since the full-scale invasion.
    "a": EventFilter(start=date(2022, 2, 24), end=date(2024, 12, 31), countries=("UA",)),
    # The change: a later start, and Russia added.
    "b": EventFilter(start=date(2023, 1, 1), end=date(2024, 12, 31), countries=("UA", "RU")),
}
# Appended to every page: set when the load event has fired and the frame after it has been drawn.
PAINT_PROBE = ("<script>window.addEventListener('load',function(){requestAnimationFrame(function(){"
               "requestAnimationFrame(function(){window.__painted=performance.now();});});});</script>")


def _write(out: Path, name: str, html: str) -> int:
    data = html.replace("</body>", PAINT_PROBE + "</body>", 1).encode("utf-8")
    (out / name).write_bytes(data)
    return len(data)


def reachmap(store: Path, out: Path) -> dict:
    from dashboard.gazetteer import Gazetteer
    from dashboard.mapview import LAYER_NAMES, MapView, build_map, type_colour
    from dashboard.mapview.bulk import BULK_THRESHOLD, add_bulk_events, encode
    from dashboard.scene import load_basemap
    from dashboard.store import GeoPackageStore
    from dashboard.table import EventTable, select

    result: dict = {}
    t0 = time.perf_counter()
    # As the app has it (st.cache_resource): the basemap's tiles served from static/basemap.
    basemap = replace(load_basemap(Gazetteer.open()), served=True)
    result["setup_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    table = EventTable.from_store_path(store)  # cached per store file in the app
    result["load_s"] = time.perf_counter() - t0
    colours = {t: type_colour(t) for t in table.types}
    for tag, flt in FILTERS.items():
        t0 = time.perf_counter()
        rows = select(table, flt)
        t_select = time.perf_counter()
        if len(rows) > BULK_THRESHOLD:
            view = MapView(layers=tuple(k for k in LAYER_NAMES if k != "events"))
            m = build_map([], [], basemap, view)
            t_map = time.perf_counter()
            add_bulk_events(m, table, rows, colours, fit_bounds=True)
            mode = "clustered"
        else:  # what the app does below the threshold: read those events by id, one marker per point
            with GeoPackageStore.open(store) as s:
                events = s.events_by_id(table.id[rows].tolist())
            t_map = time.perf_counter()
            m = build_map(events, [], basemap)
            mode = "markers"
        t_layer = time.perf_counter()
        html = m.get_root().render()
        done = time.perf_counter()
        result[f"build_{tag}_s"] = done - t0
        result[f"n_{tag}"] = int(len(rows))
        result[f"html_{tag}"] = _write(out, f"reachmap-{tag}.html", html)
        result[f"mode_{tag}"] = mode
        result[f"parts_{tag}"] = {"select": t_select - t0, "map": t_map - t_select, "layer": t_layer - t_map,
                                  "render": done - t_layer}
        if mode == "clustered":
            result[f"payload_{tag}"] = len(encode(table, rows, colours).data)
    return result


def reachmap_swap(store: Path, out: Path) -> dict:
    """The filter change as streamlit-folium's ``feature_group_to_add`` makes it: the map stays, only the
    events layer of filter (b) is built and sent (as the JavaScript string st_folium sends), then swapped in.

    Not timed here: the base map, which st_folium also renders on every rerun unless the page caches it.
    """
    from streamlit_folium import _get_feature_group_string

    import folium

    from dashboard.gazetteer import Gazetteer
    from dashboard.mapview import LAYER_NAMES, MapView, build_map, type_colour
    from dashboard.mapview.bulk import add_bulk_events
    from dashboard.scene import load_basemap
    from dashboard.table import EventTable, select

    basemap = load_basemap(Gazetteer.open())
    table = EventTable.from_store_path(store)
    colours = {t: type_colour(t) for t in table.types}
    base = build_map([], [], basemap, MapView(layers=tuple(k for k in LAYER_NAMES if k != "events")))
    t0 = time.perf_counter()
    rows = select(table, FILTERS["b"])
    group = folium.FeatureGroup(name="Events")
    add_bulk_events(base, table, rows, colours, parent=group)
    script = _get_feature_group_string(group, base)
    result = {"swap_build_s": time.perf_counter() - t0, "swap_bytes": len(script.encode("utf-8"))}
    (out / "reachmap-b.swap.js").write_text(script, encoding="utf-8")
    return result


def reachmap_bare(store: Path, out: Path) -> dict:
    """The clustered layer alone on an empty map, at every size: like the baselines, no basemap."""
    import folium

    from dashboard.mapview import type_colour
    from dashboard.mapview.assets import localize
    from dashboard.mapview.bulk import add_bulk_events
    from dashboard.table import EventTable, select

    t0 = time.perf_counter()
    table = EventTable.from_store_path(store)
    result: dict = {"load_s": time.perf_counter() - t0}
    colours = {t: type_colour(t) for t in table.types}
    for tag, flt in FILTERS.items():
        t0 = time.perf_counter()
        rows = select(table, flt)
        m = folium.Map(location=(49.0, 32.0), zoom_start=5, tiles=None)
        add_bulk_events(m, table, rows, colours, fit_bounds=True)
        html = localize(m).get_root().render()
        result[f"build_{tag}_s"] = time.perf_counter() - t0
        result[f"n_{tag}"] = int(len(rows))
        result[f"html_{tag}"] = _write(out, f"reachmap_bare-{tag}.html", html)
    return result


def _load_gdf(store: Path):
    import geopandas as gpd

    return gpd.read_file(store, layer="events", engine="pyogrio",
                         columns=["event_id", "event_type", "t_start", "t_end", "countries", "title"])


def _filtered(gdf, flt: EventFilter):
    mask = (gdf["t_end"] >= flt.start.isoformat()) & (gdf["t_start"] <= flt.end.isoformat())
    wanted = gdf["countries"].str.contains(f",{flt.countries[0]},", regex=False)
    for code in flt.countries[1:]:
        wanted |= gdf["countries"].str.contains(f",{code},", regex=False)
    return gdf[mask & wanted]


def _baseline(store: Path, out: Path, name: str, page) -> dict:
    """Load the store as a GeoDataFrame (timed), then for each filter: select, build with `page(sub)`
    (a folium map, localised here), render and write the HTML."""
    from dashboard.mapview.assets import localize

    t0 = time.perf_counter()
    gdf = _load_gdf(store)
    result: dict = {"load_s": time.perf_counter() - t0}
    for tag, flt in FILTERS.items():
        t0 = time.perf_counter()
        sub = _filtered(gdf, flt)
        html = localize(page(sub)).get_root().render()
        result[f"build_{tag}_s"] = time.perf_counter() - t0
        result[f"n_{tag}"] = len(sub)
        result[f"html_{tag}"] = _write(out, f"{name}-{tag}.html", html)
    return result


def explore(store: Path, out: Path) -> dict:
    def page(sub):
        try:
            return sub[["event_id", "event_type", "t_start", "title", "geometry"]].explore(tiles=None)
        except ImportError as exc:
            raise SystemExit(f"{exc} — for the benchmark: pip install -r benchmarks/scale/requirements.txt") from exc

    return _baseline(store, out, "explore", page)


def markers(store: Path, out: Path) -> dict:
    import folium

    def page(sub):
        m = folium.Map(location=(49.0, 32.0), zoom_start=5, tiles=None)
        group = folium.FeatureGroup("Events").add_to(m)
        for lon, lat, eid, kind, day in zip(sub.geometry.x, sub.geometry.y, sub["event_id"], sub["event_type"],
                                            sub["t_start"]):
            folium.Marker((lat, lon), tooltip=f"{eid} · {kind} · {day}").add_to(group)
        return m

    return _baseline(store, out, "markers", page)


METHODS = {"reachmap": reachmap, "reachmap_swap": reachmap_swap, "reachmap_bare": reachmap_bare,
           "explore": explore, "markers": markers}


def main(argv: list[str]) -> None:
    method, store, out = argv
    result = METHODS[method](Path(store), Path(out))
    result["maxrss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(json.dumps(result))


if __name__ == "__main__":
    main(sys.argv[1:])
