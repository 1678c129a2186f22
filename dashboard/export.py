"""Hand a view to someone else: GeoJSON, KML, CSV, one offline HTML file, or a PNG rendered by Chromium.

Every function takes a `Scene` (the state, its selected events and resolved rings), so an export shows
exactly what the UI shows for the same query string. GeoJSON, KML and CSV carry every event's provenance
(source, publication date, quoted sentence); HTML and PNG are the app's own map, with a title box, the
date span, the query string, the legend, a scale bar and the sources named on the picture.
"""

from __future__ import annotations

import asyncio
import csv
import functools
import importlib
import io
import json
import shutil
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import date, datetime, timezone
from html import escape
from pathlib import Path

from shapely.geometry import MultiPolygon, Polygon, mapping
from shapely.geometry.base import BaseGeometry
from shapely.geometry.polygon import orient

from dashboard import settings
from dashboard.errors import DashboardError, ValidationError
from dashboard.mapview import RING_COLOURS, Basemap, type_colour
from dashboard.mapview.assets import external_urls, inline
from dashboard.model import Event
from dashboard.rings import Ring
from dashboard.scene import Scene, scene_map
from dashboard.share import describe, to_query
from dashboard.table import date_bounds as table_date_bounds
from dashboard.table import publishers_of

Progress = Callable[[float, str], None]

# Media type and file extension per format, for download buttons and `-o` names.
FORMATS: dict[str, tuple[str, str]] = {
    "png": ("image/png", ".png"),
    "html": ("text/html", ".html"),
    "geojson": ("application/geo+json", ".geojson"),
    "kml": ("application/vnd.google-earth.kml+xml", ".kml"),
    "csv": ("text/csv", ".csv"),
}
TEXT_FORMATS: tuple[str, ...] = ("html", "geojson", "kml", "csv")

EVENT_FIELDS: tuple[str, ...] = (
    "id", "title", "description", "event_type", "start", "end", "precision", "date_label", "time_text",
    "time_note", "place", "place_kind", "country", "admin1", "geonameid", "actors", "source_title",
    "source_publisher", "source_url", "source_published", "quote", "attributes")
RING_FIELDS: tuple[str, ...] = (
    "label", "kind", "radius_km", "origin", "origin_kind", "system", "munition", "range_source_title",
    "range_source_publisher", "range_source_url", "range_quote")
CSV_FIELDS: tuple[str, ...] = (*EVENT_FIELDS, "lon", "lat")

DECIMALS = 6  # about 0.1 m: more would be noise, fewer would move points
KML_NS = "http://www.opengis.net/kml/2.2"
# Google Earth's own white circle, tinted by IconStyle colour; KML readers other than Earth use their default.
KML_ICON = "https://maps.google.com/mapfiles/kml/shapes/placemark_circle.png"
CHROMIUM_ARGS: tuple[str, ...] = ("--headless=new", "--no-sandbox", "--disable-gpu",
                                  "--disable-background-networking", "--disable-component-update")
RENDER_TIMEOUT_MS = 30_000
MIN_PX, MAX_PX = 200, 8000
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # what spreadsheets read as the start of a formula


# ---------------------------------------------------------------------------------------------- words

def date_bounds(events: Iterable[Event]) -> tuple[date, date] | None:
    """First and last day of the events, or None when there are none."""
    events = list(events)
    if not events:
        return None
    return min(e.time.start for e in events), max(e.time.end for e in events)


def _bounds(scene: Scene) -> tuple[date, date] | None:
    # The app's scenes carry the events' rows of the columnar table: read the days there, not every event.
    if scene.table is not None and scene.rows is not None:
        return table_date_bounds(scene.table, scene.rows)
    return date_bounds(scene.events)


def _publishers(scene: Scene) -> set[str]:
    if scene.table is not None and scene.rows is not None:
        return publishers_of(scene.table, scene.rows)
    return {e.source.publisher for e in scene.events}


def summary(scene: Scene) -> str:
    """The selection in words ('1 event between 1 Jun and 30 Jun 2022 in UA'), plain text."""
    return describe(scene.state, len(scene.events), _bounds(scene))


