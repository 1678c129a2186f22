"""Snapshots of many events: frozen a batch at a time, kept as their compressed stream, read a few columns at a
time, and every earlier text (format 1, format 2 of one batch, JSON laid out otherwise) still opens the same."""

from __future__ import annotations

import json
from datetime import date, datetime, timezone

import numpy as np
import pyarrow as pa
import pytest
from shapely.geometry import Point, Polygon

from dashboard.errors import NotFoundError, StoreError
from dashboard.ingest.catalogue import load_catalogue
from dashboard.model import Event, Place, TimeSpan
from dashboard.snapshot import frozen_scene, frozen_table, listing, open_snapshot
from dashboard.store import geopackage, snapshots
from dashboard.store.snapshots import FrozenEvents, Snapshot, _ipc, frozen_text, read_frozen
from dashboard.query import EventFilter
from dashboard.table import EventTable, select
from tests.conftest import BORDER, POINT, make_event
from tests.test_snapshot import EVERY_FIELD, assert_identical, v1_text

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)
VILLAGES = [Place.at(f"v:{i}", f"Village {i}", "village", 30 + i / 10, 50 + i / 10, country="UA") for i in range(4)]


def events_in_places(n: int = 11) -> list[Event]:
    """n events whose places first appear in different batches of three, some shared across batches."""
    places = [VILLAGES[0], VILLAGES[1], VILLAGES[0], BORDER, VILLAGES[2], VILLAGES[1], POINT, VILLAGES[3]]
    return [make_event(f"e{i:02}", title=f"Event {i}", place=places[i % len(places)],
                       time=TimeSpan(date(2022, 1 + i % 12, 1), date(2022, 1 + i % 12, 10), "approximate",
                                     "early in the month" if i % 2 else ""),
                       attributes=(("n", str(i)),)) for i in range(n)]


@pytest.fixture
def small_batches(monkeypatch):
    """Batches of three rows, so that a handful of events cross several of them."""
    from dashboard.store import postgis

    for module in (snapshots, geopackage, postgis):
        monkeypatch.setattr(module, "FROZEN_BATCH", 3)


def test_a_store_freezes_its_events_a_batch_at_a_time_exactly(any_store, small_batches):
    events = events_in_places()
    any_store.put_events(events, "t")
    ids = [e.id for e in events][::-1]
    frozen = any_store.frozen_events(ids)
    assert frozen._events is None and frozen._built is None  # the compressed stream, not a table or Events
    assert len(frozen) == len(ids)
    assert_identical(tuple(frozen), tuple(any_store.events_by_id(ids)))
    # Places numbered as their keys first appear, each once, however many batches share them.
    keys = frozen.places.column("key").to_pylist()
    assert len(keys) == len(set(keys)) == 6
    assert keys == list(dict.fromkeys(e.place.key for e in any_store.events_by_id(ids)))
    assert [b.num_rows for b in frozen.batches(["id"])] == [3, 3, 3, 2]


def test_a_missing_event_in_a_later_batch_is_named(any_store, small_batches):
    any_store.put_events(events_in_places(), "t")
    with pytest.raises(NotFoundError, match="no longer holds the event 'gone'"):
        any_store.frozen_events(["e00", "e01", "e02", "e03", "gone", "e04"])


def test_a_snapshot_of_many_batches_opens_from_its_stream_as_it_was_frozen(any_store, small_batches, gazetteer):
    events = events_in_places()
    any_store.put_events(events, "t")
    ids = [e.id for e in events]
    any_store.put_snapshot(Snapshot("s" * 24, "many", T0, "v=1", any_store.frozen_events(ids)))
    snapshot, state = open_snapshot(any_store, "s" * 24)
    frozen = snapshot.events
    assert isinstance(frozen, FrozenEvents) and frozen._events is None  # read back, still the stream
    scene = frozen_scene(snapshot, state, gazetteer, load_catalogue())
    rows = listing(frozen)
    assert frozen._events is None and frozen._built is None  # map table and list made from a few columns
    want = tuple(any_store.events_by_id(ids))
    assert rows == listing(want)
    assert rows.column_names == ["date", "title", "place", "type", "source", "quote"]  # st.dataframe's columns
    assert rows["date"][1].as_py() == "1–10 Feb 2022 (early in the month)" and rows["place"][3].as_py() == BORDER.name
    assert rows["date"].to_pylist() == [e.time.label for e in want] and rows["title"].to_pylist() == [e.title for e in want]
    table, from_events = scene.table, EventTable.from_events(want)
    assert list(table.id) == ids and not table.searchable  # the page's map: no search text held
    assert frozen_table(frozen).text.equals(from_events.text)  # built searchable when asked
    assert np.array_equal(table.t_start, from_events.t_start) and np.array_equal(table.lon, from_events.lon)
    with pytest.raises(ValueError, match="without its text"):
        select(table, EventFilter(text="desna"))
    assert frozen.date_bounds() == (date(2022, 1, 1), date(2022, 11, 10))
    assert_identical(tuple(frozen), want)


