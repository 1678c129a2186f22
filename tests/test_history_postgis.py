"""Every change recorded on PostGIS (issue 18): schema 2's migration, and editors and imports at once on the real
server, each on its own connection (as several app replicas are). The contract itself is tests/test_history.py.
"""

from __future__ import annotations

import csv
import threading
from dataclasses import replace
from pathlib import Path

import pytest

from dashboard.errors import ConflictError
from dashboard.store import pg_schema
from tests.conftest import make_event

psycopg = pytest.importorskip("psycopg")

ACLED = Path(__file__).parent / "data" / "import" / "acled_current.csv"


@pytest.fixture
def url(postgres):
    return postgres.create()


def _open(url):
    from dashboard.store.postgis import PostGISStore

    return PostGISStore.open(url)


def _at_once(*jobs):
    """Run the jobs in threads started together; the first error of any is raised here."""
    barrier = threading.Barrier(len(jobs))
    errors: list[BaseException] = []

    def run(job):
        try:
            barrier.wait(timeout=30)
            job()
        except BaseException as exc:  # handed to the test thread, which raises it
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not any(t.is_alive() for t in threads), "a writer never finished (a deadlock?)"
    if errors:
        raise errors[0]


def test_a_schema_1_store_is_upgraded_with_its_events_at_version_1(url):
    with _open(url) as store:
        store.put_events([make_event("old")], origin="story:x", user="ann")
    with psycopg.connect(url) as conn:  # back to what schema 1 was
        conn.execute("DROP TABLE history")
        conn.execute("ALTER TABLE events DROP COLUMN version, DROP COLUMN updated_by")
        conn.execute("UPDATE reachmap_meta SET value = '1' WHERE key = 'schema_version'")
    with _open(url) as store:
        assert store.meta()["schema_version"] == str(pg_schema.SCHEMA_VERSION) == "2"
        assert store.version("old") == 1 and store.get_event("old") == make_event("old")
        [created] = store.history("old")
        assert (created.version, created.action, created.origin, created.user) == (1, "created", "story:x", "")
        assert store.save_event(make_event("old", title="edited"), "bob", 1) == 2


def test_a_new_store_is_made_at_the_last_schema_in_one_step_with_its_seed(url):
    from dashboard.store.postgis import PostGISStore

    with PostGISStore.open(url, seed=lambda: [([make_event("s1")], "story:seed")]) as store:
        assert store.meta()["schema_version"] == "2" and store.version("s1") == 1
        assert [c.action for c in store.history("s1")] == ["created"]


def test_the_change_counter_moves_with_every_edit_delete_and_restore(url):
    with _open(url) as store:
        seen = [store.change_counter()]

        def moved():
            seen.append(store.change_counter())
            return seen[-1] > seen[-2]

        store.save_event(make_event("n1"), "ann", None)
        assert moved()
        store.save_event(make_event("n1", title="two"), "ann", 1)
        assert moved()
        store.delete_event("n1", "ann", 2)
        assert moved()
        store.restore("n1", 1, "ann", None)
        assert moved()
        store.delete_events(["n1"], "acled", "acled-deletions:d.csv")
        assert moved()
        with pytest.raises(ConflictError):
            store.restore("n1", 1, "ann", 4)  # refused: nothing written, nothing to invalidate
        assert store.change_counter() == seen[-1]


@pytest.mark.parametrize("second", ["save", "delete"])
def test_two_editors_saving_from_one_version_at_once_give_one_success_and_one_conflict(url, second):
    """Each round, two connections write from the same version at the same moment: exactly one wins."""
    with _open(url) as ann, _open(url) as bob:
        ann.save_event(make_event("n1", title="v1"), "ann", None)
        for round_ in range(8):
            version = ann.version("n1")
            if second == "delete" and round_ % 2:
                ann.restore("n1", 1, "ann", version)
                version = ann.version("n1")
            outcomes: dict[str, object] = {}

            def edit(store, user):
                try:
                    if user == "bob" and second == "delete":
                        outcomes[user] = store.delete_event("n1", user, version)
                    else:
                        outcomes[user] = store.save_event(make_event("n1", title=f"{user} {round_}"), user, version)
                except ConflictError as exc:
                    outcomes[user] = exc

            _at_once(lambda: edit(ann, "ann"), lambda: edit(bob, "bob"))
            won = [u for u, o in outcomes.items() if isinstance(o, int)]
            lost = [u for u, o in outcomes.items() if isinstance(o, ConflictError)]
            assert len(won) == 1 and len(lost) == 1, outcomes
            assert outcomes[won[0]] == version + 1 and outcomes[lost[0]].current_version == version + 1
            last = ann.history("n1")[-1]
            assert (last.version, last.user) == (version + 1, won[0])
            if last.action == "deleted":
                ann.restore("n1", version, "ann", None)
        versions = [c.version for c in ann.history("n1")]
        assert versions == list(range(1, versions[-1] + 1))  # no version written twice, none skipped


