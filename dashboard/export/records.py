"""Events and rings as flat records with their provenance, the same for GeoJSON, KML and CSV."""

from __future__ import annotations

import collections
import itertools
import queue
import threading
import json
import json.encoder
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime, timezone
from typing import TYPE_CHECKING, Any

import msgspec
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry
from shapely.geometry.polygon import orient

from dashboard.export import columns as arrow
from dashboard.export.words import date_span, summary
from dashboard.geodesy import split_antimeridian
from dashboard.model import Event, span_label
from dashboard.share import to_query

if TYPE_CHECKING:  # not imported with an export: scene brings the map (folium), which text formats need not
    from dashboard.rings import BearingLine, Ring
    from dashboard.scene import Scene

EVENT_FIELDS: tuple[str, ...] = (
    "id", "title", "description", "event_type", "start", "end", "precision", "date_label", "time_text",
    "time_note", "place", "place_kind", "country", "admin1", "geonameid", "actors", "source_title",
    "source_publisher", "source_url", "source_published", "quote", "attributes")
RING_FIELDS: tuple[str, ...] = (
    "label", "kind", "radius_km", "origin", "origin_kind", "system", "munition", "range_source_title",
    "range_source_publisher", "range_source_url", "range_quote", "valid_from", "valid_until", "valid_approximate",
    "valid_source_title", "valid_source_url", "valid_quote",
    # A ring of a site table (sites=…): the table, the site and who places it there.
    "layer", "site", "min_km", "site_located", "site_source_title", "site_source_publisher", "site_source_url",
    "site_source_published", "site_quote")

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
    the store's JSON list (see `actor_lists`); plus "lon" and "lat" as numpy arrays of the stored floats, which
    `lonlat_texts` writes as record_batches' values (rounded to DECIMALS) are written.
    """
    columns = getattr(scene.events, "columns", None)
    tables = columns() if columns is not None else None
    if tables is None:
        return None
    # Made in the read-ahead thread too: a batch's labels and attributes are Arrow and numpy work that lets
    # go of the GIL, done while the format writes the batch before it.
    return read_ahead(_column_batches(tables))


def _column_batches(tables: Iterator[pa.Table]) -> Iterator[dict[str, Any]]:
    """_column_batch of each table; closing this closes `tables` at once, in the closing thread (read_ahead
    closes its items in its reader thread, where a store opened by `tables` was opened)."""
    try:
        for table in tables:
            yield _column_batch(table)
    finally:
        close = getattr(tables, "close", None)
        if close is not None:
            close()


_END = object()


def read_in_threads(ids: Sequence, read: Callable[[Sequence], Iterable[pa.Table]], batch: int = 10_000,
                    workers: int = 2) -> Iterator[pa.Table]:
    """The tables of read(part) for each part of `batch` ids in turn, in order, `workers` parts read at once
    in threads (GDAL reads in C without the GIL: a 100k export reads its store in 1.7 s of CPU, more than
    encoding it takes, and the machine has a core for each). `read` is called in those threads, so it opens
    what it reads from there (a store's SQLite connection is for one thread). At most `workers` parts are
    read ahead of the one taken; a worker's error is raised here, in order."""
    parts = (ids[at:at + batch] for at in range(0, len(ids), batch))
    with ThreadPoolExecutor(workers, thread_name_prefix="export-read") as pool:
        pending = collections.deque(pool.submit(_listed, read, part) for part in itertools.islice(parts, workers))
        try:
            while pending:
                tables = pending.popleft().result()
                pending.extend(pool.submit(_listed, read, part) for part in itertools.islice(parts, 1))
                yield from tables
        finally:
            for future in pending:
                future.cancel()


def _listed(read: Callable[[Sequence], Iterable[pa.Table]], part: Sequence) -> list[pa.Table]:
    return list(read(part))


class _Failed:
    def __init__(self, error: BaseException) -> None:
        self.error = error


def read_ahead(items: Iterator[Any]) -> Iterator[Any]:
    """The items of `items`, in order, each next one read in a thread while this one is used: GDAL reads
    the next batch of columns in C while Python encodes this one, on the machine's other core (a 100k CSV:
    0.5 s less). An error of the reader is raised here; when the caller stops early, the reader stops and
    `items` is closed in its own thread (a store it opened is closed).

    The reader starts on the next item only once this one is taken, so two are held at a time, never a third
    waiting in line (a batch of columns is some 20 MB)."""
    items = iter(items)
    ready: queue.Queue = queue.Queue()
    taken = threading.Semaphore(1)  # released when the caller takes an item: the reader may read one more
    stop = threading.Event()

    def may_read() -> bool:
        while not stop.is_set():
            if taken.acquire(timeout=0.05):
                return True
        return False

    def read() -> None:
        try:
            while may_read():
                try:
                    item = next(items)
                except StopIteration:
                    ready.put(_END)
                    return
                ready.put(item)
        except BaseException as error:  # noqa: BLE001 (handed over and raised in the caller's thread)
            ready.put(_Failed(error))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    reader = threading.Thread(target=read, name="export-read-ahead", daemon=True)
    reader.start()
    try:
        while (item := ready.get()) is not _END:
            taken.release()
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
    batch["attributes"] = attributes_column(batch["attributes"])
    batch["lon"], batch["lat"] = (batch[name].to_numpy(zero_copy_only=False) for name in ("lon", "lat"))
    return batch


def lonlat_texts(batch: dict[str, Any]) -> tuple[pa.Array, pa.Array]:
    """The lon and lat of a column batch as text: repr of each value rounded to DECIMALS (see _add_lonlat)."""
    return arrow.rounded_reprs(batch["lon"], DECIMALS), arrow.rounded_reprs(batch["lat"], DECIMALS)


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


# The store's list of (name, value) pairs as its own encoder writes it (", " between items), every text
# without an escape: then every quote is a text's first or last character, four to a pair.
_PLAIN_TEXT = r'"[^"\\\x00-\x1f]*"'
_PLAIN_PAIR = rf"\[{_PLAIN_TEXT}, {_PLAIN_TEXT}\]"
_PLAIN_PAIRS = rf"^\[{_PLAIN_PAIR}(?:, {_PLAIN_PAIR})*\]$"


def attributes_column(stored: pa.Array) -> pa.Array:
    """_stored_attributes of each value of the store's attributes column: in C for the lists in the plain
    form (_PLAIN_PAIRS) that name no attribute twice (`_plain_objects`); one by one for any other (an escape,
    a number, a name twice: dict() keeps one)."""
    stored = arrow.text(stored)
    empty = pc.equal(stored, "[]").to_numpy(zero_copy_only=False)
    plain = np.flatnonzero(pc.match_substring_regex(stored, _PLAIN_PAIRS).to_numpy(zero_copy_only=False))
    made, twice = _plain_objects(stored.take(pa.array(plain))) if len(plain) else (pa.array([], pa.string()), [])
    if len(plain) == len(stored) and not np.any(twice):
        return made
    where = np.full(len(stored), len(plain), dtype=np.int64)  # "" after the others, for "[]"
    where[plain] = np.arange(len(plain))
    slow = np.ones(len(stored), dtype=bool)
    slow[plain[~np.asarray(twice, dtype=bool)]] = False
    slow &= ~empty
    slow_rows = np.flatnonzero(slow)
    where[slow_rows] = len(plain) + 1 + np.arange(len(slow_rows))
    texts = stored.take(pa.array(slow_rows)).to_pylist()
    return pa.concat_arrays([made, pa.array([""]), pa.array(map(_stored_attributes, texts), pa.string())]).take(
        pa.array(where))


def _plain_objects(plain: pa.Array) -> tuple[pa.Array, np.ndarray]:
    """The lists of a column in the plain form (_PLAIN_PAIRS) as JSON objects, as json.dumps writes their
    dict, and per list whether it names an attribute twice (its object is then not the dict's).

    '[["a", "1"], ["b", "2"]]' is '{"a": "1", "b": "2"}': with every quote a text's end (four to a pair),
    the object is the list with "[[" as "{", each ", " after a name as ": ", each "], [" as ", " and "]]" as "}",
    made on the column's bytes at once."""
    data = np.frombuffer(arrow.utf8(plain), np.uint8)
    _, offsets, _ = plain.buffers()
    ends = np.frombuffer(offsets, dtype=np.int32)[plain.offset:plain.offset + len(plain) + 1].astype(np.int64)
    ends -= ends[0]
    quotes = np.flatnonzero(data == ord('"'))
    name_start, name_end, value_end = quotes[0::4], quotes[1::4], quotes[3::4]
    pairs = np.diff(np.searchsorted(quotes, ends)) // 4  # each row's quotes lie between its ends
    row = np.repeat(np.arange(len(plain)), pairs)
    out = data.copy()
    out[name_end + 1] = ord(":")
    out[ends[:-1]] = ord("{")
    out[ends[1:] - 1] = ord("}")
    keep = np.ones(len(out), dtype=bool)
    keep[ends[:-1] + 1] = False  # the second "["
    keep[value_end + 1] = False  # "]" after each pair
    last = np.zeros(len(value_end), dtype=bool)
    last[np.cumsum(pairs) - 1] = True
    keep[value_end[~last] + 4] = False  # "[" before each pair but the first
    made_ends = ends - np.concatenate(([0], np.cumsum(2 * pairs)))
    made = pa.StringArray.from_buffers(len(plain), pa.py_buffer(made_ends.astype(np.int32)),
                                       pa.py_buffer(out[keep]))
    return made, _names_twice(data, name_start, name_end, row, len(plain))


def _names_twice(data: np.ndarray, name_start: np.ndarray, name_end: np.ndarray, row: np.ndarray,
                 rows: int) -> np.ndarray:
    """Per row, whether a name comes twice in it: the names (data[name_start + 1:name_end] of each pair, in
    `row`) read as one column of text and numbered; a row and a number that come twice are a name twice."""
    bounds = np.empty(2 * len(name_start), dtype=np.int64)
    bounds[0::2], bounds[1::2] = name_start + 1, name_end  # name, the text up to the next name, name, …
    texts = pa.StringArray.from_buffers(len(bounds) - 1, pa.py_buffer((bounds - bounds[0]).astype(np.int32)),
                                        pa.py_buffer(data[bounds[0]:]))
    names = pc.dictionary_encode(texts.take(pa.array(np.arange(0, len(texts), 2))))
    size = max(len(names.dictionary), 1)
    keys = row * size + names.indices.to_numpy().astype(np.int64)
    if rows * size <= 4 * len(keys) + (1 << 20):  # a count per (row, name): small enough to hold
        seen = np.flatnonzero(np.bincount(keys, minlength=rows * size) > 1)
    else:
        found, counts = np.unique(keys, return_counts=True)
        seen = found[counts > 1]
    twice = np.zeros(rows, dtype=bool)
    twice[seen // size] = True
    return twice


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
        **valid_record(r), **site_fields(r),
    }


def site_fields(r: Ring) -> dict:
    """The site a ring of a site table stands for ("" and None for any other ring)."""
    site = r.site
    src = site.source if site else None
    return {"layer": r.layer, "site": site.name if site else "", "min_km": r.min_km or None,
            "site_located": site.located if site else "", "site_source_title": src.title if src else "",
            "site_source_publisher": src.publisher if src else "", "site_source_url": src.url if src else "",
            "site_source_published": src.published.isoformat() if src and src.published else None,
            "site_quote": src.quote if src else ""}


def layer_row_record(row) -> dict:
    """A place or event in range of a site layer (rings.LayerRow), and the sites whose rings hold it."""
    return {"name": row.name, "kind": row.kind, "country": row.country, "sites": list(row.sites),
            "nearest_site": row.nearest_site, "nearest_km": row.nearest_km, "lon": round(row.lon, DECIMALS),
            "lat": round(row.lat, DECIMALS)}
def launch_record(a) -> dict:
    """What a launch area (analysis.launch.LaunchArea) is, what it measures, and who declared the range."""
    src = a.source
    point = (lambda p: [round(p[0], DECIMALS), round(p[1], DECIMALS)] if p is not None else None)
    return {
        "label": a.label, "kind": "launch_area", "target": a.target.name, "territory": a.territory.name,
        "radius_km": a.radius_km, "min_km": a.min_km, "area_km2": round(a.area_km2, 1),
        "share_of_territory": round(a.share, 4), "nearest_km": _km(a.nearest_km), "farthest_km": _km(a.farthest_km),
        "nearest_point": point(a.nearest), "farthest_point": point(a.farthest),
        "territory_nearest_km": _km(a.territory_nearest_km), "sentence": a.sentence(),
        "could_reach": a.listing.sentence() if a.listing is not None else "",
        "system": a.system, "munition": a.munition, "range_source_publisher": src.publisher if src else "",
        "range_source_url": src.url if src else "", "range_quote": src.quote if src else "",
    }


def _km(km: float | None) -> float | None:
    return None if km is None else round(km, 3)


def valid_record(r: Ring) -> dict:
    """The days a dated ring holds and who dates it ("" for an open end; all empty for an undated ring)."""
    valid = r.valid
    src = valid.source if valid else None
    return {"valid_from": valid.start.isoformat() if valid and valid.start else "",
            "valid_until": valid.end.isoformat() if valid and valid.end else "",
            "valid_approximate": bool(valid and valid.approximate), "valid_source_title": src.title if src else "",
            "valid_source_url": src.url if src else "", "valid_quote": src.quote if src else ""}


def bearing_record(line: BearingLine) -> dict:
    """What a line of bearing is: its origin, initial bearing, length and end point."""
    end_lon, end_lat = line.end
    return {"label": line.label, "kind": "bearing", "origin": line.origin.name, "origin_kind": line.origin.kind,
            "bearing_deg": line.bearing, "length_km": line.km, "end_lon": round(end_lon, DECIMALS),
            "end_lat": round(end_lat, DECIMALS)}


def bearing_geometry(line: BearingLine) -> dict:
    """A line of bearing as RFC 7946 wants it: a LineString, or a MultiLineString cut at the antimeridian."""
    parts = [_rounded(part) for part in split_antimeridian(line.path)]
    return ({"type": "LineString", "coordinates": parts[0]} if len(parts) == 1
            else {"type": "MultiLineString", "coordinates": parts})


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
    if scene.site_reach:  # what lies within any site's ring (sites=…), and of which sites
        meta["in_range_of_sites"] = [layer_row_record(row) for row in scene.site_reach]
    if scene.launches:  # every launch area, an empty one (out of reach) too: its sentence is the answer
        meta["launch_areas"] = [launch_record(a) for a in scene.launches]
    return meta
