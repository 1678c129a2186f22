"""Snapshots: frozen events round-trip exactly, survive data changes, and ids are unguessable and checked."""

from __future__ import annotations

import json
import re
import sqlite3
from datetime import date, datetime, timedelta, timezone

import numpy as np
import pyarrow as pa
import pyogrio
import pytest
import shapely
from shapely.geometry import MultiPolygon, Point, Polygon

from dashboard import ingest
from dashboard.errors import NotFoundError, StoreError, ValidationError
from dashboard.ingest.catalogue import load_catalogue
from dashboard.model import Event, Place, Source, TimeSpan
from dashboard.scene import Scene, build_scene, table_scene
from dashboard.share import RingSpec, ViewState, from_query
from dashboard.snapshot import (ID_BYTES, ID_LENGTH, ID_PATTERN, MAX_THUMBNAIL_BYTES, MAX_TITLE, PNG_SIGNATURE,
                                freeze, frozen_scene, frozen_table, listing, new_id, open_snapshot)
from dashboard.store import GeoPackageStore
from dashboard.store.snapshots import Snapshot, _ipc, frozen_text, read_frozen
from dashboard.table import EventTable
from tests.conftest import BORDER, POINT, make_event

PNG = PNG_SIGNATURE + b"\x00\x00\x00\rIHDR" + bytes(range(256))  # starts like a PNG; enough for the store
T0 = datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def store(any_store):
    """An empty store of each backend: snapshots behave the same on both."""
    return any_store


@pytest.fixture
def gpkg_store(tmp_path):
    """A GeoPackage store, for the tests that reach into the file (sqlite3, GDAL) or hold a NUL."""
    with GeoPackageStore.open(tmp_path / "s.gpkg") as s:
        yield s


@pytest.fixture
def story_store(store_location, gazetteer):
    with ingest.open_store(store_location, gazetteer=gazetteer) as s:
        yield s


def scene_of(events, state: ViewState | None = None) -> Scene:
    return Scene(state or ViewState(), tuple(events), (), ())


def assert_identical(got: tuple[Event, ...], want: tuple[Event, ...]) -> None:
    """Equal event by event, and the places equal too in what Place's __eq__ leaves out: the geometry."""
    assert got == want
    for a, b in zip(got, want):
        assert shapely.to_wkb(a.place.geometry, hex=True) == shapely.to_wkb(b.place.geometry, hex=True), a.id
        assert a.place.pin == b.place.pin and type(a.place.geonameid) is type(b.place.geonameid)


# ---------------------------------------------------------------------------------------------- frozen JSON

FULL_PLACE = Place("geonames:625144", "Minsk “Мінск” 'x'", "city", Point(27.566535711, 53.900199999999998),
                   country="BY", admin1="Minsk City", geonameid=625144, population=1_742_124,
                   pin=(27.56653, 53.90019))
FULL_SOURCE = Source("Report \"quoted\"", "Publisher <b>", "https://example.org/a?b=1&c=2",
                     date(2022, 6, 25), "He said: “Iskander-M, 500 km.”\nNext line.")
EVERY_FIELD = Event(
    "full", "Talks", "meeting",
    TimeSpan(date(2022, 2, 20), date(2022, 2, 28), "approximate", "in late February", "read as 20–28"),
    FULL_PLACE, FULL_SOURCE, description="Long\ttext ✓", actors=("Vladimir Putin", "Alexander Lukashenko"))

HAND_MADE = [
    pytest.param((EVERY_FIELD,), id="every-optional-field"),
    pytest.param((make_event(),), id="plain"),
    pytest.param((make_event(place=BORDER), make_event("p", place=POINT)), id="border-and-point"),
    pytest.param((Event("bare", "t", "x", TimeSpan.day(date(2020, 8, 9)), POINT, Source("s", "p")),),
                 id="no-optional-fields"),
    pytest.param((make_event("poly", place=Place("admin:1", "Area", "admin region", Polygon(
        [(30.1, 50.2), (31.0, 50.2), (31.0, 51.0), (30.1, 50.2)]), country="UA")),), id="polygon"),
    pytest.param((make_event("multi", place=Place("country:XX", "Two parts", "country", MultiPolygon([
        Polygon([(0, 0), (1, 0), (1, 1)]), Polygon([(2, 2), (3, 2), (3, 3)])]), pin=(0.5, 0.2))),), id="multipolygon"),
    pytest.param((make_event("z", place=Place("pz", "With height", "point", Point(10.1, 20.2, 300.3))),),
                 id="3d-point"),
    pytest.param((make_event("tiny", place=Place("pt", "Exact", "point", Point(1e-300, -0.1 - 0.2))),),
                 id="awkward-floats"),
    pytest.param((), id="no-events"),
]


