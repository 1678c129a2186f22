"""Read story files (geodata/stories/*.json): places checked against the gazetteer, events with provenance."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from shapely.geometry import Point

from dashboard.errors import DashboardError, ValidationError
from dashboard.gazetteer import Gazetteer
from dashboard.geodesy import distance_bearing
from dashboard.model import Deployment, Event, Place, Source, TimeSpan, Validity

# A story place that names a GeoNames id must sit this close to GeoNames' own point for that id.
MAX_OFFSET_KM = 5.0


@dataclass(frozen=True)
class Story:
    id: str
    title: str
    date: date
    summary: str
    places: tuple[Place, ...]
    events: tuple[Event, ...]
    sources: tuple[Source, ...]
    deployments: tuple[Deployment, ...] = ()  # where the story places a system, and from when

    @property
    def origin(self) -> str:
        return f"story:{self.id}"


def parse_date(value: object, field: str) -> date | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise ValidationError(field, value, "must be a date written YYYY-MM-DD") from exc


def load_story(path: Path, gazetteer: Gazetteer) -> Story:
    """Parse one story file; every error names the file, the item and the field."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise DashboardError(f"Cannot read the story file {path}: {exc}.") from exc
    try:
        sources = {key: _source(raw) for key, raw in data["sources"].items()}
        places = {key: _place(key, raw, gazetteer) for key, raw in data["places"].items()}
        events = tuple(_event(raw, places, sources) for raw in data["events"])
        deployments = _deployments(data, sources)
        story_date = parse_date(data["date"], "date")
    except KeyError as exc:
        raise DashboardError(f"The story file {path} lacks the field {exc.args[0]!r}.") from exc
    except ValidationError as exc:
        raise DashboardError(f"In the story file {path}: {exc}") from exc
    return Story(data["id"], data["title"], story_date, data.get("summary", ""),
                 tuple(places.values()), events, tuple(sources.values()), deployments)


def load_stories(folder: Path, gazetteer: Gazetteer) -> list[Story]:
    return [load_story(p, gazetteer) for p in sorted(Path(folder).glob("*.json"))]


def load_deployments(folder: Path) -> tuple[Deployment, ...]:
    """The deployments every story file in `folder` declares (no gazetteer needed: an origin is text, as in a
    ring's link, and is resolved when a ring is drawn)."""
    found: list[Deployment] = []
    for path in sorted(Path(folder).glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            found += _deployments(data, {key: _source(raw) for key, raw in data.get("sources", {}).items()})
        except (OSError, json.JSONDecodeError) as exc:
            raise DashboardError(f"Cannot read the story file {path}: {exc}.") from exc
        except KeyError as exc:
            raise DashboardError(f"The story file {path} lacks the field {exc.args[0]!r}.") from exc
        except ValidationError as exc:
            raise DashboardError(f"In the story file {path}: {exc}") from exc
    return tuple(found)


def _deployments(data: dict, sources: dict[str, Source]) -> tuple[Deployment, ...]:
    """A story's "deployments": system, origin (as a ring's), from/until (either may be null), approximate,
    source (a key of the story's sources) and the quote that dates it."""
    out = []
    for raw in data.get("deployments", ()):
        where = f"deployments.{raw.get('id')}"
        if raw["source"] not in sources:
            raise ValidationError(f"{where}.source", raw["source"], "names no source of this story")
        base = sources[raw["source"]]
        source = Source(base.title, base.publisher, base.url, base.published, raw.get("quote", ""))
        approximate = raw.get("approximate", False)
        if not isinstance(approximate, bool):
            raise ValidationError(f"{where}.approximate", approximate, "must be true or false")
        try:
            valid = Validity(parse_date(raw.get("from"), f"{where}.from"),
                             parse_date(raw.get("until"), f"{where}.until"), approximate, source, raw.get("note", ""))
            out.append(Deployment(raw["id"], raw["system"], raw["origin"], valid, bool(raw.get("reach", False)),
                                  raw.get("title", "")))
        except ValidationError as exc:  # named by the deployment: "deployments.minsk-3.valid.end: …"
            raise ValidationError(exc.field if exc.field.startswith(where) else f"{where}.{exc.field}", exc.value,
                                  exc.reason) from None
    return tuple(out)


def _source(raw: dict) -> Source:
    return Source(raw["title"], raw["publisher"], raw.get("url", ""),
                  parse_date(raw.get("published"), "source.published"))


def _place(key: str, raw: dict, gazetteer: Gazetteer) -> Place:
    kind = raw["kind"]
    if kind == "country":
        return gazetteer.country(raw["country"])
    if kind == "border":
        a, b = raw["countries"]
        return gazetteer.border(a, b)
    place = Place(
        key=f"geonames:{raw['geonameid']}" if raw.get("geonameid") else f"story:{key}",
        name=raw["name"], kind=kind, geometry=Point(raw["lon"], raw["lat"]),
        country=raw.get("country", ""), admin1=raw.get("admin1", ""), geonameid=raw.get("geonameid"),
        population=raw.get("population"),
    )
    _check_against_gazetteer(key, place, gazetteer)
    return place


def _check_against_gazetteer(key: str, place: Place, gazetteer: Gazetteer) -> None:
    """A story may not move a GeoNames place: same id → same country and (nearly) the same point."""
    if place.geonameid is None:
        return
    known = gazetteer.get(place.geonameid)
    if known is None:  # e.g. an admin region: cities500 holds populated places only
        return
    offset_km, _ = distance_bearing(place.lonlat, (known.lon, known.lat))
    if known.country != place.country or offset_km > MAX_OFFSET_KM:
        raise ValidationError(
            f"places.{key}", f"{place.name} ({place.lonlat[1]:.5f}, {place.lonlat[0]:.5f}, {place.country})",
            f"GeoNames {place.geonameid} is {known.name} at ({known.lat:.5f}, {known.lon:.5f}, {known.country}), "
            f"{offset_km:.1f} km away; fix the id or the coordinates",
        )


def _event(raw: dict, places: dict[str, Place], sources: dict[str, Source]) -> Event:
    t = raw["time"]
    time = TimeSpan(parse_date(t["start"], "time.start"), parse_date(t.get("end", t["start"]), "time.end"),
                    t.get("precision", "day"), t.get("text", ""), t.get("note", ""))
    if raw["place"] not in places:
        raise ValidationError(f"events.{raw.get('id')}.place", raw["place"], "names no place of this story")
    if raw["source"] not in sources:
        raise ValidationError(f"events.{raw.get('id')}.source", raw["source"], "names no source of this story")
    base = sources[raw["source"]]
    source = Source(base.title, base.publisher, base.url, base.published, raw.get("quote", ""))
    return Event(id=raw["id"], title=raw["title"], description=raw.get("description", ""),
                 event_type=raw["type"], time=time, place=places[raw["place"]], source=source,
                 actors=tuple(raw.get("actors", ())))
