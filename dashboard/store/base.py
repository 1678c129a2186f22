"""The EventStore interface every backend implements (the embedded GeoPackage now, PostGIS later)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from dashboard.model import Event
from dashboard.store.snapshots import Snapshot, SnapshotInfo


@dataclass(frozen=True)
class WriteSummary:
    added: int
    updated: int

    def __str__(self) -> str:
        return f"{self.added} added, {self.updated} updated"


class EventStore(ABC):
    """Events with their places and provenance; every write is one transaction."""

    @abstractmethod
    def put_events(self, events: Iterable[Event], origin: str) -> WriteSummary:
        """Insert or update (by event id) all events in one transaction; on any error nothing is written."""

    @abstractmethod
    def events(self, start: date | None = None, end: date | None = None,
               countries: tuple[str, ...] = ()) -> list[Event]:
        """Events whose time span overlaps [start, end] and that touch any of the countries (ISO2)."""

    @abstractmethod
    def get_event(self, event_id: str) -> Event:
        """One event by id; NotFoundError if there is none."""

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
    def snapshots(self) -> list[SnapshotInfo]:
        """All snapshots, newest first, without reading their frozen events."""

    @abstractmethod
    def delete_snapshot(self, snapshot_id: str) -> bool:
        """Remove a snapshot; False if there was none with that id."""

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> EventStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