@pytest.mark.parametrize("events", HAND_MADE)
def test_hand_made_events_round_trip_exactly(events):
    frozen = read_frozen(frozen_text(events))
    assert len(frozen) == len(events)
    assert_identical(tuple(frozen), events)


def test_the_story_events_round_trip_exactly(story_store):
    events = tuple(story_store.events())
    assert len(events) > 10
    assert_identical(tuple(read_frozen(frozen_text(events))), events)


def test_a_shared_place_is_written_once_and_same_key_with_other_content_is_kept_apart():
    other_desna = Place.at("geonames:710071", "Desna (renamed)", "village", 30.76678, 50.92744)
    events = (make_event("a"), make_event("b"), make_event("c", place=other_desna))
    frozen = read_frozen(frozen_text(events))
    assert frozen.events.column("place").to_pylist() == [0, 0, 1] and len(frozen.places) == 2
    assert [e.place.name for e in frozen] == ["Desna", "Desna", "Desna (renamed)"]


def v1_text(events) -> str:
    """Frozen events as format 1 wrote them (before issue 15): snapshots of that time must still open."""
    places, index, rows = [], {}, []
    for e in events:
        p = e.place
        place = {"key": p.key, "name": p.name, "kind": p.kind,
                 "wkb": shapely.to_wkb(p.geometry, hex=True, byte_order=1, flavor="iso"), "country": p.country,
                 "admin1": p.admin1, "geonameid": p.geonameid, "population": p.population,
                 "pin": list(p.pin) if p.pin is not None else None}
        key = json.dumps(place, sort_keys=True)
        if key not in index:
            index[key] = len(places)
            places.append(place)
        t, src = e.time, e.source
        rows.append({"id": e.id, "title": e.title, "event_type": e.event_type, "description": e.description,
                     "actors": list(e.actors), "time": {"start": t.start.isoformat(), "end": t.end.isoformat(),
                                                        "precision": t.precision, "text": t.text, "note": t.note},
                     "source": {"title": src.title, "publisher": src.publisher, "url": src.url,
                                "published": src.published.isoformat() if src.published else None, "quote": src.quote},
                     "attributes": [list(a) for a in e.attributes], "place": index[key]})
    return json.dumps({"v": 1, "places": places, "events": rows}, ensure_ascii=False)


@pytest.mark.parametrize("events", HAND_MADE)
def test_format_1_snapshots_still_open_exactly(events):
    assert_identical(tuple(read_frozen(v1_text(events))), events)


def test_a_format_1_snapshot_in_a_store_opens(gpkg_store, gazetteer):
    store = gpkg_store  # the old text is written in with sqlite3
    events = (EVERY_FIELD, make_event("b", place=BORDER))
    store.put_snapshot(Snapshot("o" * 24, "old", T0, "?v=1", events))
    with sqlite3.connect(store.path) as conn:
        conn.execute("UPDATE snapshots SET events = ? WHERE id = ?", (v1_text(events), "o" * 24))
    snapshot, state = open_snapshot(store, "o" * 24)
    assert_identical(tuple(snapshot.events), events)
    assert frozen_scene(snapshot, state, gazetteer, load_catalogue()).events == events


def _v2(**change) -> str:
    """make_event() as format 2 text with a table changed: events=lambda table: …, or places=…."""
    frozen = read_frozen(frozen_text((make_event(),)))
    data = json.loads(frozen_text((make_event(),)))
    for name, table in change.items():
        data[name] = _ipc(table(getattr(frozen, name)))
    return json.dumps(data)


