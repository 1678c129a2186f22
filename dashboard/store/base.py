"""The EventStore interface every backend implements: the embedded GeoPackage and the team's PostGIS (#18).

Every change of an event is recorded (issue 18): an event has a version (1 when first written, +1 at each
change), and `history` lists who changed it, when, and what it was before and after. Edits carry the version
the editor started from (optimistic concurrency): a save from a version that is no longer current raises
ConflictError with the current event, and writes nothing. Deleting is reversible (`restore`).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import NamedTuple
from datetime import date, datetime

from dashboard.model import Event, span_label
from dashboard.store.snapshots import FrozenEvents, Snapshot, SnapshotInfo


@dataclass(frozen=True)
class WriteSummary:
    """What a write did. unchanged: events equal to the stored ones (left alone, no new version); skipped:
    events older than the stored revision (see put_events' `revision`), left alone too."""

    added: int
    updated: int
    unchanged: int = 0
    skipped: int = 0

    def __str__(self) -> str:
        text = f"{self.added} added, {self.updated} updated"
        if self.unchanged:
            text += f", {self.unchanged} unchanged"
        if self.skipped:
            text += f", {self.skipped} skipped (older than stored)"
        return text


class Listed(NamedTuple):
    """One row of an events table: what a reader scans, and where the event is pinned."""

    id: str
    start: date
    end: date
    precision: str
    text: str
    title: str
    place: str
    event_type: str
    publisher: str
    quote: str
    url: str
    lon: float
    lat: float

    @property
    def label(self) -> str:
        return span_label(self.start, self.end, self.precision, self.text)


@dataclass(frozen=True)
class SourceGroup:
    """A source, how many stored events cite it, and the first of them."""

    publisher: str
    title: str
    url: str
    published: date | None
    count: int
    events: list[Event]


CHANGE_ACTIONS = ("created", "updated", "deleted", "restored")


@dataclass(frozen=True)
class Change:
    """One recorded change of one event.

    version: the event's version this change produced (the first write is 1; a deletion is a version too, so
    restoring it is unambiguous). before/after: the event before and after the change (None before "created",
    None after "deleted"). user: who (the `user` setting, or the login the proxy names; "" when unknown). origin:
    what made it: "edit" (the app's form), "import:<file>", "acled-deletions:<file>", "restore", a story id.
    """

    event_id: str
    version: int
    action: str
    user: str
    at: datetime  # UTC
    origin: str
    before: Event | None
    after: Event | None


def id_list(ids: Iterable[str]) -> list[str]:
    """Event ids as a list of str, however a caller holds them: a list, a numpy array of str (a scene's), or
    Arrow text (`EventTable.selected_ids`)."""
    if hasattr(ids, "to_pylist"):
        return ids.to_pylist()
    return ids.tolist() if hasattr(ids, "tolist") else list(ids)


class EventStore(ABC):
    """Events with their places and provenance; every write is one transaction."""

    @abstractmethod
    def put_events(self, events: Iterable[Event], origin: str, user: str | None = None,
                   revision: str | None = None) -> WriteSummary:
        """Insert or update (by event id) all events in one transaction; on any error nothing is written.

        Every change is recorded like save_event's (user: who, None for the `user` setting; origin: what made
        it): a new event gets version 1 (no history row: its "created" change is made from its row), a stored
        one whose content differs gets version + 1 with the replaced state in its history, and one equal to the
        stored event is left alone (counted unchanged). An id that was deleted comes back as a "restored"
        version. revision: the name of an attribute whose value orders an event's revisions (ACLED's
        "timestamp": Unix seconds or a date text); an incoming event whose value is older than the stored one's
        is left alone and counted skipped, and a deleted event comes back only if newer than its deletion."""

    def bulk_writer(self, origin: str, user: str | None = None, revision: str | None = None) -> AbstractContextManager:
        """A writer of rows ready for this backend's tables, in one transaction (GeoPackageStore.bulk_writer),
        recording changes as put_events does; a backend without one is written Event by Event (put_events)."""
        raise NotImplementedError(f"{type(self).__name__} has no bulk writer; use put_events")

    @abstractmethod
    def events(self, start: date | None = None, end: date | None = None,
               countries: tuple[str, ...] = ()) -> list[Event]:
        """Events whose time span overlaps [start, end] and that touch any of the countries (ISO2)."""

    @abstractmethod
    def get_event(self, event_id: str) -> Event:
        """One event by id; NotFoundError if there is none."""

    @abstractmethod
    def events_by_id(self, ids: Sequence[str]) -> list[Event]:
        """The events with these ids, in this order; NotFoundError if one is not stored."""

    def frozen_events(self, ids: Sequence[str]) -> FrozenEvents:
        """These events, in this order, as a snapshot's columns; NotFoundError if one is not stored.
        A backend may read its columns without building Event objects (GeoPackageStore does)."""
        return FrozenEvents.from_events(self.events_by_id(ids))

    @abstractmethod
    def listing(self, ids: Sequence[str]) -> list[Listed]:
        """The table rows of these events, in this order, without building Event objects."""

    @abstractmethod
    def source_groups(self, per_source: int, max_groups: int) -> list[SourceGroup]:
        """The most cited sources, each with its number of events and its first `per_source` events by date."""

    @abstractmethod
    def count_sources(self) -> int:
        """How many distinct sources the events cite."""

    @abstractmethod
    def count(self) -> int: ...

    @abstractmethod
    def origins(self) -> list[str]:
        """Where the stored events came from (story ids, imported files)."""

    # -- edits with history (issue 18); every backend implements these with the same tests ---------------------

    def version(self, event_id: str) -> int:
        """The current version of a stored event; NotFoundError if there is none (a deleted event has none)."""
        raise NotImplementedError(f"{type(self).__name__} does not record versions yet")

    def save_event(self, event: Event, user: str, expected_version: int | None, origin: str = "edit") -> int:
        """Add or edit one event in one transaction, record the change, and return its new version.

        expected_version None: a new event; StoreError if its id is taken (or was deleted: restore that instead).
        Otherwise the version the editor started from: ConflictError (with the current event) if the stored
        version differs or the event was deleted meanwhile. Saving an event equal to the stored one writes
        nothing and returns the current version."""
        raise NotImplementedError(f"{type(self).__name__} does not record versions yet")

    def delete_event(self, event_id: str, user: str, expected_version: int, origin: str = "edit") -> int:
        """Delete one event, reversibly: recorded as a version whose `after` is None; returns that version.
        ConflictError if the stored version is not expected_version; NotFoundError if there is no such event."""
        raise NotImplementedError(f"{type(self).__name__} does not record versions yet")

    def delete_events(self, event_ids: Sequence[str], user: str, origin: str) -> int:
        """Delete many events at once (an ACLED deletions file), each recorded like delete_event, in one
        transaction; ids the store does not hold are skipped. Returns how many were deleted."""
        raise NotImplementedError(f"{type(self).__name__} does not record versions yet")

    def history(self, event_id: str) -> list[Change]:
        """Every recorded change of the event, oldest first (a deleted event's too); NotFoundError if the store
        never held it. An event written before histories were kept has one "created" change made from its row."""
        raise NotImplementedError(f"{type(self).__name__} does not record versions yet")

    def restore(self, event_id: str, version: int, user: str, expected_version: int | None) -> int:
        """Make the event as it was after `version` current again (undeleting it if it is deleted), recorded as
        a new "restored" version, which is returned. expected_version: the current version the user saw (None
        if they saw it deleted); ConflictError if that is no longer so. NotFoundError if the event has no such
        version; StoreError if that version is a deletion (nothing to make current). Restoring a version equal
        to the current event writes nothing and returns the current version. origin of the change: "restore"."""
        raise NotImplementedError(f"{type(self).__name__} does not record versions yet")

    def deleted(self, limit: int = 100) -> list[Change]:
        """The most recent deletions of events that are still deleted, newest first (to list and undelete)."""
        raise NotImplementedError(f"{type(self).__name__} does not record versions yet")

    @abstractmethod
    def put_snapshot(self, snapshot: Snapshot) -> None:
        """Keep a snapshot, in one transaction; StoreError if its id is taken (snapshots never change)."""

    @abstractmethod
    def get_snapshot(self, snapshot_id: str) -> Snapshot:
        """One snapshot with its frozen events; NotFoundError if there is none."""

    @abstractmethod
    def snapshots(self, owner: str | None = None) -> list[SnapshotInfo]:
        """The snapshots of `owner` (all of them for None), newest first, without reading their events."""

    @abstractmethod
    def set_snapshot_thumbnail(self, snapshot_id: str, thumbnail: bytes) -> bool:
        """Give a snapshot its picture (drawn after it was frozen); False if there is no such snapshot.
        The only change a snapshot ever sees: its query and events stay as frozen."""

    @abstractmethod
    def delete_snapshot(self, snapshot_id: str, owner: str | None = None) -> bool:
        """Remove a snapshot (only if `owner` made it, unless None); False if there was no such snapshot."""

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> EventStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def memory_trimmer() -> Callable[[], object]:
    """A function that gives freed memory back to the system: glibc's malloc_trim(0) (GDAL mallocs each batch
    it hands over, and glibc keeps what is freed: 400 MB of a 1M-event freeze, a third more than the data a
    table build kept) and Arrow's pool's unused pages (mimalloc keeps each batch's copies). Call it after
    each batch read through GDAL or decoded from a stream (a store's frozen_events, the table's build, an
    opened snapshot's map table)."""
    import ctypes

    import pyarrow as pa

    pool = pa.default_memory_pool()
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (AttributeError, OSError):
        return pool.release_unused
    return lambda: (trim(0), pool.release_unused())