def date_span(scene: Scene) -> str:
    """The days the view covers: the date filter, its open sides filled from the events shown."""
    bounds = _bounds(scene)
    start = scene.state.start or (bounds[0] if bounds else None)
    end = scene.state.end or (bounds[1] if bounds else None)
    if start is None and end is None:
        return "All dates"
    if start is None or end is None:
        return f"until {_day(end)}" if start is None else f"from {_day(start)}"  # type: ignore[arg-type]
    return _day(start) if start == end else f"{_day(start)} – {_day(end)}"


def _day(d: date) -> str:
    # Not strftime: %b follows the process locale and %-d is glibc-only.
    return f"{d.day} {'JanFebMarAprMayJunJulAugSepOctNovDec'[3 * d.month - 3:3 * d.month]} {d.year}"


def attribution(scene: Scene, limit: int = 8) -> str:
    """'Natural Earth; events: AFP, Reuters; ranges: CSIS Missile Threat', for the picture's corner."""
    parts = ["Natural Earth"]
    for what, names in (("events", _publishers(scene)),
                        ("ranges", {r.source.publisher for r in scene.rings if r.source})):
        if names:
            shown = sorted(names, key=str.casefold)
            more = f" and {len(shown) - limit} more" if len(shown) > limit else ""
            parts.append(f"{what}: {', '.join(shown[:limit])}{more}")
    return "; ".join(parts)


def filename(scene: Scene, fmt: str) -> str:
    """A download name such as 'reachmap-2022-06-01_2022-06-30.png'."""
    state = scene.state
    days = "_".join(d.isoformat() for d in (state.start, state.end) if d is not None)
    return f"reachmap{'-' + days if days else ''}{FORMATS[fmt][1]}"


# ---------------------------------------------------------------------------------------------- records

def event_record(e: Event) -> dict:
    """Every field of an event, provenance included, as JSON-ready values (actors a list)."""
    src, place = e.source, e.place
    return {
        "id": e.id, "title": e.title, "description": e.description, "event_type": e.event_type,
        "start": e.time.start.isoformat(), "end": e.time.end.isoformat(), "precision": e.time.precision,
        "date_label": e.time.label, "time_text": e.time.text, "time_note": e.time.note,
        "place": place.name, "place_kind": place.kind, "country": place.country, "admin1": place.admin1,
        "geonameid": place.geonameid, "actors": list(e.actors), "source_title": src.title,
        "source_publisher": src.publisher, "source_url": src.url,
        "source_published": src.published.isoformat() if src.published else None, "quote": src.quote,
        "attributes": dict(e.attributes),
    }


def ring_record(r: Ring) -> dict:
    """What a ring is and who declared its range."""
    src = r.source
    return {
        "label": r.label, "kind": r.kind, "radius_km": r.radius_km, "origin": r.origin.name,
        "origin_kind": r.origin.kind, "system": r.system, "munition": r.munition,
        "range_source_title": src.title if src else "", "range_source_publisher": src.publisher if src else "",
        "range_source_url": src.url if src else "", "range_quote": src.quote if src else "",
    }


def _polygons(geom: BaseGeometry) -> list[Polygon]:
    """The polygons of a ring, exteriors counter-clockwise and holes clockwise (RFC 7946 §3.1.6)."""
    parts = geom.geoms if isinstance(geom, MultiPolygon) else [geom]
    return [orient(p, 1.0) for p in parts if isinstance(p, Polygon) and not p.is_empty]


def _rounded(coords):
    if isinstance(coords[0], (int, float)):
        return [round(float(c), DECIMALS) for c in coords[:2]]
    return [_rounded(c) for c in coords]