@pytest.mark.parametrize("text", [
    "not json", "[]", "{}", '{"v": 3, "places": [], "events": []}', '{"v": 2, "events": "!!", "places": ""}',
    '{"v": 1, "places": [], "events": [{"place": 0}]}',
    json.dumps({"v": 1, "places": json.loads(v1_text((make_event(),)))["places"],
                "events": [dict(json.loads(v1_text((make_event(),)))["events"][0], place=-1)]}),
    v1_text((make_event(),)).replace('"title": "A strike"', '"title": ""'),
    v1_text((make_event(),)).replace("0101", "ZZ01", 1),
    pytest.param(_v2(events=lambda t: t.drop_columns(["title"])), id="v2-column-missing"),
    pytest.param(_v2(events=lambda t: t.set_column(t.schema.get_field_index("place"), "place",
                                                   pa.array([1], pa.int32()))), id="v2-place-out-of-range"),
    pytest.param(_v2(events=lambda t: t.set_column(t.schema.get_field_index("place"), "place",
                                                   pa.array([-1], pa.int32()))), id="v2-place-negative"),
    pytest.param(_v2(events=lambda t: t.set_column(1, "title", pa.array([None], pa.string()))), id="v2-null-title"),
    pytest.param(_v2(events=lambda t: t.set_column(1, "title", pa.array([""]))), id="v2-blank-title"),
    pytest.param(_v2(places=lambda t: t.set_column(3, "wkb", pa.array([b"\x01\x02"]))), id="v2-bad-wkb"),
    pytest.param(_v2(events=lambda t: t.set_column(5, "t_start", pa.array(["25 June"]))), id="v2-bad-date"),
])
def test_damaged_frozen_events_raise_one_store_error(text):
    with pytest.raises(StoreError, match="cannot be read|format version"):
        tuple(read_frozen(text))  # columns are checked on reading, the events when first built


def test_frozen_columns_give_the_table_from_events_would(story_store):
    events = tuple(story_store.events()) + (EVERY_FIELD, make_event("b", place=BORDER))
    got, want = frozen_table(read_frozen(frozen_text(events))), EventTable.from_events(events)
    for name in ("id", "title", "type_code", "t_start", "t_end", "lon", "lat", "country_code", "admin_code",
                 "actor_code", "place_code", "publisher_code", "place_coarse"):
        assert np.array_equal(getattr(got, name), getattr(want, name)), name
    for name in ("types", "country_sets", "admins", "actor_sets", "publishers"):
        assert getattr(got, name) == getattr(want, name), name
    assert got.text.equals(want.text)
    assert [None if g is None else g.wkb for g in got.place_shapes] == \
        [None if g is None else g.wkb for g in want.place_shapes]


# ---------------------------------------------------------------------------------------------- from the store

def test_the_store_freezes_its_events_as_columns_exactly_as_it_reads_them(story_store):
    story_store.put_events([EVERY_FIELD, make_event("b", place=BORDER, attributes=(("fatalities", "2"),))], "t")
    ids = [e.id for e in story_store.events()][::-1]  # any order: the scene's
    frozen = story_store.frozen_events(ids)
    assert frozen._built is None  # read as columns, not through Event objects
    assert_identical(tuple(frozen), tuple(story_store.events_by_id(ids)))
    assert_identical(tuple(read_frozen(frozen_text(frozen))), tuple(story_store.events_by_id(ids)))
    assert len(story_store.frozen_events([])) == 0


def test_a_text_with_a_nul_is_frozen_whole(gpkg_store):
    store = gpkg_store  # PostgreSQL text cannot hold a NUL: PostGIS refuses it (tests/test_store_postgis.py)
    store.put_events([make_event("a", title="before\x00after"), make_event("b")], "t")
    frozen = store.frozen_events(["a", "b"])
    assert [e.title for e in frozen] == ["before\x00after", "A strike"]  # GDAL would have cut it at the NUL


def test_freezing_an_event_the_store_no_longer_holds_says_so(store):
    store.put_events([make_event("a")], "t")
    with pytest.raises(NotFoundError, match="no longer holds the event 'gone'"):
        store.frozen_events(["a", "gone"])


