"""The stores: round trip, one transaction per write, reads by id, snapshots — each on the GeoPackage and on
PostGIS (`any_store`) — and the GeoPackage's own file format and refusal of foreign or damaged files."""

from __future__ import annotations

import sqlite3
from dataclasses import replace
from datetime import date

import pyogrio
import pytest

from dashboard.errors import NotFoundError, StoreError, ValidationError
from dashboard.model import Source, TimeSpan
from dashboard.store import GeoPackageStore
from tests.conftest import BORDER, make_event


@pytest.fixture
def store(any_store):
    """An empty store of each backend (tests/conftest.py)."""
    return any_store


@pytest.fixture
def gpkg_store(tmp_path):
    with GeoPackageStore.open(tmp_path / "s.gpkg") as s:
        yield s


def test_events_round_trip_with_place_time_and_provenance(store):
    event = make_event(actors=("Russia", "Ukraine"), description="d",
                       time=TimeSpan(date(2022, 2, 20), date(2022, 2, 28), "approximate", "in late February", "n"))
    assert str(store.put_events([event], origin="test")) == "1 added, 0 updated"
    back = store.get_event("e1")
    assert back == event
    assert back.place.geometry.equals(event.place.geometry)
    assert back.source.quote == "The quoted sentence." and back.source.published == date(2022, 6, 25)
    assert store.origins() == ["test"]


def test_rewriting_an_event_updates_it_in_place(store):
    store.put_events([make_event(title="first")], origin="test")
    summary = store.put_events([make_event(title="second"), make_event("e2")], origin="test")
    assert (summary.added, summary.updated) == (1, 1)
    assert store.count() == 2 and store.get_event("e1").title == "second"


def test_a_failed_write_leaves_the_store_exactly_as_it_was(store):
    store.put_events([make_event("keep")], origin="test")

    def batch():
        yield make_event("new-1")
        yield make_event("keep", title="changed")
        raise ValidationError("event.title", "", "must be a non-empty text")

    with pytest.raises(ValidationError):
        store.put_events(batch(), origin="test")
    assert store.count() == 1
    assert store.get_event("keep").title == "A strike"


@pytest.mark.parametrize("start, end, countries, expected", [
    (None, None, (), ["feb", "jun", "border"]),
    (date(2022, 2, 25), date(2022, 2, 25), (), ["feb"]),  # "late February" overlaps 25 Feb
    (date(2022, 2, 24), date(2022, 2, 24), (), ["feb", "border"]),
    (date(2022, 6, 1), None, (), ["jun"]),
    (None, None, ("UA",), ["feb", "jun", "border"]),
    (None, None, ("BY",), ["border"]),  # a border belongs to both its countries
    (None, None, ("PL",), []),
    (None, None, ("U",), []),  # codes match whole, not as substrings
])
def test_query_by_date_overlap_and_country(store, start, end, countries, expected):
    store.put_events([
        make_event("feb", time=TimeSpan(date(2022, 2, 20), date(2022, 2, 28), "approximate")),
        make_event("jun", day=date(2022, 6, 25)),
        make_event("border", place=BORDER, time=TimeSpan.day(date(2022, 2, 24))),
    ], origin="test")
    assert sorted(e.id for e in store.events(start, end, countries)) == sorted(expected)


def test_hostile_strings_are_stored_as_data(store):
    nasty = "x'); DROP TABLE events; -- <img src=x onerror=alert(1)>"
    store.put_events([make_event(nasty, title=nasty)], origin=nasty)
    assert store.get_event(nasty).title == nasty and store.count() == 1


def test_the_file_is_a_geopackage_that_gdal_reads(gpkg_store):
    store = gpkg_store
    store.put_events([make_event(), make_event("b", place=BORDER)], origin="test")
    layers = {name for name, _ in pyogrio.list_layers(store.path)}
    assert {"events", "places"} <= layers
    events = pyogrio.read_dataframe(store.path, layer="events")
    assert len(events) == 2 and events.crs.to_epsg() == 4326
    assert set(events["event_id"]) == {"e1", "b"}
    places = pyogrio.read_dataframe(store.path, layer="places")
    assert sorted(places.geometry.geom_type) == ["LineString", "Point"]
    assert store.meta()["schema_version"] == "2"


@pytest.mark.parametrize("content", [b"not a database at all", b"SQLite format 3\x00" + b"\x00" * 200])
def test_corrupt_files_are_refused_and_never_overwritten(tmp_path, content):
    path = tmp_path / "broken.gpkg"
    path.write_bytes(content)
    with pytest.raises(StoreError, match="broken.gpkg"):
        GeoPackageStore.open(path)
    assert path.read_bytes() == content


def test_a_foreign_database_is_refused_and_left_alone(tmp_path):
    path = tmp_path / "other.gpkg"
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (x)")
    before = path.read_bytes()
    with pytest.raises(StoreError, match="not a Reachmap store"):
        GeoPackageStore.open(path)
    assert path.read_bytes() == before


