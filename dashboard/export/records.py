"""Events and rings as flat records with their provenance, the same for GeoJSON, KML and CSV."""

from __future__ import annotations

import itertools
import queue
import threading
import json
import json.encoder
from collections.abc import Iterable, Iterator
from datetime import date, datetime, timezone
from typing import TYPE_CHECKING, Any

import msgspec
import pyarrow as pa
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry
from shapely.geometry.polygon import orient

from dashboard.export import columns as arrow
from dashboard.export.words import date_span, summary
from dashboard.model import Event, span_label
from dashboard.share import to_query

if TYPE_CHECKING:  # not imported with an export: scene brings the map (folium), which text formats need not
    from dashboard.rings import Ring
    from dashboard.scene import Scene

EVENT_FIELDS: tuple[str, ...] = (
    "id", "title", "description", "event_type", "start", "end", "precision", "date_label", "time_text",
    "time_note", "place", "place_kind", "country", "admin1", "geonameid", "actors", "source_title",
    "source_publisher", "source_url", "source_published", "quote", "attributes")
RING_FIELDS: tuple[str, ...] = (
    "label", "kind", "radius_km", "origin", "origin_kind", "system", "munition", "range_source_title",
    "range_source_publisher", "range_source_url", "range_quote", "valid_from", "valid_until", "valid_approximate",
    "valid_source_title", "valid_source_url", "valid_quote")

DECIMALS = 6  # about 0.1 m: more would be noise, fewer would move points


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


BATCH = 2_000  # events per batch: a few MB of text, so memory stays flat whatever the number of events
# (10,000 took a tenth more time and 150 MB more at 100k events: strings of 36 MB, each mapped and unmapped)
_make_encoder = json.encoder.c_make_encoder  # type: ignore[attr-defined]
_dump = _make_encoder and _make_encoder(None, None, json.encoder.encode_basestring, None, ": ", ", ", False, False,
                                        False)
# json.dumps(value, ensure_ascii=False, allow_nan=False) of a dict of text, without building an encoder per call:
# that took half the time of an export of ACLED rows (their attributes are a dozen pairs each).


def attributes_text(attributes: dict) -> str:
    """The attributes as CSV and KML write them: one JSON object, or nothing when there are none."""
    if not attributes:
        return ""
    if _dump and set(map(type, attributes)) <= {str} and set(map(type, attributes.values())) <= {str}:
        return "".join(_dump(attributes, 0))
    return json.dumps(attributes, ensure_ascii=False, allow_nan=False)


def record_batches(scene: Scene, size: int | None = None) -> Iterator[dict[str, list]]:
    """The scene's events in order as batches of columns: EVENT_FIELDS with the values `event_record` gives
    (actors a list of text), except "attributes", which holds `attributes_text`; plus "lon" and "lat"
    rounded to DECIMALS. `size` events a batch, BATCH by default.

    From the store's flat rows when the scene's events can give them (StoredEvents.rows: no Event is built),
    else from the events. Formats write each batch column by column and then row by row, as they go.
    """
    size = size or BATCH
    rows = getattr(scene.events, "rows", None)
    rows = rows() if rows is not None else None
    if rows is None:
        events = iter(scene.events)
        while chunk := list(itertools.islice(events, size)):
            records = [event_record(e) for e in chunk]
            batch = {name: [r[name] for r in records] for name in EVENT_FIELDS}
            batch["attributes"] = list(map(attributes_text, batch["attributes"]))
            _add_lonlat(batch, *zip(*(e.place.lonlat for e in chunk)))
            yield batch
        return
    labels: dict[tuple, str] = {}
    while chunk := list(itertools.islice(rows, size)):
        (event_id, title, description, event_type, start, end, precision, text, note, place, kind, country, admin1,
         geonameid, actors, source_title, publisher, url, published, quote, attributes, lon, lat) = zip(*chunk)
        del chunk
        for key in set(zip(start, end, precision, text)).difference(labels):
            labels[key] = span_label(date.fromisoformat(key[0]), date.fromisoformat(key[1]), key[2], key[3])
        actor_lists = {a: _texts(_loads(a)) for a in set(actors)}  # a few hundred combinations at most
        batch = {
            "id": list(event_id), "title": list(title), "description": list(description),
            "event_type": list(event_type), "start": list(start), "end": list(end), "precision": list(precision),
            "date_label": list(map(labels.__getitem__, zip(start, end, precision, text))),
            "time_text": list(text), "time_note": list(note), "place": list(place), "place_kind": list(kind),
            "country": list(country), "admin1": list(admin1), "geonameid": list(geonameid),
            "actors": list(map(actor_lists.__getitem__, actors)), "source_title": list(source_title),
            "source_publisher": list(publisher), "source_url": list(url),
            "source_published": [p or None for p in published], "quote": list(quote),
            "attributes": list(map(_stored_attributes, attributes)),
        }
        _add_lonlat(batch, lon, lat)
        yield batch


def column_batches(scene: Scene) -> Iterator[dict[str, Any]] | None:
    """The scene's events as batches of Arrow columns, when its events can give them (StoredEvents.columns:
    the store's record columns read in C); None otherwise, and the formats take `record_batches`.

    Each batch holds EVENT_FIELDS as the values `record_batches` gives, as Arrow arrays: "date_label" made,
    "source_published" null where there is none, "attributes" as `attributes_text`; except "actors", still
    the store's JSON list (see `actor_lists`); plus "lon" and "lat" as lists of floats rounded to DECIMALS.
    """
    columns = getattr(scene.events, "columns", None)
    tables = columns() if columns is not None else None
    if tables is None:
        return None
    return (_column_batch(table) for table in read_ahead(tables))