def test_a_scene_read_as_columns_is_frozen_from_the_store_and_opens_with_its_table(story_store, gazetteer):
    table = EventTable.from_store(ingest.location_of(story_store))
    state = ViewState(countries=("UA",))
    scene = table_scene(state, table, story_store.events_by_id, gazetteer, load_catalogue())
    snapshot, opened = open_snapshot(story_store, freeze(story_store, scene, ""))
    assert scene.events._events is None  # not one Event was built to freeze them
    assert snapshot.title.startswith(f"{len(scene.events)} events")
    again = frozen_scene(snapshot, opened, gazetteer, load_catalogue())
    assert again.table is not None and list(again.rows) == list(range(len(scene.events)))
    assert list(again.table.id) == list(scene.table.id[scene.rows])
    assert_identical(tuple(again.events), tuple(story_store.events_by_id(list(scene.events.ids))))
    assert listing(again.events) == listing(tuple(again.events))


# ---------------------------------------------------------------------------------------------- freeze and open

def test_a_snapshot_is_unchanged_after_the_data_changes(story_store, gazetteer):
    state = ViewState(start=date(2022, 1, 1), countries=("BY", "UA"),
                      rings=(RingSpec("Minsk", system="iskander-m"),), center=(52.1, 29.3), zoom=6)
    scene = build_scene(state, story_store.events(), gazetteer, load_catalogue())
    assert scene.events and scene.rings
    snapshot_id = freeze(story_store, scene, "Iskander-M from Minsk", thumbnail=PNG)

    # Edit every event, add one, and delete one.
    edited = [Event(e.id, e.title + " (edited)", e.event_type, e.time, e.place, e.source) for e in story_store.events()]
    story_store.put_events(edited + [make_event("new-event")], origin="reimport")
    gone = scene.events[0].id
    story_store.delete_event(gone, "test", story_store.version(gone))
    assert story_store.get_event(scene.events[1].id).title.endswith("(edited)")

    snapshot, opened = open_snapshot(story_store, snapshot_id)
    assert opened == state
    assert_identical(snapshot.events, scene.events)
    assert (snapshot.title, snapshot.thumbnail) == ("Iskander-M from Minsk", PNG)
    again = frozen_scene(snapshot, opened, gazetteer, load_catalogue())
    assert again.events == scene.events and [r.label for r in again.rings] == [r.label for r in scene.rings]


def test_open_snapshot_gives_back_the_query_as_written(store):
    state = ViewState(countries=("UA",), near="Chernihiv", near_km=100, text="iskander", base="osm",
                      layers=("events", "rings"))
    snapshot, opened = open_snapshot(store, freeze(store, scene_of([make_event()], state), "t"))
    assert opened == state and from_query(snapshot.query).problems == ()
    assert snapshot.created_at.tzinfo is not None
    assert abs(snapshot.created_at - datetime.now(timezone.utc)) < timedelta(minutes=1)


@pytest.mark.parametrize("title, expected", [
    ("  My view  ", "My view"),
    ("line\nbreak\tand  spaces", "line break and spaces"),
    ("\u202eevil\u202c name", "evil name"),
    ("x" * MAX_TITLE, "x" * MAX_TITLE),
    ("'); DROP TABLE snapshots; --", "'); DROP TABLE snapshots; --"),
    ("", "1 event on 25 Jun 2022"),
    (" \n ", "1 event on 25 Jun 2022"),
])
def test_titles_are_cleaned_and_a_blank_one_describes_the_view(store, title, expected):
    snapshot, _ = open_snapshot(store, freeze(store, scene_of([make_event()]), title))
    assert snapshot.title == expected


def test_a_long_default_title_is_cut_to_the_limit(store):
    state = ViewState(types=tuple(f"type number {i}" for i in range(20)))
    snapshot, _ = open_snapshot(store, freeze(store, scene_of([], state), ""))
    assert MAX_TITLE - 5 < len(snapshot.title) <= MAX_TITLE and snapshot.title.endswith("…")


# ---------------------------------------------------------------------------------------------- ids

