"""Snapshot records and the frozen form of their events: JSON that gives back every field exactly.

The events of a snapshot are copied, not referenced, so a snapshot never changes when the data does:

    {"v": 1,
     "places": [{"key": …, "name": …, "kind": …, "wkb": "0101…", "country": …, "admin1": …,
                 "geonameid": …, "population": …, "pin": [lon, lat] | null}, …],
     "events": [{"id": …, "title": …, "event_type": …, "description": …, "actors": […],
                 "time": {"start": "YYYY-MM-DD", "end": …, "precision": …, "text": …, "note": …},
                 "source": {"title": …, "publisher": …, "url": …, "published": "YYYY-MM-DD" | null, "quote": …},
                 "attributes": [[name, value], …],
                 "place": <index into places>}, …]}

Geometry is ISO WKB as hex (little-endian): bit-exact for every coordinate, where GeoJSON text would round.
Places are written once however many events share them: a country outline can be 100 KB.
"attributes" came later within format 1: frozen events without it read back with no attributes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any

import shapely

from dashboard.errors import StoreError, ValidationError
from dashboard.model import Event, Place, Source, TimeSpan

FORMAT_VERSION = 1


@dataclass(frozen=True)
class Snapshot:
    """A view frozen under an id: its query string and a copy of the events it showed."""

    id: str
    title: str
    created_at: datetime          # timezone-aware; kept in UTC
    query: str                    # share.to_query(state), read back with share.from_query
    events: tuple[Event, ...]
    thumbnail: bytes | None = None  # PNG
    owner: str = ""               # who may list and delete it on a shared server ('' on a single-user one)

    def __post_init__(self) -> None:
        if not isinstance(self.owner, str):
            raise ValidationError("snapshot.owner", self.owner, "must be text ('' for nobody in particular)")
        for name in ("id", "title", "query"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name):
                raise ValidationError(f"snapshot.{name}", getattr(self, name), "must be a non-empty text")
        if not isinstance(self.created_at, datetime) or self.created_at.utcoffset() is None:
            raise ValidationError("snapshot.created_at", self.created_at,
                                  "must be a timezone-aware datetime, e.g. datetime.now(timezone.utc)")
        object.__setattr__(self, "created_at", self.created_at.astimezone(timezone.utc))
        if not isinstance(self.events, tuple) or not all(isinstance(e, Event) for e in self.events):
            raise ValidationError("snapshot.events", type(self.events).__name__, "must be a tuple of Event")
        if self.thumbnail is not None and not isinstance(self.thumbnail, bytes):
            raise ValidationError("snapshot.thumbnail", type(self.thumbnail).__name__, "must be bytes or None")


@dataclass(frozen=True)
class SnapshotInfo:
    """One line of the list of snapshots: what a page shows without reading the frozen events."""

    id: str
    title: str
    created_at: datetime
    thumbnail: bytes | None
    event_count: int
    owner: str = ""


# ---------------------------------------------------------------------------------------------- writing

def events_to_json(events: tuple[Event, ...] | list[Event]) -> str:
    """The events as frozen JSON (see the module doc); `events_from_json` gives them back equal, field by field."""
    places: list[dict[str, Any]] = []
    index: dict[str, int] = {}  # by the place's whole JSON: same key with other content stays separate
    rows = []
    for event in events:
        place = _place_to_dict(event.place)
        text = json.dumps(place, sort_keys=True)
        if text not in index:
            index[text] = len(places)
            places.append(place)
        rows.append(_event_to_dict(event, index[text]))
    return json.dumps({"v": FORMAT_VERSION, "places": places, "events": rows},
                      ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _place_to_dict(place: Place) -> dict[str, Any]:
    return {
        "key": place.key, "name": place.name, "kind": place.kind,
        "wkb": shapely.to_wkb(place.geometry, hex=True, byte_order=1, flavor="iso"),
        "country": place.country, "admin1": place.admin1,
        "geonameid": place.geonameid, "population": place.population,
        "pin": list(place.pin) if place.pin is not None else None,
    }


def _event_to_dict(event: Event, place_index: int) -> dict[str, Any]:
    time, src = event.time, event.source
    return {
        "id": event.id, "title": event.title, "event_type": event.event_type,
        "description": event.description, "actors": list(event.actors),
        "time": {"start": time.start.isoformat(), "end": time.end.isoformat(), "precision": time.precision,
                 "text": time.text, "note": time.note},
        "source": {"title": src.title, "publisher": src.publisher, "url": src.url,
                   "published": src.published.isoformat() if src.published else None, "quote": src.quote},
        "attributes": [list(pair) for pair in event.attributes],
        "place": place_index,
    }


# ---------------------------------------------------------------------------------------------- reading

def events_from_json(text: str) -> tuple[Event, ...]:
    """The events written by `events_to_json`; StoreError (one sentence) if the text is not that."""
    try:
        data = json.loads(text)
        version = data["v"]
        if version != FORMAT_VERSION:
            raise StoreError(f"The frozen events have format version {version!r}, which this Reachmap does not "
                             f"read (it reads {FORMAT_VERSION}); upgrade Reachmap.")
        places = [_place_from_dict(p) for p in data["places"]]
        return tuple(_event_from_dict(e, places) for e in data["events"])
    except (ValueError, KeyError, TypeError, IndexError, shapely.errors.GEOSException) as exc:
        # ValueError covers bad JSON, bad dates and the model's ValidationError.
        raise StoreError(f"The frozen events cannot be read ({exc}); the snapshot is damaged.") from exc


def _place_from_dict(raw: dict[str, Any]) -> Place:
    pin = raw["pin"]
    return Place(
        key=raw["key"], name=raw["name"], kind=raw["kind"], geometry=shapely.from_wkb(raw["wkb"]),
        country=raw["country"], admin1=raw["admin1"], geonameid=raw["geonameid"],
        population=raw["population"], pin=(pin[0], pin[1]) if pin is not None else None,
    )


def _event_from_dict(raw: dict[str, Any], places: list[Place]) -> Event:
    time, src = raw["time"], raw["source"]
    if not isinstance(raw["place"], int) or raw["place"] < 0:  # -1 would quietly pick the last place
        raise IndexError(f"place index {raw['place']!r} is not in the list of places")
    return Event(
        id=raw["id"], title=raw["title"], event_type=raw["event_type"], description=raw["description"],
        actors=tuple(raw["actors"]),
        time=TimeSpan(date.fromisoformat(time["start"]), date.fromisoformat(time["end"]), time["precision"],
                      time["text"], time["note"]),
        source=Source(src["title"], src["publisher"], src["url"],
                      date.fromisoformat(src["published"]) if src["published"] is not None else None, src["quote"]),
        place=places[raw["place"]],
        attributes=tuple((k, v) for k, v in raw.get("attributes", ())),
    )