def _acled_file(path: Path, n: int, timestamp: int, fatalities: int, first: int = 0) -> Path:
    """An ACLED export of n events near Desna (the columns of the test file), each at this revision, ids from
    UKR<first>."""
    with ACLED.open(newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        template, fields = next(reader), reader.fieldnames
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fields)
        writer.writeheader()
        for i in range(first, first + n):
            writer.writerow(template | {"event_id_cnty": f"UKR{i:06d}", "latitude": f"{50.9 + i % 50 / 1000:.4f}",
                                        "longitude": f"{30.7 + i // 50 / 1000:.4f}", "fatalities": str(fatalities),
                                        "timestamp": str(timestamp)})
    return path


def test_two_imports_and_five_editors_at_once_lose_nothing(url, tmp_path, gazetteer):
    """Issue 18 on the real server: a revised ACLED export and a new one (other events) are imported while five
    editors edit events of the first, each on its own connection; afterwards every event is stored, every
    successful save and the revision are in the history, versions run without a gap, and each event is its last
    change."""
    from dashboard.ingest.importer import import_file

    n, edited = 3000, [f"acled:UKR{i:06d}" for i in range(0, 3000, 150)]
    first = _acled_file(tmp_path / "acled_june.csv", n, 1656979200, 0)
    revised = _acled_file(tmp_path / "acled_july.csv", n, 1657584000, 1)
    with _open(url) as setup:
        report = import_file(first, setup, gazetteer, user="importer")
        assert report.added == n and setup.count() == n
    more = _acled_file(tmp_path / "acled_more.csv", 2000, 1657584000, 2, first=n)  # 2,000 events more
    editors = ("ann", "bob", "cem", "dana", "eli")
    saved: dict[str, list[tuple[int, str]]] = {user: [] for user in editors}
    report_box, more_box = [], []

    def importer(path, box):
        with _open(url) as store:
            box.append(import_file(path, store, gazetteer, user="importer"))

    def editor(user):
        with _open(url) as store:
            for round_ in range(3):
                for event_id in edited:
                    while True:  # an editor told of a conflict looks again and saves from the new version
                        version = store.version(event_id)
                        title = f"{user} {round_} {event_id}"
                        try:
                            new = store.save_event(replace(store.get_event(event_id), title=title), user, version)
                        except ConflictError:
                            continue
                        saved[user].append((new, title))
                        break

    _at_once(lambda: importer(revised, report_box), lambda: importer(more, more_box),
             *[lambda user=user: editor(user) for user in editors])
    [report], [other] = report_box, more_box
    assert (report.added, report.updated + report.unchanged) == (0, n) and other.added == 2000
    with _open(url) as store:
        assert store.count() == n + 2000
        assert store.get_event(f"acled:UKR{n + 1999:06d}").attribute("fatalities") == "2"
        for user, saves in saved.items():
            assert len(saves) == 3 * len(edited)
        changes = {event_id: store.history(event_id) for event_id in edited}
        for event_id, history in changes.items():
            assert [c.version for c in history] == list(range(1, len(history) + 1))
            assert history[0].action == "created" and history[-1].after == store.get_event(event_id)
            assert all(history[i].after == history[i + 1].before for i in range(len(history) - 1))
            revisions = [c for c in history if c.origin == "import:acled_july.csv"]
            assert len(revisions) == 1 and revisions[0].after.attribute("fatalities") == "1"
            assert store.get_event(event_id).attribute("fatalities") == "1"  # no editor's save undid the revision
        recorded = {(c.event_id, c.version, c.user, c.after.title) for h in changes.values() for c in h
                    if c.origin == "edit"}
        for user, saves in saved.items():
            for version, title in saves:
                assert (title.rsplit(" ", 1)[1], version, user, title) in recorded
        untouched = store.history("acled:UKR000001")
        assert [(c.version, c.action, c.user) for c in untouched] == [(1, "created", "importer"),
                                                                       (2, "updated", "importer")]