def test_ids_are_unique_url_safe_and_carry_at_least_128_random_bits():
    ids = [new_id() for _ in range(1000)]
    assert len(set(ids)) == 1000
    assert all(ID_PATTERN.fullmatch(i) and len(i) == ID_LENGTH for i in ids)
    # 18 bytes from secrets, base64url without padding: 24 characters of 6 bits each.
    assert ID_BYTES * 8 >= 128 and ID_LENGTH * 6 == ID_BYTES * 8
    assert not any(re.search(r"[=+/]", i) for i in ids)


class NoStore:
    """A store that must not be asked: a malformed id is refused before any SQL."""

    def __getattr__(self, name):
        raise AssertionError(f"the store was asked for {name}")


@pytest.mark.parametrize("bad", ["", "abc", "../../etc", "../../etc/passwd/aaaaaaaaaaa", "' OR 1=1 --",
                                 "' OR '1'='1' --aaaaaaaaaaaaa", "a" * 10_000, "a" * 23, "a" * 25,
                                 "ÄÖÜäöüßéèêàçñøåæœ€𝔘𝔫𝔦𝔠𝔬", "a" * 23 + "\u0000",
                                 "a" * 12 + " " + "a" * 11,
                                 "a" * 23 + "=", None, 12345, b"a" * 24])
def test_malformed_ids_are_refused_with_a_sentence_before_any_query(bad):
    with pytest.raises(ValidationError) as info:
        open_snapshot(NoStore(), bad)
    assert info.value.field == "snapshot"
    message = str(info.value)
    assert message.startswith("snapshot: a snapshot id is 24 letters") and "Snapshots page" in message
    assert len(message) < 250 and "SELECT" not in message


def test_an_id_with_spaces_around_it_opens(store):
    snapshot_id = freeze(store, scene_of([make_event()]), "t")
    assert open_snapshot(store, f"  {snapshot_id}\n")[0].id == snapshot_id


def test_an_unknown_well_formed_id_is_not_found(store):
    with pytest.raises(NotFoundError, match=r"^No snapshot with id 'A{24}'; it may have been deleted, "
                                            r"or the link is incomplete\.$"):
        open_snapshot(store, "A" * 24)


# ---------------------------------------------------------------------------------------------- list and delete

def test_delete_removes_a_snapshot_once(store):
    keep = freeze(store, scene_of([make_event()]), "keep")
    gone = freeze(store, scene_of([make_event()]), "gone")
    assert store.delete_snapshot(gone) is True
    assert store.delete_snapshot(gone) is False
    with pytest.raises(NotFoundError):
        open_snapshot(store, gone)
    assert [s.id for s in store.snapshots()] == [keep]


def test_the_list_is_newest_first_with_counts_and_thumbnails(store):
    for i, (minutes, n) in enumerate([(0, 1), (30, 3), (-10, 0), (30, 2)]):  # the last ties with the second
        events = tuple(make_event(f"e{k}") for k in range(n))
        store.put_snapshot(Snapshot(f"{i:024d}", f"s{i}", T0 + timedelta(minutes=minutes), "?v=1", events,
                                    PNG if i == 1 else None))
    listed = store.snapshots()
    assert [(s.title, s.event_count) for s in listed] == [("s3", 2), ("s1", 3), ("s0", 1), ("s2", 0)]
    assert listed[1].thumbnail == PNG and listed[0].thumbnail is None
    assert listed[0].created_at == T0 + timedelta(minutes=30) and listed[0].created_at.tzinfo is not None


def test_created_at_is_kept_in_utc_whatever_zone_it_came_in(store):
    kyiv = timezone(timedelta(hours=3))
    store.put_snapshot(Snapshot("k" * 24, "t", datetime(2022, 6, 25, 15, 0, tzinfo=kyiv), "?v=1", ()))
    assert store.get_snapshot("k" * 24).created_at == datetime(2022, 6, 25, 12, 0, tzinfo=timezone.utc)
    with pytest.raises(ValidationError, match="timezone-aware"):
        Snapshot("n" * 24, "t", datetime(2022, 6, 25, 15, 0), "?v=1", ())


# ---------------------------------------------------------------------------------------------- failed writes