def test_a_failing_seed_leaves_no_file(tmp_path):
    path = tmp_path / "new.gpkg"

    def seed():
        yield [make_event()], "story"
        raise ValidationError("event.title", "", "must be a non-empty text")

    with pytest.raises(ValidationError):
        GeoPackageStore.open(path, seed=seed)
    assert not path.exists() and list(tmp_path.iterdir()) == []


# -- reading by id, listing and sources (what the app reads on demand instead of every Event) -----------

def _three(store):
    other = Source("Another report", "Other desk", "", None, "Another quote.")
    events = [make_event("b", title="second", day=date(2022, 6, 26)),
              make_event("a", title="first <i>", time=TimeSpan(date(2022, 2, 20), date(2022, 2, 28),
                                                                 "approximate", "in late February")),
              replace(make_event("c", title="third"), source=other)]
    store.put_events(events, origin="test")
    return {e.id: e for e in events}


def test_events_by_id_come_in_the_order_asked(store):
    events = _three(store)
    assert store.events_by_id(["c", "a", "b"]) == [events["c"], events["a"], events["b"]]
    assert store.events_by_id([]) == []


def test_an_id_the_store_does_not_hold_is_one_sentence(store):
    _three(store)
    with pytest.raises(NotFoundError, match=r"no longer holds the event 'gone<b>' \(1 missing\).*reload"):
        store.events_by_id(["a", "gone<b>"])
    with pytest.raises(NotFoundError):
        store.listing(["gone"])


def test_listing_shows_what_the_events_say(store):
    events = _three(store)
    listed = store.listing(["a", "c"])
    assert [r.id for r in listed] == ["a", "c"]
    for row in listed:
        e = events[row.id]
        assert (row.start, row.end, row.label, row.title, row.place, row.event_type) == (
            e.time.start, e.time.end, e.time.label, e.title, e.place.name, e.event_type)
        assert (row.publisher, row.quote, row.url, (row.lon, row.lat)) == (
            e.source.publisher, e.source.quote, e.source.url, e.place.lonlat)
    assert listed[0].label == "20–28 Feb 2022 (in late February)"


def test_source_groups_count_every_event_and_list_the_first_by_date(store):
    events = _three(store)
    groups = store.source_groups(per_source=1, max_groups=10)
    assert [(g.publisher, g.count, [e.id for e in g.events]) for g in groups] == [
        ("A publisher", 2, ["a"]), ("Other desk", 1, ["c"])]
    assert groups[0].events[0] == events["a"] and groups[0].published == date(2022, 6, 25)
    assert groups[1].published is None
    assert [len(g.events) for g in store.source_groups(per_source=20, max_groups=10)] == [2, 1]
    assert store.count_sources() == 2


def test_a_source_per_event_is_listed_most_cited_first_and_capped(store):
    # ACLED gives every event a source of its own: the page must not list 100k of them.
    events = [replace(make_event(f"e{i}"), source=Source(f"ACLED event e{i}", "Ukrinform", "", None, "q"))
              for i in range(30)]
    store.put_events(events + [make_event("x1"), make_event("x2")], origin="test")
    groups = store.source_groups(per_source=5, max_groups=3)
    assert [(g.title, g.count) for g in groups] == [("A report", 2), ("ACLED event e0", 1), ("ACLED event e1", 1)]
    assert store.count_sources() == 31


# --------------------------------------------------------------------- snapshot owners (issue 11, 2c)

def _snap(sid: str, owner: str = ""):
    from datetime import datetime, timezone

    from dashboard.store.snapshots import Snapshot

    return Snapshot(sid * 24, f"title {sid}", datetime(2024, 5, 1, tzinfo=timezone.utc), "?v=1", (), owner=owner)


def test_snapshots_list_and_delete_only_for_their_owner(store):
    for sid, owner in (("a", "ana"), ("b", "ben"), ("c", "")):
        store.put_snapshot(_snap(sid, owner))
    assert [s.id[0] for s in store.snapshots("ana")] == ["a"]
    assert sorted(s.id[0] for s in store.snapshots()) == ["a", "b", "c"]  # a single-user instance: all
    assert store.snapshots("") == [s for s in store.snapshots() if s.owner == ""]
    assert store.delete_snapshot("a" * 24, owner="ben") is False  # not his: nothing happens
    assert store.get_snapshot("a" * 24).owner == "ana"
    assert store.delete_snapshot("a" * 24, owner="ana") is True
    assert sorted(s.id[0] for s in store.snapshots()) == ["b", "c"]


def test_a_store_from_before_snapshot_owners_gains_the_column(tmp_path):
    path = tmp_path / "old.gpkg"
    with GeoPackageStore.open(path) as store:
        store.put_snapshot(_snap("z"))
    conn = sqlite3.connect(path)
    conn.execute("ALTER TABLE snapshots DROP COLUMN owner")
    conn.commit()
    conn.close()
    with GeoPackageStore.open(path) as store:
        assert store.snapshots()[0].owner == "" and store.get_snapshot("z" * 24).owner == ""


