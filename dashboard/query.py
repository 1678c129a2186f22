"""Filters → the events that match them: dates by overlap, places, distance, drawn area, type, actor, text."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

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
    admins: tuple[str, ...] = ()
    area: BaseGeometry | None = None  # a lon/lat polygon drawn on the map
    types: tuple[str, ...] = ()
    actors: tuple[str, ...] = ()
    text: str = ""


def select_events(store: EventStore, flt: EventFilter) -> list[Event]:
    """Events that pass every filter; the store does dates and countries with its indexes."""
    return refine(store.events(flt.start, flt.end, flt.countries), flt)


def refine(events: list[Event], flt: EventFilter) -> list[Event]:
    """Apply every filter to events already in memory (the store applies dates and countries itself)."""
    if not events:
        return events
    keep = np.array([e.time.overlaps(flt.start, flt.end) for e in events])
    if flt.countries:
        wanted_countries = set(flt.countries)
        keep &= np.array([bool(wanted_countries.intersection(_countries(e.place))) for e in events])
    if flt.admins:
        wanted = {a.casefold() for a in flt.admins}
        keep &= np.array([e.place.admin1.casefold() in wanted for e in events])
    if flt.types:
        keep &= np.array([e.event_type in flt.types for e in events])
    if flt.actors:
        wanted = set(flt.actors)
        keep &= np.array([bool(wanted.intersection(e.actors)) for e in events])
    if flt.text.strip():
        needle = flt.text.strip().casefold()
        keep &= np.array([needle in f"{e.title}\n{e.description}\n{e.source.quote}".casefold() for e in events])
    lons = np.array([e.place.lonlat[0] for e in events])
    lats = np.array([e.place.lonlat[1] for e in events])
    if flt.area is not None:
        keep &= shapely.contains_xy(flt.area, lons, lats) | np.array(
            [flt.area.intersects(e.place.geometry) for e in events])
    if flt.near is not None and flt.near_km is not None:
        keep &= in_range(flt.near.geometry, flt.near_km, lons, lats).inside
    return [e for e, k in zip(events, keep) if k]


@dataclass(frozen=True)
class Facets:
    """The values present in a set of events, to offer as filter choices."""

    types: tuple[str, ...]
    actors: tuple[str, ...]
    admins: tuple[str, ...]
    countries: tuple[str, ...]
    first: date | None
    last: date | None


def facets(events: list[Event]) -> Facets:
    return Facets(
        types=tuple(sorted({e.event_type for e in events})),
        actors=tuple(sorted({a for e in events for a in e.actors})),
        admins=tuple(sorted({e.place.admin1 for e in events if e.place.admin1})),
        countries=tuple(sorted({c for e in events for c in _countries(e.place)})),
        first=min((e.time.start for e in events), default=None),
        last=max((e.time.end for e in events), default=None),
    )


def _countries(place: Place) -> tuple[str, ...]:
    if place.kind == "border" and place.key.startswith("border:"):
        return tuple(place.key.removeprefix("border:").split("-"))
    return (place.country,) if place.country else ()


def timeline(events: list[Event], bucket: str = "month") -> list[tuple[date, str, int]]:
    """Events per day, week (Monday) or month, counted at each event's start: (bucket start, type, count)."""
    counts: Counter[tuple[date, str]] = Counter()
    for e in events:
        counts[(bucket_start(e.time.start, bucket), e.event_type)] += 1
    return sorted((day, kind, n) for (day, kind), n in counts.items())


def bucket_start(day: date, bucket: str) -> date:
    if bucket == "day":
        return day
    if bucket == "week":
        return day - timedelta(days=day.weekday())
    if bucket == "month":
        return day.replace(day=1)
    raise ValueError(f"bucket must be day, week or month, not {bucket!r}")