@pytest.mark.parametrize("title, thumbnail, field", [
    ("t", PNG_SIGNATURE + b"\x00" * MAX_THUMBNAIL_BYTES, "thumbnail"),
    ("t", b"GIF89a not a png", "thumbnail"),
    ("t", b"", "thumbnail"),
    ("t", "a string", "thumbnail"),
    ("x" * (MAX_TITLE + 1), None, "title"),
    (None, None, "title"),
])
def test_a_refused_snapshot_writes_nothing(store, title, thumbnail, field):
    freeze(store, scene_of([make_event()]), "before")
    before = store.snapshots()
    with pytest.raises(ValidationError) as info:
        freeze(store, scene_of([make_event()]), title, thumbnail)
    assert info.value.field == field
    assert store.snapshots() == before


class FailingConnection:
    """The store's connection, failing on one statement: an error in the middle of a transaction."""

    def __init__(self, conn: sqlite3.Connection, fail_on: str) -> None:
        self._conn, self._fail_on = conn, fail_on

    def execute(self, sql, *args):
        if sql.startswith(self._fail_on):
            raise sqlite3.OperationalError("disk I/O error (forced by the test)")
        return self._conn.execute(sql, *args)

    def __getattr__(self, name):
        return getattr(self._conn, name)


def test_a_write_failing_mid_transaction_leaves_the_store_unchanged(gpkg_store):
    store = gpkg_store  # the failure is forced on its sqlite3 connection
    keep = freeze(store, scene_of([make_event()]), "keep")
    before = store.snapshots()
    real = store._conn
    store._conn = FailingConnection(real, "UPDATE gpkg_contents")  # runs after the INSERT / DELETE
    try:
        with pytest.raises(StoreError, match="nothing was changed"):
            freeze(store, scene_of([make_event()]), "lost")
        with pytest.raises(StoreError, match="nothing was changed"):
            store.delete_snapshot(keep)
    finally:
        store._conn = real
    assert store.snapshots() == before
    assert open_snapshot(store, freeze(store, scene_of([]), "after"))[0].title == "after"  # the store still works


def test_an_existing_id_is_never_overwritten(store):
    first = Snapshot("s" * 24, "first", T0, "?v=1", (make_event(),))
    store.put_snapshot(first)
    with pytest.raises(StoreError, match="already exists"):
        store.put_snapshot(Snapshot("s" * 24, "second", T0, "?v=1", ()))
    assert store.get_snapshot("s" * 24) == first


# ---------------------------------------------------------------------------------------------- the file

def test_the_file_still_opens_in_gdal_with_a_snapshots_layer(gpkg_store):
    store = gpkg_store
    store.put_events([make_event()], origin="test")
    snapshot_id = freeze(store, scene_of([make_event(), make_event("b", place=BORDER)]), "For GDAL", PNG)
    layers = dict(pyogrio.list_layers(store.path))
    assert {"events", "places", "reachmap_meta", "snapshots"} <= set(layers) and layers["snapshots"] is None
    info = pyogrio.read_info(store.path, layer="snapshots")
    assert info["fid_column"] == "fid"  # a real integer key: GDAL has random access, no rowid fallback
    table = pyogrio.read_dataframe(store.path, layer="snapshots")
    assert list(table["id"]) == [snapshot_id] and list(table["event_count"]) == [2]
    assert table["thumbnail"][0] == PNG and table["title"][0] == "For GDAL"
    assert len(pyogrio.read_dataframe(store.path, layer="events")) == 1


def test_a_store_from_before_snapshots_is_refused_with_a_sentence(tmp_path):
    path = tmp_path / "old.gpkg"
    GeoPackageStore.open(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("DROP TABLE snapshots")
    with pytest.raises(StoreError, match="lacks the table.*snapshots.*move it away"):
        GeoPackageStore.open(path)



def test_a_snapshot_with_a_launch_area_opens_with_it_rebuilt(story_store, gazetteer):
    from dashboard.share import LaunchSpec

    state = ViewState(launches=(LaunchSpec("Desna", "BY", system="iskander-m"),))
    scene = build_scene(state, story_store.events(), gazetteer, load_catalogue())
    snapshot, opened = open_snapshot(story_store, freeze(story_store, scene, "From where in Belarus"))
    assert opened == state
    again = frozen_scene(snapshot, opened, gazetteer, load_catalogue())
    assert [a.sentence() for a in again.launches] == [a.sentence() for a in scene.launches] and again.launches