def test_a_snapshot_gets_its_picture_after_freezing_and_nothing_else_changes(store):
    from dashboard.snapshot import attach_thumbnail
    from dashboard.snapshot import PNG_SIGNATURE

    png = PNG_SIGNATURE + b"rest"
    store.put_snapshot(_snap("t"))
    before = store.get_snapshot("t" * 24)
    assert attach_thumbnail(store, "t" * 24, png) is True
    after = store.get_snapshot("t" * 24)
    assert after.thumbnail == png and after.events == before.events and after.query == before.query
    assert attach_thumbnail(store, "u" * 24, png) is False
    with pytest.raises(ValidationError):
        attach_thumbnail(store, "t" * 24, b"not a png")


def test_point_places_are_written_with_the_same_blob_gpkg_builds_and_gdal_reads_it(gpkg_store):
    store = gpkg_store
    from shapely.geometry import Point

    from dashboard.model import Place
    from dashboard.store import gpkg
    from dashboard.store.rows import _point_blob

    for lon, lat in ((30.76678, 50.92744), (-179.99999, -89.5), (0.0, 0.0)):
        assert _point_blob(lon, lat) == gpkg.to_blob(Point(lon, lat))
    pinned = Place("country:XX", "Pinned", "point", Point(30.0, 50.0), pin=(31.0, 51.0))
    store.put_events([make_event("p1", place=pinned), make_event("p2")], origin="test")
    (blob,) = store._conn.execute("SELECT geom FROM places WHERE key = 'country:XX'").fetchone()
    assert gpkg.from_blob(blob).equals(Point(30.0, 50.0))  # the place's own point, not its pin
    frame = pyogrio.read_dataframe(store.path, layer="places")
    assert sorted(frame.geometry.x.round(5)) == [30.0, 30.76678]


def test_a_snapshot_keeps_its_events_exactly_and_refuses_its_id_twice(store):
    from datetime import datetime, timezone

    from dashboard.store.snapshots import Snapshot

    events = tuple(_three(store).values()) + (make_event("border", place=BORDER),)
    made = datetime(2024, 5, 1, 12, 30, 15, 123456, tzinfo=timezone.utc)
    store.put_snapshot(Snapshot("k" * 24, "Desna", made, "?v=1&country=UA", events, owner="ana"))
    back = store.get_snapshot("k" * 24)
    assert tuple(back.events) == events and back.created_at == made and back.query == "?v=1&country=UA"
    assert [(s.id, s.event_count, s.owner) for s in store.snapshots()] == [("k" * 24, 4, "ana")]
    with pytest.raises(StoreError, match="already exists"):
        store.put_snapshot(Snapshot("k" * 24, "again", made, "?v=1", ()))
    assert store.get_snapshot("k" * 24).title == "Desna"
    with pytest.raises(NotFoundError, match="No snapshot with id"):
        store.get_snapshot("nope")


@pytest.mark.parametrize("name", ["acled_current.csv", "acled_legacy.csv", "features.geojson", "placemarks.kml",
                                  "generic_lat_lon.csv"])
def test_an_import_stores_the_same_events_on_every_backend(store, tmp_path, gazetteer, name):
    from pathlib import Path

    from dashboard.ingest.importer import import_file

    path = Path(__file__).parent / "data" / "import" / name
    with GeoPackageStore.open(tmp_path / "reference.gpkg") as reference:
        expected = import_file(path, reference, gazetteer)
        again = import_file(path, store, gazetteer)
        assert (again.added, again.updated, again.stored) == (expected.added, expected.updated, True)
        assert again.added > 0 and store.events() == reference.events()
        assert store.origins() == reference.origins()
        twice = import_file(path, store, gazetteer)  # the same file again: equal events, left alone (issue 18)
        assert (twice.added, twice.updated, twice.unchanged) == (0, 0, expected.added)


def test_frozen_events_are_the_events_as_columns_in_the_order_asked(store):
    from shapely.geometry import Polygon

    from dashboard.model import Place
    from dashboard.store.snapshots import FrozenEvents, read_frozen, frozen_text

    area = Place("country:BY", "Belarus", "country", Polygon([(23.2, 51.3), (32.8, 51.3), (32.8, 56.2)]), country="BY")
    events = list(_three(store).values()) + [make_event("by", place=area, actors=("Belarus", "Россия"),
                                                        attributes=(("fatalities", "0"),))]
    store.put_events(events[-1:], origin="test")
    wanted = ["by", "c", "a", "b"]
    frozen = store.frozen_events(wanted)
    assert isinstance(frozen, FrozenEvents) and len(frozen) == 4
    by_id = {e.id: e for e in events}
    assert tuple(frozen) == tuple(by_id[i] for i in wanted)
    assert tuple(read_frozen(frozen_text(frozen))) == tuple(frozen)
    assert len(store.frozen_events([])) == 0
    with pytest.raises(NotFoundError, match="no longer holds the event 'gone'"):
        store.frozen_events(["a", "gone"])
