"""What only the PostGIS store has: migrations, refusals, concurrent writers, the change counter (issue 18).

The tests every backend passes are in tests/test_store.py (`any_store`); these run on a fresh database of the
test server (REACHMAP_TEST_POSTGRES_URL), and skip without one (fail with REACHMAP_REQUIRE_POSTGIS=1).
"""

from __future__ import annotations

import threading
from datetime import date, datetime, timezone

import pytest

from dashboard.errors import StoreError
from dashboard.model import Place, TimeSpan
from dashboard.store import pg_schema
from tests.conftest import BORDER, make_event

psycopg = pytest.importorskip("psycopg")


@pytest.fixture
def url(postgres):
    return postgres.create()


def _open(url, **kw):
    from dashboard.store.postgis import PostGISStore

    return PostGISStore.open(url, **kw)


def _tables(url) -> set[str]:
    with psycopg.connect(url) as conn:
        return {r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}


def test_a_fresh_database_gets_the_schema_once_and_records_its_version(url):
    with _open(url) as store:
        meta = store.meta()
        assert meta["schema_version"] == str(pg_schema.SCHEMA_VERSION) and len(meta["store_id"]) == 32
        assert store.count() == 0 and store.change_counter() == 0
    with _open(url) as again:  # opening again migrates nothing and keeps the identity
        assert again.meta() == meta
    assert {"events", "places", "snapshots", "reachmap_meta", "reachmap_changes"} <= _tables(url)
    with psycopg.connect(url) as conn:
        kinds = dict(conn.execute("SELECT f_table_name, type FROM geometry_columns"))
        indexes = {r[0] for r in conn.execute("SELECT indexname FROM pg_indexes WHERE indexdef LIKE '%gist%'")}
    assert kinds == {"events": "POINT", "places": "GEOMETRY"}
    assert {"events_geom", "events_geog", "places_geom"} <= indexes


def test_a_new_store_is_seeded_in_the_same_transaction_and_a_failing_seed_leaves_it_empty(url):
    def failing():
        yield [make_event("s1")], "story"
        raise StoreError("the seed broke")

    with pytest.raises(StoreError, match="the seed broke"):
        _open(url, seed=failing)
    assert _tables(url) == {"spatial_ref_sys"}  # not even the schema: one transaction
    with _open(url, seed=lambda: [([make_event("s1")], "story")]) as store:
        assert [e.id for e in store.events()] == ["s1"] and store.origins() == ["story"]


