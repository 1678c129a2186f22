"""ACLED is a living dataset (issue 18): newer exports revise events, older ones never overwrite them, and
ACLED's deletions file removes events — each change recorded, each deletion restorable. Real files in tmp_path."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from dashboard.errors import DashboardError, NotFoundError
from dashboard.ingest import open_store
from dashboard.ingest.acled_deletions import import_deletions, read_deletions
from dashboard.ingest.importer import import_file
from dashboard.settings import PROJECT_DIR

CURRENT = PROJECT_DIR / "tests" / "data" / "import" / "acled_current.csv"
TEXT = CURRENT.read_text(encoding="utf-8")
DESNA = "acled:UKR98765"  # its row: fatalities 0, timestamp 1656979200


@pytest.fixture
def store(any_store):
    """An empty store of each backend (tests/conftest.py any_store): revisions and deletions on both."""
    return any_store


def export(tmp_path: Path, name: str, fatalities: str, stamp: str) -> Path:
    """acled_current.csv with Desna's row revised: its fatalities and its timestamp."""
    old = 'Casualties unknown.",0,,1656979200'
    assert TEXT.count(old) == 1
    path = tmp_path / name
    path.write_text(TEXT.replace(old, f'Casualties unknown.",{fatalities},,{stamp}'), encoding="utf-8")
    return path


def test_a_newer_export_revises_and_an_older_one_is_skipped(store, gazetteer, tmp_path):
    import_file(CURRENT, store, gazetteer)
    newer = import_file(export(tmp_path, "newer.csv", "3", "1657584000"), store, gazetteer)
    assert (newer.added, newer.updated, newer.unchanged, newer.skipped) == (0, 1, 3, 0)
    assert store.get_event(DESNA).attribute("fatalities") == "3" and store.version(DESNA) == 2
    older = import_file(export(tmp_path, "older.csv", "7", "1656374400"), store, gazetteer)
    assert (older.added, older.updated, older.unchanged, older.skipped) == (0, 0, 3, 1)
    assert "1 skipped (older than the stored revision)" in str(older)
    assert store.get_event(DESNA).attribute("fatalities") == "3" and store.version(DESNA) == 2
    same = import_file(export(tmp_path, "newer.csv", "3", "1657584000"), store, gazetteer)
    assert (same.updated, same.unchanged, same.skipped) == (0, 4, 0) and store.version(DESNA) == 2
    change = store.history(DESNA)[-1]
    assert (change.action, change.origin) == ("updated", "import:newer.csv")
    assert change.before.attribute("fatalities") == "0" and change.after.attribute("fatalities") == "3"


def deletions(tmp_path: Path, rows: str, name: str = "deleted.csv") -> Path:
    path = tmp_path / name
    path.write_text("event_id_cnty,deleted_timestamp\n" + rows, encoding="utf-8")
    return path


def test_a_deletions_file_deletes_the_listed_events_reversibly(store, gazetteer, tmp_path):
    import_file(CURRENT, store, gazetteer)
    path = deletions(tmp_path, "UKR98765,1657584000\nBLR1234,2022-07-12\nUKR00000,1657584000\n")
    report = import_deletions(path, store, user="ann")
    assert (report.rows, report.deleted, report.not_stored) == (3, 2, 1)
    assert str(report).startswith("deleted.csv (acled-deletions): 3 rows, 2 deleted, 1 not in the store")
    assert sorted(e.id for e in store.events()) == ["acled:UKR98770", "acled:UKR98801"]
    with pytest.raises(NotFoundError):
        store.get_event(DESNA)
    change = store.history(DESNA)[-1]
    assert (change.action, change.user, change.origin, change.after) == \
        ("deleted", "ann", "acled-deletions:deleted.csv", None)
    assert {c.event_id for c in store.deleted()} == {DESNA, "acled:BLR1234"}
    again = import_deletions(path, store, user="ann")  # the same file again: nothing left to delete
    assert (again.deleted, again.not_stored) == (0, 3)
    assert store.restore(DESNA, 1, "ann", None) == 3 and store.get_event(DESNA).attribute("fatalities") == "0"


def test_a_deletion_older_than_the_stored_revision_is_skipped(store, gazetteer, tmp_path):
    """ACLED deleted Desna's event on 2 July, then published it again, revised, on 12 July: the store holds that
    revision, so the old deletion must not remove it; the other listed event goes."""
    import_file(export(tmp_path, "july.csv", "3", "1657584000"), store, gazetteer)
    path = deletions(tmp_path, "UKR98765,1656720000\nUKR98770,1656720000\n")
    report = import_deletions(path, store, user="ann")
    assert (report.deleted, report.not_stored, report.skipped) == (1, 0, 1)
    assert "1 skipped (the store holds a revision newer than the deletion)" in str(report)
    assert store.get_event(DESNA).attribute("fatalities") == "3" and store.version(DESNA) == 1
    with pytest.raises(NotFoundError):
        store.get_event("acled:UKR98770")
    later = import_deletions(deletions(tmp_path, "UKR98765,1657670400\n", "later.csv"), store, user="ann")
    assert (later.deleted, later.skipped) == (1, 0)  # a deletion after the revision deletes it


