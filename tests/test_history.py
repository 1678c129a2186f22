"""Every change recorded (issue 18): versions, optimistic concurrency, reversible deletion — on every backend.

These tests use the EventStore interface only (any_store runs each on the GeoPackage and on PostGIS)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from dashboard.errors import ConflictError, NotFoundError, StoreError
from dashboard.store.base import CHANGE_ACTIONS
from tests.conftest import make_event


def actions(store, event_id):
    return [(c.version, c.action) for c in store.history(event_id)]


# ---------------------------------------------------------------------------------------------- saving

def test_a_new_event_is_version_1_and_its_creation_is_recorded(any_store):
    event = make_event("n1")
    before = datetime.now(timezone.utc) - timedelta(seconds=2)
    assert any_store.save_event(event, "ann", None) == 1
    assert any_store.version("n1") == 1 and any_store.get_event("n1") == event
    [change] = any_store.history("n1")
    assert (change.event_id, change.version, change.action, change.user, change.origin) == \
        ("n1", 1, "created", "ann", "edit")
    assert change.before is None and change.after == event
    assert before <= change.at <= datetime.now(timezone.utc) + timedelta(seconds=2)


def test_an_edit_from_the_current_version_makes_the_next_one_and_keeps_both_states(any_store):
    any_store.save_event(make_event("n1", title="first"), "ann", None)
    assert any_store.save_event(make_event("n1", title="second"), "bob", 1) == 2
    assert any_store.version("n1") == 2 and any_store.get_event("n1").title == "second"
    created, updated = any_store.history("n1")
    assert (updated.version, updated.action, updated.user) == (2, "updated", "bob")
    assert updated.before.title == "first" and updated.after.title == "second"
    assert created.after.title == "first"  # what version 1 was, though the row now holds version 2
    assert all(c.action in CHANGE_ACTIONS for c in (created, updated))


def test_saving_an_event_equal_to_the_stored_one_records_nothing(any_store):
    any_store.save_event(make_event("n1"), "ann", None)
    assert any_store.save_event(make_event("n1"), "bob", 1) == 1
    assert actions(any_store, "n1") == [(1, "created")]


def test_a_new_event_cannot_take_a_stored_id(any_store):
    any_store.save_event(make_event("n1", title="mine"), "ann", None)
    with pytest.raises(StoreError, match="exists already"):
        any_store.save_event(make_event("n1", title="theirs"), "bob", None)
    assert any_store.get_event("n1").title == "mine" and actions(any_store, "n1") == [(1, "created")]


def test_an_edit_of_an_event_never_stored_is_not_found(any_store):
    with pytest.raises(NotFoundError):
        any_store.save_event(make_event("ghost"), "ann", 1)
    with pytest.raises(NotFoundError):
        any_store.version("ghost")
    with pytest.raises(NotFoundError):
        any_store.history("ghost")


# ---------------------------------------------------------------------------------- two editors at once

def test_the_second_save_from_a_stale_version_is_refused_with_the_current_event(any_store, other_editor):
    any_store.save_event(make_event("n1", title="original"), "ann", None)
    seen_by_ann, seen_by_bob = any_store.version("n1"), other_editor.version("n1")
    assert any_store.save_event(make_event("n1", title="Ann's"), "ann", seen_by_ann) == 2
    with pytest.raises(ConflictError, match="version 2") as caught:
        other_editor.save_event(make_event("n1", title="Bob's"), "bob", seen_by_bob)
    assert caught.value.current_version == 2 and caught.value.current == make_event("n1", title="Ann's")
    assert other_editor.get_event("n1").title == "Ann's" and any_store.get_event("n1").title == "Ann's"
    assert actions(other_editor, "n1") == [(1, "created"), (2, "updated")]  # nothing of Bob's written
    assert other_editor.save_event(make_event("n1", title="Bob's"), "bob", caught.value.current_version) == 3


def test_a_delete_from_a_stale_version_is_refused_and_deletes_nothing(any_store, other_editor):
    any_store.save_event(make_event("n1", title="original"), "ann", None)
    any_store.save_event(make_event("n1", title="edited"), "ann", 1)
    with pytest.raises(ConflictError) as caught:
        other_editor.delete_event("n1", "bob", 1)
    assert caught.value.current_version == 2 and caught.value.current.title == "edited"
    assert any_store.get_event("n1").title == "edited" and any_store.deleted() == []


def test_an_edit_of_an_event_deleted_meanwhile_is_refused(any_store, other_editor):
    any_store.save_event(make_event("n1"), "ann", None)
    assert other_editor.delete_event("n1", "bob", 1) == 2
    with pytest.raises(ConflictError, match="deleted") as caught:
        any_store.save_event(make_event("n1", title="too late"), "ann", 1)
    assert caught.value.current is None and caught.value.current_version == 2
    with pytest.raises(NotFoundError):
        any_store.get_event("n1")


def test_a_restore_from_a_stale_view_is_refused(any_store, other_editor):
    any_store.save_event(make_event("n1", title="one"), "ann", None)
    any_store.save_event(make_event("n1", title="two"), "ann", 1)
    any_store.delete_event("n1", "ann", 2)
    assert other_editor.restore("n1", 1, "bob", None) == 4  # Bob saw it deleted and brings version 1 back
    with pytest.raises(ConflictError, match="no longer deleted") as caught:
        any_store.restore("n1", 2, "ann", None)  # Ann saw it deleted too, but Bob was first
    assert caught.value.current_version == 4 and caught.value.current.title == "one"
    with pytest.raises(ConflictError):
        any_store.restore("n1", 2, "ann", 3)
    assert any_store.get_event("n1").title == "one" and any_store.version("n1") == 4


# ---------------------------------------------------------------------------------- deleting, restoring

def test_deleting_removes_the_event_from_every_reading_and_keeps_it_in_the_history(any_store):
    any_store.put_events([make_event("keep"), make_event("gone", title="to delete")], origin="test")
    assert any_store.delete_event("gone", "ann", 1) == 2
    assert [e.id for e in any_store.events()] == ["keep"] and any_store.count() == 1
    with pytest.raises(NotFoundError):
        any_store.get_event("gone")
    with pytest.raises(NotFoundError):
        any_store.version("gone")
    with pytest.raises(NotFoundError):
        any_store.events_by_id(["gone"])
    created, deletion = any_store.history("gone")
    assert (created.action, created.origin, created.after.title) == ("created", "test", "to delete")
    assert (deletion.version, deletion.action, deletion.user, deletion.after) == (2, "deleted", "ann", None)
    assert deletion.before == make_event("gone", title="to delete")
    [listed] = any_store.deleted()
    assert (listed.event_id, listed.version, listed.before.title) == ("gone", 2, "to delete")


def test_deleting_an_event_never_stored_is_not_found(any_store):
    with pytest.raises(NotFoundError):
        any_store.delete_event("ghost", "ann", 1)


def test_a_deleted_event_is_restored_as_a_new_version(any_store):
    any_store.save_event(make_event("n1", title="one"), "ann", None)
    any_store.delete_event("n1", "ann", 1)
    with pytest.raises(StoreError, match="restore"):
        any_store.save_event(make_event("n1"), "bob", None)  # its id is not free: it is deleted
    with pytest.raises(StoreError, match="deletion"):
        any_store.restore("n1", 2, "bob", None)  # version 2 is the deletion itself
    assert any_store.restore("n1", 1, "bob", None) == 3
    assert any_store.get_event("n1") == make_event("n1", title="one") and any_store.version("n1") == 3
    assert actions(any_store, "n1") == [(1, "created"), (2, "deleted"), (3, "restored")]
    restored = any_store.history("n1")[-1]
    assert (restored.user, restored.origin, restored.before, restored.after.title) == ("bob", "restore", None, "one")
    assert any_store.deleted() == []


def test_an_earlier_version_of_a_live_event_is_restored_on_top(any_store):
    any_store.save_event(make_event("n1", title="one"), "ann", None)
    any_store.save_event(make_event("n1", title="two"), "ann", 1)
    assert any_store.restore("n1", 1, "bob", 2) == 3
    assert any_store.get_event("n1").title == "one"
    restored = any_store.history("n1")[-1]
    assert (restored.action, restored.before.title, restored.after.title) == ("restored", "two", "one")
    with pytest.raises(NotFoundError):
        any_store.restore("n1", 9, "bob", 3)


def test_many_events_are_deleted_at_once_each_recorded(any_store):
    any_store.put_events([make_event(f"e{i}") for i in range(5)], origin="test")
    assert any_store.delete_events(["e1", "e3", "e3", "not-there"], "acled", "acled-deletions:d.csv") == 2
    assert sorted(e.id for e in any_store.events()) == ["e0", "e2", "e4"]
    for event_id in ("e1", "e3"):
        change = any_store.history(event_id)[-1]
        assert (change.action, change.user, change.origin) == ("deleted", "acled", "acled-deletions:d.csv")
    assert sorted(c.event_id for c in any_store.deleted()) == ["e1", "e3"]
    assert any_store.delete_events([], "acled", "acled-deletions:d.csv") == 0


def test_the_list_of_deletions_is_newest_first_and_forgets_restored_events(any_store):
    any_store.put_events([make_event(f"e{i}") for i in range(3)], origin="test")
    for i in range(3):
        any_store.delete_event(f"e{i}", "ann", 1)
    any_store.restore("e1", 1, "ann", None)
    assert [c.event_id for c in any_store.deleted()] == ["e2", "e0"]
    assert [c.event_id for c in any_store.deleted(limit=1)] == ["e2"]


# ---------------------------------------------------------------------------------- imports (put_events)

def test_an_import_records_changed_events_and_leaves_equal_ones_alone(any_store, monkeypatch):
    monkeypatch.setenv("REACHMAP_USER", "importer")
    any_store.put_events([make_event("a"), make_event("b")], origin="import:one.csv")
    summary = any_store.put_events([make_event("a"), make_event("b", title="revised")], origin="import:two.csv")
    assert (summary.added, summary.updated, summary.unchanged) == (0, 1, 1)
    assert any_store.version("a") == 1 and any_store.version("b") == 2
    assert actions(any_store, "a") == [(1, "created")]
    created, updated = any_store.history("b")
    assert (created.user, created.origin) == ("importer", "import:one.csv")
    assert (updated.user, updated.origin, updated.before.title, updated.after.title) == \
        ("importer", "import:two.csv", "A strike", "revised")


def test_an_explicit_user_is_recorded_instead_of_the_setting(any_store, monkeypatch):
    monkeypatch.setenv("REACHMAP_USER", "setting")
    any_store.put_events([make_event("a")], origin="test", user="signed-in")
    assert any_store.history("a")[0].user == "signed-in"


def test_an_import_brings_a_deleted_event_back_as_a_restored_version(any_store):
    any_store.put_events([make_event("a")], origin="test")
    any_store.delete_event("a", "ann", 1)
    summary = any_store.put_events([make_event("a", title="again")], origin="import:x.csv")
    assert (summary.added, summary.updated) == (1, 0)
    assert any_store.get_event("a").title == "again" and any_store.version("a") == 3
    assert actions(any_store, "a") == [(1, "created"), (2, "deleted"), (3, "restored")]


def test_a_failed_import_records_no_change(any_store):
    any_store.put_events([make_event("a")], origin="test")

    def events():
        yield make_event("a", title="changed")
        yield from (make_event(f"x{i}") for i in range(1500))
        raise RuntimeError("the file ended early")

    with pytest.raises(RuntimeError):
        any_store.put_events(events(), origin="import:bad.csv")
    assert any_store.get_event("a").title == "A strike" and any_store.version("a") == 1
    assert actions(any_store, "a") == [(1, "created")] and any_store.count() == 1


def test_an_older_revision_does_not_overwrite_a_newer_one(any_store):
    def revised(stamp: str, fatalities: str):
        return make_event("acled:X1", attributes=(("fatalities", fatalities), ("timestamp", stamp)))

    any_store.put_events([revised("1656979200", "1")], origin="import:new.csv", revision="timestamp")
    summary = any_store.put_events([revised("1656000000", "9")], origin="import:old.csv", revision="timestamp")
    assert (summary.added, summary.updated, summary.skipped) == (0, 0, 1)
    assert any_store.get_event("acled:X1").attribute("fatalities") == "1"
    summary = any_store.put_events([revised("1656979200", "1")], origin="import:same.csv", revision="timestamp")
    assert (summary.updated, summary.unchanged, summary.skipped) == (0, 1, 0)
    summary = any_store.put_events([revised("2022-07-10", "2")], origin="import:newer.csv", revision="timestamp")
    assert summary.updated == 1 and any_store.get_event("acled:X1").attribute("fatalities") == "2"
    assert any_store.version("acled:X1") == 2