_END = object()


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def read_ahead(items: Iterator[Any]) -> Iterator[Any]:
    """The items of `items`, in order, each next one read in a thread while this one is used: GDAL reads
    the next batch of columns in C while Python encodes this one, on the machine's other core (a 100k CSV:
    0.5 s less). An error of the reader is raised here; when the caller stops early, the reader stops and
    `items` is closed in its own thread (a store it opened is closed)."""
    ready: queue.Queue = queue.Queue(maxsize=1)
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                ready.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def read() -> None:
        try:
            for item in items:
                if not put(item):
                    return
            put(_END)
        except BaseException as error:  # noqa: BLE001 (handed over and raised in the caller's thread)
            put(_Failed(error))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    reader = threading.Thread(target=read, name="export-read-ahead", daemon=True)
    reader.start()
    try:
        while (item := ready.get()) is not _END:
            if isinstance(item, _Failed):
                raise item.error
            yield item
    finally:
        stop.set()
        reader.join()


def _column_batch(table: pa.Table) -> dict[str, Any]:
    batch = {name: table.column(name).combine_chunks() for name in table.column_names}
    start, end, precision, text = (arrow.text(batch[n]) for n in ("start", "end", "precision", "time_text"))
    # The fields cannot hold NUL (dates and a precision word come first), so the key splits back as it was.
    batch["date_label"] = arrow.per_distinct(arrow.joined(start, "\x00", end, "\x00", precision, "\x00", text),
                                             _label)
    batch["source_published"] = arrow.empty_as_null(arrow.text(batch["source_published"]))
    # One by one, as record_batches does: rewriting the lists in C ran no faster (each is text of its own).
    batch["attributes"] = pa.array(map(_stored_attributes, batch["attributes"].to_pylist()), pa.string(),
                                   size=len(table))
    lon, lat = batch.pop("lon"), batch.pop("lat")
    _add_lonlat(batch, lon.to_numpy(zero_copy_only=False).tolist(), lat.to_numpy(zero_copy_only=False).tolist())
    return batch


def _label(key: str) -> str:
    start, end, precision, text = key.split("\x00", 3)
    return span_label(date.fromisoformat(start), date.fromisoformat(end), precision, text)


def actor_lists(stored: str) -> list[str]:
    """The actors of the store's JSON list, as text."""
    return _texts(_loads(stored))


_loads = msgspec.json.decode  # the store's own JSON lists, five times faster than json.loads
_text_pairs = msgspec.json.Decoder(list[tuple[str, str]]).decode  # and checks they are text as it goes


def _stored_attributes(stored: str) -> str:
    """attributes_text of the store's JSON list of (name, value) pairs."""
    if stored == "[]":
        return ""
    try:
        found = dict(_text_pairs(stored))
    except msgspec.ValidationError:  # not all text: a store written by other software
        return attributes_text(_text_dict(_loads(stored)))
    return "".join(_dump(found, 0)) if found and _dump else attributes_text(found)


def _add_lonlat(batch: dict[str, list], lon: Iterable[float], lat: Iterable[float]) -> None:
    # _rounded((lon, lat)), a column at a time
    batch["lon"], batch["lat"] = [round(float(x), DECIMALS) for x in lon], [round(float(y), DECIMALS) for y in lat]


def _texts(values: list) -> list[str]:
    return values if set(map(type, values)) <= {str} else [str(v) for v in values]


def _text_dict(pairs: list) -> dict[str, str]:
    """Stored (name, value) pairs as a dict of text, as Event attributes are (a store written by other
    software may hold numbers)."""
    found = dict(pairs)
    if set(map(type, found)) <= {str} and set(map(type, found.values())) <= {str}:
        return found
    return {str(k): str(v) for k, v in pairs}


def ring_record(r: Ring) -> dict:
    """What a ring is and who declared its range."""
    src = r.source
    return {
        "label": r.label, "kind": r.kind, "radius_km": r.radius_km, "origin": r.origin.name,
        "origin_kind": r.origin.kind, "system": r.system, "munition": r.munition,
        "range_source_title": src.title if src else "", "range_source_publisher": src.publisher if src else "",
        "range_source_url": src.url if src else "", "range_quote": src.quote if src else "",
        **valid_record(r),
    }


def valid_record(r: Ring) -> dict:
    """The days a dated ring holds and who dates it ("" for an open end; all empty for an undated ring)."""
    valid = r.valid
    src = valid.source if valid else None
    return {"valid_from": valid.start.isoformat() if valid and valid.start else "",
            "valid_until": valid.end.isoformat() if valid and valid.end else "",
            "valid_approximate": bool(valid and valid.approximate), "valid_source_title": src.title if src else "",
            "valid_source_url": src.url if src else "", "valid_quote": src.quote if src else ""}


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
    if scene.dormant:  # dated rings whose days miss the view's: named, not drawn
        meta["rings_not_drawn"] = [{"label": r.label, **valid_record(r)} for r in scene.dormant]
    return meta