def test_an_export_no_newer_than_a_deletion_does_not_bring_the_event_back(store, gazetteer, tmp_path):
    import_file(CURRENT, store, gazetteer)
    import_deletions(deletions(tmp_path, "UKR98765,1657584000\n"), store, user="ann")
    report = import_file(CURRENT, store, gazetteer)  # the same export as before the deletion
    assert (report.added, report.skipped) == (0, 1) and store.count() == 3
    back = import_file(export(tmp_path, "revised.csv", "1", "1657670400"), store, gazetteer)  # revised after it
    assert back.added == 1 and store.version(DESNA) == 3 and store.history(DESNA)[-1].action == "restored"


def test_a_deletions_workbook_is_read_too(store, gazetteer, tmp_path):
    import openpyxl

    import_file(CURRENT, store, gazetteer)
    book = openpyxl.Workbook()
    book.active.append(["event_id_cnty", "deleted_timestamp"])
    book.active.append(["UKR98770", 1657584000])
    path = tmp_path / "deleted.xlsx"
    book.save(path)
    assert import_deletions(path, store, user="ann").deleted == 1 and store.count() == 3


@pytest.mark.parametrize("rows, expected", [
    ("UKR98765,1657584000\nBLR1234,next week\n", "line 3: deleted_timestamp 'next week' is not a Unix time"),
    ("UKR98765,1657584000\n,1657584000\n", "line 3: event_id_cnty '' is empty"),
])
def test_a_bad_row_deletes_nothing_and_says_where(store, gazetteer, tmp_path, rows, expected):
    import_file(CURRENT, store, gazetteer)
    with pytest.raises(DashboardError, match=expected) as caught:
        import_deletions(deletions(tmp_path, rows), store, user="ann")
    assert "nothing was deleted" in str(caught.value) and "\n" not in str(caught.value)
    assert store.count() == 4 and store.deleted() == []


def test_a_file_without_the_columns_is_not_a_deletions_file(tmp_path):
    path = tmp_path / "x.csv"
    path.write_text("event_id_cnty,when\nUKR1,2022-01-01\n", encoding="utf-8")
    with pytest.raises(DashboardError, match="no deleted_timestamp column"):
        read_deletions(path)


def test_format_auto_never_deletes(store, gazetteer, tmp_path):
    path = deletions(tmp_path, "UKR98765,1657584000\n")
    with pytest.raises(DashboardError, match="format acled-deletions"):
        import_file(path, store, gazetteer)


def run(*args: str) -> subprocess.CompletedProcess:
    """`python -m dashboard …` as cli-user, on the store the settings name (the store_location fixture's)."""
    env = {**os.environ, "REACHMAP_USER": "cli-user"}
    return subprocess.run([sys.executable, "-m", "dashboard", *args], capture_output=True, text=True, env=env,
                          cwd=PROJECT_DIR, timeout=120)


def test_the_command_line_deletes_with_format_acled_deletions(store_location, tmp_path, gazetteer):
    assert run("import", str(CURRENT)).returncode == 0
    with open_store(store_location) as store:
        before = store.count()  # the stories seeded into a new store, and the 4 ACLED events
    done = run("import", str(deletions(tmp_path, "UKR98765,1657584000\n")), "--format", "acled-deletions")
    assert done.returncode == 0, done.stderr
    assert "1 deleted, 0 not in the store" in done.stdout
    bad = run("import", str(deletions(tmp_path, "UKR98770,soon\n", "bad.csv")), "--format", "acled-deletions")
    assert bad.returncode != 0 and "Traceback" not in bad.stderr
    assert "bad.csv, line 2: deleted_timestamp 'soon'" in bad.stderr
    with open_store(store_location) as store:
        assert store.count() == before - 1 and store.history(DESNA)[-1].user == "cli-user"


@pytest.mark.parametrize("text, expected", [
    ('[["fatalities", "0"], ["timestamp", "1656979200"]]', 1656979200.0),  # as the store writes it
    ('[["timestamp",1656979200]]', 1656979200.0),                            # other software's JSON
    ('[["timestamp", "2022-07-05"]]', 1656979200.0),                         # a re-saved file's date
    ('[["notes", "a [\\"timestamp\\", \\"5\\"] b"], ["timestamp", "7"]]', 7.0),  # quoted inside another value
    ('[["fatalities", "0"]]', None),
    ('[["timestamp", "soon"]]', None),
])
def test_the_revision_is_read_from_the_stored_attributes(text, expected):
    from dashboard.store.history import revision_of

    assert revision_of(text, "timestamp") == expected
