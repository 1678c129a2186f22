"""Hand a view to someone else: GeoJSON, KML, CSV, one offline HTML file, or a PNG rendered by Chromium.

Every function takes a `Scene` (the state, its selected events and resolved rings), so an export shows
exactly what the UI shows for the same query string. GeoJSON, KML and CSV carry every event's provenance
(source, publication date, quoted sentence); HTML and PNG are the app's own map, with a title box, the
date span, the query string, the legend, a scale bar and the sources named on the picture.

One module per format: `geojson`, `kml`, `tabular` (CSV), `page` (HTML), `png`, `animation` (MP4, WebM
and GIF of the playback); `records` and `words`
hold what they share, `columns` the Arrow encoders the text formats use when the events come as the
store's columns (the CLI's way: `GeoPackageStore.record_tables`), `output` the file written whole or not
at all. Each format's module (the map formats bring folium) is imported only when it is asked for.
"""

from __future__ import annotations

import importlib
import io
from typing import TYPE_CHECKING, BinaryIO, TextIO

from dashboard.errors import ValidationError
from dashboard.export.records import DECIMALS, EVENT_FIELDS, RING_FIELDS, event_record, ring_record
from dashboard.export.words import (FORMATS, TEXT_FORMATS, attribution, date_bounds, date_span, filename,
                                    summary)

if TYPE_CHECKING:
    from dashboard.export.geojson import to_geojson, write_geojson
    from dashboard.export.kml import KML_NS, kml_colour, to_kml, to_kmz, write_kml, xml_text
    from dashboard.export.page import map_page, to_html
    from dashboard.export.png import MAX_PX, MIN_PX, Progress, to_png
    from dashboard.export.tabular import CSV_FIELDS, to_csv, write_csv
    from dashboard.mapview import Basemap
    from dashboard.scene import Scene

# Each format's module is imported when first asked for: the map formats need folium and the map's modules
# (most of a second), and a CSV export need not compile the KML and GeoJSON writers either.
_LAZY = {"map_page": "page", "to_html": "page", "MAX_PX": "png", "MIN_PX": "png", "Progress": "png",
         "to_png": "png", "to_geojson": "geojson", "write_geojson": "geojson", "KML_NS": "kml",
         "kml_colour": "kml", "to_kml": "kml", "to_kmz": "kml", "write_kml": "kml", "xml_text": "kml",
         "CSV_FIELDS": "tabular", "to_csv": "tabular", "write_csv": "tabular"}


def __getattr__(name: str):
    if name in _LAZY:
        return getattr(importlib.import_module(f"dashboard.export.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["ANIMATIONS", "PICTURES", "CSV_FIELDS", "DECIMALS", "EVENT_FIELDS", "FORMATS", "KML_NS", "MAX_PX", "MIN_PX", "RING_FIELDS",
           "TEXT_FORMATS", "Progress", "attribution", "date_bounds", "date_span", "event_record", "export",
           "STREAMED", "filename", "kml_colour", "map_page", "ring_record", "stream", "summary", "to_csv",
           "to_geojson", "to_html", "to_kml", "to_kmz", "to_png", "xml_text"]

# Formats written as they are made, a batch of events at a time (`stream`): the same bytes as `export`.
STREAMED: tuple[str, ...] = ("geojson", "kml", "csv")


ANIMATIONS: tuple[str, ...] = ("mp4", "webm", "gif")  # the playback's frames (export.animation)
PICTURES: tuple[str, ...] = ("png", "html", *ANIMATIONS)  # drawn on the map: they need the basemap


def export(scene: Scene, basemap: Basemap | None, fmt: str, *, title: str | None = None, width: int | None = None,
           height: int | None = None, progress: Progress | None = None, fps: int = 4, ahead=None) -> bytes:
    """The export in `fmt` (a key of FORMATS) as bytes, text formats UTF-8; `basemap` only for PICTURES.

    `width`×`height`: pixels of a PNG (default 1600×1000) or an animation (1280×720); `fps`: an animation's
    frames a second (its window and step are the paused frame's, share.Frame, else 7 days and 1 day).
    `ahead`: for png, a browser already started by `png.start` (the CLI starts it before loading data)."""
    if fmt not in FORMATS:
        raise ValidationError("format", fmt, f"must be one of {', '.join(FORMATS)}")
    if fmt in PICTURES and basemap is None:
        raise ValidationError("basemap", basemap, f"is needed for {fmt}")
    if fmt in ANIMATIONS:
        from dashboard.export.animation import to_animation

        return to_animation(scene, basemap, fmt, width=width, height=height,  # type: ignore[arg-type]
                            fps=fps, title=title, progress=progress)
    width, height = width or 1600, height or 1000
    if fmt == "png":
        from dashboard.export.png import to_png

        return to_png(scene, basemap, width, height, title, progress, ahead=ahead)  # type: ignore[arg-type]
    if fmt == "kmz":
        from dashboard.export.kml import to_kmz

        return to_kmz(scene, title)
    if fmt == "html":
        from dashboard.export.page import to_html

        return to_html(scene, basemap, title).encode("utf-8")  # type: ignore[arg-type]
    text = io.StringIO()
    _write(fmt, scene, text, title)
    return text.getvalue().encode("utf-8")


def stream(scene: Scene, fmt: str, out: BinaryIO, *, title: str | None = None) -> None:
    """The export in `fmt` (one of STREAMED), written to `out` as UTF-8 while it is made: the bytes of
    `export`, without the whole file in memory."""
    if fmt not in STREAMED:
        raise ValidationError("format", fmt, f"must be one of {', '.join(STREAMED)} to be streamed")
    text = io.TextIOWrapper(out, encoding="utf-8", newline="")
    try:
        _write(fmt, scene, text, title)
        text.flush()
    finally:
        text.detach()  # `out` stays open: it is the caller's


_WRITERS = {"geojson": ("geojson", "write_geojson"), "kml": ("kml", "write_kml"), "csv": ("tabular", "write_csv")}


def _write(fmt: str, scene: Scene, out: TextIO, title: str | None) -> None:
    """The text export in `fmt` written to `out`, its format's module imported now (see _LAZY)."""
    module, name = _WRITERS[fmt]
    write = getattr(importlib.import_module(f"dashboard.export.{module}"), name)
    write(scene, out) if fmt == "csv" else write(scene, out, title)  # a CSV has no place for a title