def _meta(scene: Scene, title: str | None) -> dict:
    meta = {"query": to_query(scene.state), "summary": summary(scene), "date_span": date_span(scene),
            "exported_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    if title:
        meta["title"] = title
    if scene.problems:
        meta["problems"] = list(scene.problems)
    return meta


# ---------------------------------------------------------------------------------------------- GeoJSON

def to_geojson(scene: Scene, title: str | None = None) -> str:
    """An RFC 7946 FeatureCollection: rings and envelopes first, then one Point per event, all lon/lat."""
    features = []
    for ring in scene.rings:
        polys = _polygons(ring.geometry)
        if not polys:
            continue
        geom = mapping(polys[0] if len(polys) == 1 else MultiPolygon(polys))
        geom = {"type": geom["type"], "coordinates": _rounded(geom["coordinates"])}
        features.append({"type": "Feature", "geometry": geom, "properties": ring_record(ring)})
    for e in scene.events:
        features.append({"type": "Feature",
                         "geometry": {"type": "Point", "coordinates": _rounded(e.place.lonlat)},
                         "properties": event_record(e)})
    collection = {"type": "FeatureCollection", "features": features, "reachmap": _meta(scene, title)}
    return json.dumps(collection, ensure_ascii=False, allow_nan=False) + "\n"


# ---------------------------------------------------------------------------------------------- CSV

def _cell(value: object) -> object:
    if isinstance(value, dict):  # attributes: one JSON cell, so any file's extra columns fit one header
        value = json.dumps(value, ensure_ascii=False) if value else ""
    if isinstance(value, list):
        value = "; ".join(value)
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value  # a spreadsheet would run "=HYPERLINK(…)" from a source as a formula
    return value


def to_csv(scene: Scene) -> str:
    """One row per event with every field and its provenance, a header row, lists joined with '; '."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_FIELDS)
    for e in scene.events:
        record = event_record(e)
        lon, lat = _rounded(e.place.lonlat)
        writer.writerow([_cell(record[f]) for f in EVENT_FIELDS] + [lon, lat])
    return out.getvalue()


# ---------------------------------------------------------------------------------------------- KML

def kml_colour(hex_rgb: str, alpha: int = 255) -> str:
    """'#d62728' → 'ff2827d6': KML writes colours alpha, blue, green, red.

    >>> kml_colour("#d62728", 0x40)
    '402827d6'
    """
    rgb = hex_rgb.lstrip("#").lower()
    return f"{alpha:02x}{rgb[4:6]}{rgb[2:4]}{rgb[0:2]}"


def _sub(parent: ET.Element, tag: str, text: object = None, *, ns: bool = True, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, f"{{{KML_NS}}}{tag}" if ns else tag, attrs)
    if text is not None:
        el.text = str(text)
    return el


# Without the namespace: for placemarks serialised inside the KML document, whose default namespace they take.
_plain = functools.partial(_sub, ns=False)


def _extended_data(parent: ET.Element, record: dict, sub=_sub) -> None:
    data = sub(parent, "ExtendedData")
    for name, value in record.items():
        text = "" if value is None else "; ".join(value) if isinstance(value, list) else value
        sub(sub(data, "Data", name=name), "value", text)


def _kml_polygon(parent: ET.Element, poly: Polygon) -> None:
    el = _sub(parent, "Polygon")
    _sub(el, "tessellate", 1)
    for tag, ring in [("outerBoundaryIs", poly.exterior)] + [("innerBoundaryIs", r) for r in poly.interiors]:
        coords = " ".join(f"{x:.{DECIMALS}f},{y:.{DECIMALS}f},0" for x, y in ring.coords)
        _sub(_sub(_sub(el, tag), "LinearRing"), "coordinates", coords)


def _balloon(lines: Iterable[str | None]) -> str:
    # Google Earth reads a description as HTML. Without "<" no tag can start, so data shows as typed there;
    # "&" stays as it is, so URLs read right in Earth and in readers that show plain text (QGIS).
    return "\n".join(line.replace("<", "&lt;").replace(">", "&gt;") for line in lines if line)


_EVENTS_HERE = "reachmap-events"  # where the streamed placemarks go in the serialised document


def to_kml(scene: Scene, title: str | None = None) -> str:
    """KML 2.2 for Google Earth: a folder of range rings and a folder of events with their sources."""
    ET.register_namespace("", KML_NS)
    root = ET.Element(f"{{{KML_NS}}}kml")
    doc = _sub(root, "Document")
    _sub(doc, "name", title or summary(scene))
    _sub(doc, "description", _balloon([summary(scene), f"Dates: {date_span(scene)}",
                                       f"Query: {to_query(scene.state)}", *scene.problems]))
    types = sorted({e.event_type for e in scene.events})
    type_index = {t: i for i, t in enumerate(types)}
    for i, event_type in enumerate(types):
        style = _sub(doc, "Style", id=f"type-{i}")
        icon = _sub(style, "IconStyle")
        _sub(icon, "color", kml_colour(type_colour(event_type)))
        _sub(_sub(icon, "Icon"), "href", KML_ICON)
    for i, _ring in enumerate(scene.rings):
        colour = RING_COLOURS[i % len(RING_COLOURS)]  # the map's colours, in the map's order
        style = _sub(doc, "Style", id=f"ring-{i}")
        line = _sub(style, "LineStyle")
        _sub(line, "color", kml_colour(colour))
        _sub(line, "width", 2)
        _sub(_sub(style, "PolyStyle"), "color", kml_colour(colour, 0x30))

    folder = _sub(doc, "Folder")
    _sub(folder, "name", "Range rings")
    for i, ring in enumerate(scene.rings):
        mark = _sub(folder, "Placemark")
        _sub(mark, "name", ring.label)
        src = ring.source
        _sub(mark, "description", _balloon([
            ring.label, f"Origin: {ring.origin.name} ({ring.origin.kind})", f"Radius: {ring.radius_km:,.0f} km",
            src and f"Range: {src.publisher}, {src.title}", src and src.quote and f"“{src.quote}”",
            src and src.url]))
        _sub(mark, "styleUrl", f"#ring-{i}")
        _extended_data(mark, ring_record(ring))
        polys = _polygons(ring.geometry)
        holder = _sub(mark, "MultiGeometry") if len(polys) > 1 else mark
        for poly in polys:
            _kml_polygon(holder, poly)

    folder = _sub(doc, "Folder")
    _sub(folder, "name", "Events")
    folder.append(ET.Comment(_EVENTS_HERE))
    ET.indent(root)
    head, tail = ET.tostring(root, encoding="unicode", xml_declaration=True).split(f"<!--{_EVENTS_HERE}-->")
    # The events are written one Placemark at a time, without namespace (they inherit the document's
    # default one): a tree of 84,000 placemarks took 29 s and 2.8 GB to build and serialise.
    parts = [head.rstrip(" ")]
    for e in scene.events:
        mark = ET.Element("Placemark")
        _plain(mark, "name", e.title)
        span = _plain(mark, "TimeSpan")
        _plain(span, "begin", e.time.start.isoformat())
        _plain(span, "end", e.time.end.isoformat())
        src = e.source
        published = f" ({src.published.isoformat()})" if src.published else ""
        _plain(mark, "description", _balloon([
            e.title, e.time.label, f"{e.place.name}{', ' + e.place.country if e.place.country else ''}",
            e.description, src.quote and f"“{src.quote}”", f"Source: {src.publisher}, {src.title}{published}",
            src.url]))
        _plain(mark, "styleUrl", f"#type-{type_index[e.event_type]}")
        _extended_data(mark, event_record(e), _plain)
        lon, lat = _rounded(e.place.lonlat)
        _plain(_plain(mark, "Point"), "coordinates", f"{lon},{lat},0")
        ET.indent(mark, level=3)
        parts.append("      " + ET.tostring(mark, encoding="unicode") + "\n")
    parts.append(tail.lstrip("\n"))
    return "".join(parts).rstrip("\n") + "\n"


# ---------------------------------------------------------------------------------------------- HTML

_EXPORT_CSS = """
.rm-export-title { position: absolute; top: 10px; left: 56px; z-index: 1001; max-width: min(560px, 60%);
  background: rgba(255,255,255,.94); padding: 8px 12px; border-radius: 4px; box-shadow: 0 1px 4px rgba(0,0,0,.3);
  font: 13px/1.35 system-ui, sans-serif; color: #222; }
.rm-export-title h1 { font-size: 17px; line-height: 1.25; margin: 0 0 3px; font-weight: 650; }
.rm-export-title p { margin: 0; }
.rm-export-title .rm-export-query { font: 11px/1.3 ui-monospace, monospace; color: #555; word-break: break-all;
  margin-top: 3px; }
.rm-export-credit { position: absolute; right: 10px; bottom: 22px; z-index: 1001; max-width: 60%;
  background: rgba(255,255,255,.88); padding: 2px 6px; border-radius: 3px; font: 11px/1.3 system-ui, sans-serif;
  color: #333; }
/* Leaflet's scale bar has two lines (km, mi); the legend sits above both. */
.rm-legend { bottom: 52px; }
"""
# A picture has no buttons to press: the top controls (zoom, full screen, layers) go.
_PNG_CSS = ".leaflet-top .leaflet-control { display: none; } .rm-export-title { left: 10px; }"


def _page(scene: Scene, basemap: Basemap, title: str | None, *, picture: bool) -> str:
    """The exported map page: the app's map, non-interactive extras off, with title box and credits.

    It opens on the offline vector map whatever the state's base: an online base would load tiles as the
    file opens (and draw nothing in a PNG, whose browser may not reach the network). The online bases stay
    in the layer menu of an HTML export, for a reader who chooses to load them.
    """
    offline = replace(scene, state=scene.state.with_(base="vector")) if scene.state.base != "vector" else scene
    html = scene_map(offline, basemap, interactive=False).get_root().render()
    heading = title or summary(scene)
    lines = [f"<h1>{escape(heading)}</h1>"]
    if title:
        lines.append(f"<p>{escape(summary(scene))}</p>")
    lines.append(f"<p>Dates: {escape(date_span(scene))}</p>")
    lines.append(f'<p class="rm-export-query">{escape(to_query(scene.state))}</p>')
    overlay = (f'<div class="rm-export-title">{"".join(lines)}</div>'
               f'<div class="rm-export-credit">{escape(attribution(scene))}</div>')
    head = (f"<title>{escape(heading)}</title><style>{_EXPORT_CSS}{_PNG_CSS if picture else ''}</style>")
    try:
        end_head = html.index("</head>")
        body = html.index("<body>", end_head) + len("<body>")
    except ValueError:
        raise DashboardError("The map page has no <head> or <body>; cannot add the title box.") from None
    html = html[:end_head] + head + html[end_head:body] + overlay + html[body:]
    page = inline(html)
    loads = external_urls(page)
    if loads or "/app/static" in page:
        raise DashboardError(f"The exported page would not open offline; it loads {loads[:3] or '/app/static'}.")
    return page


def to_html(scene: Scene, basemap: Basemap, title: str | None = None) -> str:
    """One self-contained HTML file of the map the app shows; it opens from disk with no network."""
    return _page(scene, basemap, title, picture=False)


# ---------------------------------------------------------------------------------------------- PNG

# Ready when the page has loaded and Leaflet has drawn at least one vector path or marker (when any is due).
_READY_JS = """(wantVectors) => {
  if (document.readyState !== "complete") return false;
  const map = document.querySelector(".folium-map.leaflet-container");
  if (!map || !map.querySelector(".leaflet-map-pane")) return false;
  return !wantVectors || map.querySelector("path.leaflet-interactive, .leaflet-marker-icon") !== null;
}"""
# Fonts loaded, then two frames: the first lays out what was drawn, the second has painted it.
_PAINTED_JS = ("() => document.fonts.ready.then(() => new Promise("
               "r => requestAnimationFrame(() => requestAnimationFrame(r))))")


def _size(value: int, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not MIN_PX <= value <= MAX_PX:
        raise ValidationError(name, value, f"must be a whole number of pixels from {MIN_PX} to {MAX_PX}")
    return value


def _draws_something(scene: Scene, basemap: Basemap) -> bool:
    shown = set(scene.state.layers)
    return bool(("countries" in shown and basemap.countries.get("features")) or
                ("events" in shown and scene.events) or ("capitals" in shown and basemap.capitals) or
                ({"rings", "reach"} & shown and scene.rings) or ("border" in shown and basemap.border is not None))


def _chromium() -> str:
    path = settings.get("chromium_path")
    found = shutil.which(path)  # an executable file, or a command name on PATH ("chromium")
    if found is None:
        raise DashboardError(f"Chromium was not found at {path}; install Debian's chromium package "
                             "(apt-get install chromium) or set REACHMAP_CHROMIUM_PATH.")
    return found


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _render_png(page_html: str, executable: str, width: int, height: int, want_vectors: bool,
                say: Progress) -> bytes:
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="reachmap-png-") as tmp:
        path = Path(tmp) / "map.html"
        path.write_text(page_html, encoding="utf-8")
        try:
            with sync_playwright() as pw:
                say(0.35, "Starting the browser")
                browser = pw.chromium.launch(executable_path=executable, args=list(CHROMIUM_ARGS))
                try:
                    page = browser.new_page(viewport={"width": width, "height": height}, device_scale_factor=1,
                                            service_workers="block")
                    # Nothing but the file itself and its data: URIs; an export never touches the network.
                    page.route("**/*", lambda route: route.continue_()
                               if route.request.url.startswith(("file:", "data:")) else route.abort())
                    say(0.55, "Rendering the map")
                    page.goto(path.as_uri(), wait_until="load", timeout=RENDER_TIMEOUT_MS)
                    page.wait_for_function(_READY_JS, arg=want_vectors, timeout=RENDER_TIMEOUT_MS, polling="raf")
                    page.evaluate(_PAINTED_JS)
                    say(0.85, "Saving the image")
                    png = page.screenshot(type="png", full_page=False)
                finally:
                    browser.close()
        except PlaywrightError as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise DashboardError(f"Chromium could not draw the map: {first}") from None
    return png


def to_png(scene: Scene, basemap: Basemap, width: int = 1600, height: int = 1000, title: str | None = None,
           progress: Progress | None = None) -> bytes:
    """The exported map as a PNG of width × height pixels, drawn by the system's headless Chromium offline."""
    say = progress or (lambda fraction, message: None)
    width, height = _size(width, "width"), _size(height, "height")
    executable = _chromium()
    try:
        importlib.import_module("playwright.sync_api")
    except ImportError:
        raise DashboardError("PNG export needs the playwright package: pip install playwright "
                             "(it drives the system Chromium; no browser download is needed).") from None
    say(0.05, "Building the map")
    page_html = _page(scene, basemap, title, picture=True)
    want_vectors = _draws_something(scene, basemap)
    args = (page_html, executable, width, height, want_vectors, say)
    if not _loop_running():
        png = _render_png(*args)
    else:
        # Playwright's sync API refuses a thread that already runs an asyncio loop (another Playwright,
        # a notebook): render in a thread of its own there.
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="reachmap-png") as pool:
            png = pool.submit(_render_png, *args).result()
    say(1.0, "Done")
    return png


# ---------------------------------------------------------------------------------------------- any

def export(scene: Scene, basemap: Basemap | None, fmt: str, *, title: str | None = None, width: int = 1600,
           height: int = 1000, progress: Progress | None = None) -> bytes:
    """The export in `fmt` (a key of FORMATS) as bytes, text formats UTF-8; `basemap` only for png/html."""
    if fmt not in FORMATS:
        raise ValidationError("format", fmt, f"must be one of {', '.join(FORMATS)}")
    if fmt in ("png", "html") and basemap is None:
        raise ValidationError("basemap", basemap, f"is needed for {fmt}")
    if fmt == "png":
        return to_png(scene, basemap, width, height, title, progress)  # type: ignore[arg-type]
    text = {"html": lambda: to_html(scene, basemap, title),  # type: ignore[arg-type]
            "geojson": lambda: to_geojson(scene, title), "kml": lambda: to_kml(scene, title),
            "csv": lambda: to_csv(scene)}[fmt]()
    return text.encode("utf-8")
