"""The EventStore interface every backend implements (the embedded GeoPackage now, PostGIS later)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import NamedTuple
from datetime import date

from dashboard.model import Event, span_label
from dashboard.store.snapshots import FrozenEvents, Snapshot, SnapshotInfo


@dataclass(frozen=True)
class WriteSummary:
    added: int
    updated: int

    def __str__(self) -> str:
        return f"{self.added} added, {self.updated} updated"


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


class EventStore(ABC):
    """Events with their places and provenance; every write is one transaction."""

    @abstractmethod
    def put_events(self, events: Iterable[Event], origin: str) -> WriteSummary:
        """Insert or update (by event id) all events in one transaction; on any error nothing is written."""

    def bulk_writer(self, origin: str) -> AbstractContextManager:
        """A writer of rows ready for this backend's tables, in one transaction (GeoPackageStore.bulk_writer);
        a backend without one is written Event by Event (put_events)."""
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