def test_the_text_is_laid_out_as_json_dumps_writes_it_and_reads_back_from_its_bytes():
    events = (EVERY_FIELD, make_event("b", place=BORDER))
    text = frozen_text(events)
    frozen = read_frozen(text)
    layout = json.dumps({"v": 2, "events": _ipc(frozen.events), "places": _ipc(frozen.places)},
                        separators=(",", ":"))
    assert text == layout
    assert_identical(tuple(read_frozen(text.encode())), events)
    assert frozen_text(frozen) == text  # a read-back snapshot writes its stream as it came


def table_format_2(events) -> str:
    """Format 2 as the first writer of issue 15 left it: each table one stream of one batch, json.dumps's own
    spacing (read through json.loads, not the fast layout)."""
    frozen = FrozenEvents.from_events(events)
    return json.dumps({"v": 2, "events": _ipc(frozen.events.combine_chunks()), "places": _ipc(frozen.places)})


@pytest.mark.parametrize("text_of", [table_format_2, v1_text, frozen_text], ids=["format-2-one-batch", "format-1",
                                                                                 "format-2"])
def test_every_format_opens_to_the_same_events_table_and_list(text_of, gazetteer):
    events = tuple(events_in_places()) + (EVERY_FIELD,)
    frozen = read_frozen(text_of(events))
    assert_identical(tuple(read_frozen(text_of(events))), events)
    assert listing(frozen) == listing(events)
    got, want = frozen_table(frozen), EventTable.from_events(events)
    assert list(got.id) == list(want.id) and got.text.equals(want.text)


def stream_of_batches(*tables: pa.Table) -> str:
    """Format 2 text whose events stream holds these tables as batches, one after another."""
    frozen = FrozenEvents.from_events((make_event(),))
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, snapshots.EVENT_SCHEMA) as writer:
        for table in tables:
            writer.write_table(table)
    import base64

    return json.dumps({"v": 2, "events": base64.b64encode(sink.getvalue().to_pybytes()).decode(),
                       "places": _ipc(frozen.places)}, separators=(",", ":"))


@pytest.mark.parametrize("change, expected", [
    (lambda t: t.set_column(1, "title", pa.array([None], pa.string())), "column title has empty values"),
    (lambda t: t.set_column(t.schema.get_field_index("place"), "place", pa.array([3], pa.int32())),
     "a place index is not in the list of places"),
])
def test_damage_in_a_later_batch_is_found_on_opening(change, expected):
    good = FrozenEvents.from_events((make_event(),)).events
    with pytest.raises(StoreError, match=expected):
        read_frozen(stream_of_batches(good, good, change(good)))


def test_bytes_that_are_not_text_are_a_damaged_snapshot():
    with pytest.raises(StoreError, match="cannot be read"):
        read_frozen(b"\xff\xfe{")


# ---------------------------------------------------------------------------------------------- in pieces

