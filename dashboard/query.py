"""Filters → the events that match them (dates by overlap, countries, distance from a place)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from dashboard.geodesy import in_range
from dashboard.model import Event, Place
from dashboard.store import EventStore


@dataclass(frozen=True)
class EventFilter:
    start: date | None = None
    end: date | None = None
    countries: tuple[str, ...] = ()
    near: Place | None = None
    near_km: float | None = None


def select_events(store: EventStore, flt: EventFilter) -> list[Event]:
    """Events overlapping the date span, in the countries, and within near_km of the `near` place."""
    events = store.events(flt.start, flt.end, flt.countries)
    if flt.near is None or flt.near_km is None or not events:
        return events
    lons = np.array([e.place.lonlat[0] for e in events])
    lats = np.array([e.place.lonlat[1] for e in events])
    hits = in_range(flt.near.geometry, flt.near_km, lons, lats).inside
    return [e for e, hit in zip(events, hits) if hit]