def test_a_newer_schema_is_refused_with_a_sentence_and_left_as_it_is(url):
    with _open(url):
        pass
    with psycopg.connect(url) as conn:
        conn.execute("UPDATE reachmap_meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(StoreError, match=r"schema version 99, newer than this Reachmap understands \(2\); upgrade"):
        _open(url)
    with psycopg.connect(url) as conn:
        assert conn.execute("SELECT value FROM reachmap_meta WHERE key = 'schema_version'").fetchone()[0] == "99"


def test_a_foreign_database_is_refused_and_never_touched(url):
    with psycopg.connect(url) as conn:
        conn.execute("CREATE TABLE invoices (id int PRIMARY KEY, total numeric)")
        conn.execute("INSERT INTO invoices VALUES (1, 9.5)")
    with pytest.raises(StoreError, match=r"is not empty \(it holds invoices\) and is not a Reachmap store"):
        _open(url)
    assert _tables(url) == {"spatial_ref_sys", "invoices"}


def test_two_servers_starting_at_once_make_the_schema_once(url):
    errors, ids = [], []
    barrier = threading.Barrier(4)

    def start():
        barrier.wait()
        try:
            with _open(url) as store:
                ids.append(store.store_id)
        except Exception as exc:  # noqa: BLE001 (collected and asserted below)
            errors.append(exc)

    threads = [threading.Thread(target=start) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(set(ids)) == 1 and len(ids) == 4


def test_a_broken_url_or_absent_server_is_one_sentence_without_the_password(postgres):
    with pytest.raises(StoreError, match=r"^Cannot connect to the store postgresql://ana@127\.0\.0\.1:9/x .*"
                                         r"REACHMAP_STORE_URL") as info:
        _open("postgresql://ana:s3cret@127.0.0.1:9/x")
    assert "s3cret" not in str(info.value)
    with pytest.raises(StoreError, match="not a PostgreSQL URL|Cannot connect"):
        _open("postgresql://ana@host:notaport/x")


def test_a_nul_character_is_refused_with_a_sentence_and_nothing_is_written(url):
    with _open(url) as store:
        store.put_events([make_event("keep")], "t")
        with pytest.raises(StoreError, match="nothing was changed"):
            store.put_events([make_event("new"), make_event("bad", title="a\x00b")], "t")
        assert [e.id for e in store.events()] == ["keep"]


def test_the_change_counter_moves_with_every_write_of_events_and_not_with_snapshots(url):
    from dashboard.store.snapshots import Snapshot

    with _open(url) as store:
        assert store.change_counter() == 0
        store.put_events([make_event("a")], "t")
        assert store.change_counter() == 1
        with store.bulk_writer("import:x") as writer:
            writer.write((), ())
        assert store.change_counter() == 2
        store.put_snapshot(Snapshot("s" * 24, "t", datetime.now(timezone.utc), "?v=1", ()))
        store.set_snapshot_thumbnail("s" * 24, b"png")
        store.delete_snapshot("s" * 24)
        assert store.change_counter() == 2
        with pytest.raises(StoreError):  # a failed write rolls the counter back too
            store.put_events([make_event("b", title="\x00")], "t")
        assert store.change_counter() == 2


def test_two_connections_importing_at_once_lose_nothing(url):
    """Two bulk writers on two connections, overlapping places and one shared event id, at the same time."""
    from dashboard.store.rows import point_blob

    with _open(url):
        pass
    stores = [_open(url) for _ in range(2)]
    barrier = threading.Barrier(2)
    errors, summaries = [], []

    def rows(side: int):
        places = [(point_blob(30.0 + k, 50.0), f"p{k}", f"place {k}", "point", "UA", "", None, None, None, None)
                  for k in range(20)]
        events = [(point_blob(30.0 + i % 20, 50.0), f"{side}-{i}" if i else "shared", f"t {side}", "", "strike",
                   "2022-06-25", "2022-06-25", "day", "", "", f"p{i % 20}", f"place {i % 20}", ",UA,", 30.0 + i % 20,
                   50.0, "[]", "[]", "title", "pub", "", None, "q", f"import:{side}", "2024-01-01T00:00:00+00:00")
                  for i in range(3000)]
        return places, events

    def run(side: int):
        places, events = rows(side)
        barrier.wait()  # both start together (then one waits for the other's WRITE_LOCK)
        try:
            with stores[side].bulk_writer(f"import:{side}") as writer:
                for at in range(0, len(events), 500):
                    writer.write(places if at == 0 else (), events[at:at + 500])
            summaries.append(writer.summary)
        except Exception as exc:  # noqa: BLE001 (asserted below)
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(side,)) for side in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    try:
        assert errors == []
        assert sorted((s.added, s.updated) for s in summaries) == [(2999, 1), (3000, 0)]
        assert stores[0].count() == 2 * 3000 - 1
        assert stores[0].change_counter() == 2
        assert len(stores[1].events_by_id([f"{side}-{i}" for side in (0, 1) for i in range(1, 3000)])) == 5998
    finally:
        for store in stores:
            store.close()


def test_countries_and_polygons_keep_their_exact_geometry(url):
    from shapely.geometry import Polygon

    country = Place("country:BY", "Belarus", "country", Polygon([(23.2, 51.3), (32.8, 51.3), (32.8, 56.2),
                                                                 (23.2 + 1e-12, 56.2)]), country="BY")
    with _open(url) as store:
        store.put_events([make_event("by", place=country), make_event("b", place=BORDER,
                                                                      time=TimeSpan.day(date(2022, 2, 24)))], "t")
        back = store.get_event("by").place
        assert back == country and back.geometry.equals_exact(country.geometry, 0)
        assert [e.id for e in store.events(countries=("BY",))] == ["b", "by"]


def test_two_imports_whose_places_cross_neither_deadlock_nor_lose_anything(url):
    """Each import writes the other's places in the opposite order: row locks alone would deadlock (one import
    aborted); the writers' advisory lock makes the second wait for the first instead."""
    import time

    from dashboard.store.rows import point_blob

    with _open(url):
        pass
    stores = [_open(url) for _ in range(2)]
    pids = [store._conn.info.backend_pid for store in stores]
    first_done = [threading.Event(), threading.Event()]
    errors = []

    def place(k):
        return (point_blob(30.0 + k, 50.0), f"p{k}", f"place {k}", "point", "UA", "", None, None, None, None)

    def event(side, i, k):
        return (point_blob(30.0 + k, 50.0), f"{side}-{i}", "t", "", "strike", "2022-06-25", "2022-06-25", "day", "",
                "", f"p{k}", f"place {k}", ",UA,", 30.0 + k, 50.0, "[]", "[]", "title", "pub", "", None, "q",
                f"import:{side}", "2024-01-01T00:00:00+00:00")

    def waiting_for_the_writers_lock(pid) -> bool:
        with psycopg.connect(url) as conn:
            return bool(conn.execute("SELECT 1 FROM pg_locks WHERE pid = %s AND locktype = 'advisory' "
                                     "AND NOT granted", (pid,)).fetchone())

    def run(side):
        halves = [range(0, 10), range(10, 20)][::1 if side == 0 else -1]
        try:
            with stores[side].bulk_writer(f"import:{side}") as writer:
                for n, keys in enumerate(halves):
                    writer.write([place(k) for k in keys], [event(side, f"{n}-{k}", k) for k in keys])
                    if n == 0:  # until the other has its first half written too, or waits for the lock
                        first_done[side].set()
                        while not (first_done[1 - side].is_set() or waiting_for_the_writers_lock(pids[1 - side])):
                            time.sleep(0.02)
        except Exception as exc:  # noqa: BLE001 (asserted below)
            errors.append(exc)
            first_done[side].set()

    threads = [threading.Thread(target=run, args=(side,)) for side in (0, 1)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    try:
        assert errors == [] and stores[0].count() == 40
    finally:
        for store in stores:
            store.close()