@pytest.mark.parametrize("piece", [3, 6, 3 << 20], ids=["3-bytes", "6-bytes", "default"])
@pytest.mark.parametrize("n", [0, 1, 11])
def test_the_text_in_pieces_is_the_text_whole(monkeypatch, piece, n):
    events = tuple(events_in_places(n)) + ((EVERY_FIELD,) if n else ())
    frozen = FrozenEvents.from_events(events)
    whole = json.dumps({"v": 2, "events": _ipc(frozen.events), "places": _ipc(frozen.places)},
                       separators=(",", ":")).encode()
    monkeypatch.setattr(snapshots, "_PIECE", piece)
    length, pieces = snapshots.frozen_pieces(events)
    pieces = list(pieces)
    assert length == len(whole) and b"".join(pieces) == whole
    assert max(map(len, pieces)) <= max(len(whole) if piece > len(whole) else piece // 3 * 4, 20)
    assert snapshots.frozen_bytes(events) == whole and frozen_text(events) == whole.decode()


def _read_both(text: bytes):
    """read_frozen of the whole text and read_frozen_file of it read 4 bytes of base64 (3 of stream) at a
    time: each gives the events, or a StoreError's sentence."""
    import io

    got = []
    for read in (lambda: read_frozen(text), lambda: snapshots.read_frozen_file(io.BytesIO(text), len(text))):
        try:
            got.append(tuple(read()))
        except StoreError as exc:
            got.append(str(exc))
    return got


@pytest.mark.parametrize("text_of", [frozen_text, table_format_2, v1_text], ids=["format-2", "format-2-spaced",
                                                                                 "format-1"])
def test_a_text_read_a_piece_at_a_time_opens_as_it_does_whole(monkeypatch, text_of):
    monkeypatch.setattr(snapshots, "_PIECE", 3)
    events = tuple(events_in_places()) + (EVERY_FIELD,)
    whole, pieces = _read_both(text_of(events).encode())
    assert_identical(pieces, events)
    assert_identical(whole, events)


def _good() -> str:
    return frozen_text(tuple(events_in_places(3)))


@pytest.mark.parametrize("damage", [
    lambda t: t[:-2],                                        # the end cut off
    lambda t: t[:-1] + "x",                                  # not the end the layout has
    lambda t: t.replace('","places":"', '","place":"'),      # not the layout
    lambda t: t.replace('","places":"', "", 1),              # the quote ending the events missing
    lambda t: t[:17] + "QQ==" + t[17:],                      # padding inside the events, at a piece's end
    lambda t: t[:17] + "QQ=" + t[17:],                       # padding not at a group of four
    lambda t: t[:17] + "\n" + t[17:],                        # not base64 (read whole, json.loads reads it)
    lambda t: t[:21] + t[25:],                               # four characters lost: a stream that is not Arrow
    lambda t: t.replace('","places":"', '","places":"!', 1),  # the places not base64
    lambda t: t.replace('","places":"', '","places":"QUJD', 1),  # the places not Arrow
], ids=["cut", "tail", "key", "no-quote", "padding", "bad-padding", "newline", "lost", "places-char",
        "places-stream"])
def test_a_damaged_text_read_a_piece_at_a_time_says_what_read_whole_says(monkeypatch, damage):
    monkeypatch.setattr(snapshots, "_PIECE", 3)
    whole, pieces = _read_both(damage(_good()).encode())
    assert isinstance(whole, str) and pieces == whole


def test_the_store_writes_the_text_in_pieces_as_text_and_reads_it_so(tmp_path, monkeypatch, small_batches):
    monkeypatch.setattr(snapshots, "_PIECE", 6)
    events = events_in_places()
    gpkg_store = geopackage.GeoPackageStore.open(tmp_path / "s.gpkg")
    gpkg_store.put_events(events, "t")
    ids = [e.id for e in events]
    snapshot = Snapshot("p" * 24, "pieces", T0, "?v=1", gpkg_store.frozen_events(ids))
    gpkg_store.put_snapshot(snapshot)
    kind, text = gpkg_store._conn.execute("SELECT typeof(events), events FROM snapshots WHERE id = ?",
                                          (snapshot.id,)).fetchone()
    assert kind == "text" and text == frozen_text(snapshot.events)  # the pieces make the whole text
    again = gpkg_store.get_snapshot(snapshot.id)
    assert again == snapshot and frozen_text(again.events) == text
    assert_identical(tuple(again.events), tuple(gpkg_store.events_by_id(ids)))
    gpkg_store.close()


# ---------------------------------------------------------------------------------------------- the map's table

def assert_same_table(got: EventTable, want: EventTable) -> None:
    for name in ("type_code", "t_start", "t_end", "lon", "lat", "country_code", "admin_code", "actor_code",
                 "place_code", "publisher_code", "place_coarse"):
        assert np.array_equal(getattr(got, name), getattr(want, name)), name
    for name in ("types", "country_sets", "admins", "actor_sets", "publishers"):
        assert getattr(got, name) == getattr(want, name), name
    assert list(got.id) == list(want.id) and list(got.title) == list(want.title) and got.text.equals(want.text)
    assert [None if g is None else g.wkb for g in got.place_shapes] == \
        [None if g is None else g.wkb for g in want.place_shapes]


_PINNED = Place("settlement:pinned", "Pinned town", "village", Point(30.5, 50.5), country="UA", pin=(30.6, 50.4))
_AREA = Place("area:1", "An area", "admin region", Polygon([(30, 50), (31, 50), (31, 51)]), country="UA")
_Z = Place("z:1", "A point with a height", "village", Point(30.1, 50.1, 120.0), country="BY")
_NO_COUNTRY = Place.at("sea:1", "At sea", "point", 31.0, 45.0)
_SAME_KEY_AREA = Place("v:0", "Village 0, drawn", "village", Polygon([(30, 50), (30.2, 50), (30.2, 50.2)]))


@pytest.mark.parametrize("places", [
    [VILLAGES[0], VILLAGES[1]],
    [VILLAGES[0], _PINNED, _AREA, BORDER, _Z, _NO_COUNTRY, POINT],
    [VILLAGES[0], _SAME_KEY_AREA, VILLAGES[1]],   # the same key: a bare point first, then a shape
    [_SAME_KEY_AREA, VILLAGES[0], BORDER],        # the shape first, then the bare point
    [],
], ids=["villages", "every-kind", "point-then-shape", "shape-then-point", "none"])
def test_the_frozen_places_give_the_table_from_events_would(places):
    events = tuple(make_event(f"e{i}", place=place, day=date(2022, 6, 1 + i)) for i, place in enumerate(places))
    assert_same_table(frozen_table(read_frozen(frozen_text(events))), EventTable.from_events(events))
