"""CSV for spreadsheets: one row per event with its provenance; no cell a spreadsheet runs as a formula."""

from __future__ import annotations

import csv
import io
import json

from dashboard.export.records import EVENT_FIELDS, _rounded, event_record
from dashboard.scene import Scene

CSV_FIELDS: tuple[str, ...] = (*EVENT_FIELDS, "lon", "lat")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # what spreadsheets read as the start of a formula


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
