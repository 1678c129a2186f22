"""Filters → the events that match them: dates by overlap, places, distance, drawn area, type, actor, text.

The rules themselves live once, vectorised, in `dashboard.table.select`; this module names the filter and
applies it to a store or to events in memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from shapely.geometry.base import BaseGeometry

from dashboard.model import Event, Place
from dashboard.store import EventStore
from dashboard.table import EventTable, select


@dataclass(frozen=True)
class EventFilter:
    start: date | None = None
    end: date | None = None
    countries: tuple[str, ...] = ()
    near: Place | None = None
    near_km: float | None = None
    admins: tuple[str, ...] = ()
    area: BaseGeometry | None = None  # a lon/lat polygon drawn on the map
    types: tuple[str, ...] = ()
    actors: tuple[str, ...] = ()
    text: str = ""
    # Area and distance filters take events by their own location: one located only by a country or
    # region (its place is that outline) matches them only when this is True (its outline crosses them).
    coarse: bool = False


def select_events(store: EventStore, flt: EventFilter) -> list[Event]:
    """Events that pass every filter; the store does dates and countries with its indexes."""
    return refine(store.events(flt.start, flt.end, flt.countries), flt)


def refine(events: list[Event], flt: EventFilter) -> list[Event]:
    """Apply every filter to events already in memory: the same rules as the app, through the same
    vectorised `table.select` (the store applies dates and countries itself)."""
    if not events:
        return events
    return [events[i] for i in select(EventTable.from_events(events), flt).tolist()]


@dataclass(frozen=True)
class Facets:
    """The values present in a set of events, to offer as filter choices."""

    types: tuple[str, ...]
    actors: tuple[str, ...]
    admins: tuple[str, ...]
    countries: tuple[str, ...]
    first: date | None
    last: date | None
