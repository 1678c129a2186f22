"""The domain: places, events, sources, weapon systems — frozen dataclasses that validate themselves; no I/O."""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from itertools import chain
from operator import itemgetter
from typing import Literal
from urllib.parse import urlparse

from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from dashboard.errors import ValidationError

LonLat = tuple[float, float]

PlaceKind = Literal["city", "village", "admin region", "country", "border", "point", "physical", "region",
                    "continent"]
PLACE_KINDS: tuple[str, ...] = ("city", "village", "admin region", "country", "border", "point", "physical",
                                "region", "continent")
# Seas, straits, peninsulas; macro-regions ("the Baltic states"); continents (geodata/features.geojson).
FEATURE_KINDS: tuple[str, ...] = ("physical", "region", "continent")

Precision = Literal["day", "week", "month", "year", "approximate", "span"]
PRECISIONS: tuple[str, ...] = ("day", "week", "month", "year", "approximate", "span")

MunitionKind = Literal["ballistic", "cruise", "aircraft", "aeroballistic", "rocket", "drone", "surface-to-air",
                       "glide-bomb"]
MUNITION_KINDS: tuple[str, ...] = ("ballistic", "cruise", "aircraft", "aeroballistic", "rocket", "drone", "surface-to-air",
                                   "glide-bomb")
_MUNITION = re.compile(r"([a-z-]+)(?:~([1-9][0-9]?))?")  # KIND or KIND~N, N = 1..99 in ASCII digits


def split_munition(munition: str) -> tuple[str, int | None] | None:
    """A ring's munition as links write it: 'cruise' → ('cruise', None), 'cruise~2' → ('cruise', 2), the
    catalogue's 2nd cruise entry of the system (where sources disagree); None for anything else."""
    found = _MUNITION.fullmatch(munition)
    if not found or found.group(1) not in MUNITION_KINDS:
        return None
    return found.group(1), int(found.group(2)) if found.group(2) else None


def check_lat(value: float, field_name: str = "lat") -> float:
    """Return a latitude as float, or raise naming the field and the value."""
    if not _is_number(value) or not -90.0 <= float(value) <= 90.0:
        raise ValidationError(field_name, value, "latitude must be a number between -90 and 90")
    return float(value)


def check_lon(value: float, field_name: str = "lon") -> float:
    """Return a longitude as float, or raise naming the field and the value."""
    if not _is_number(value) or not -180.0 <= float(value) <= 180.0:
        raise ValidationError(field_name, value, "longitude must be a number between -180 and 180")
    return float(value)


# Direction marks, embeddings, overrides and isolates: they make text show in another order than it is stored.
BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def is_hidden_control(ch: str) -> bool:
    """A character no one should see obeyed in shown text: a control (tab and line breaks included), a lone
    surrogate, a line or paragraph separator, or a direction control (BIDI_CONTROLS)."""
    return ch in BIDI_CONTROLS or unicodedata.category(ch) in ("Cc", "Cs", "Zl", "Zp")


def has_hidden_control(text: str) -> bool:
    """Whether any character of text is_hidden_control: str.isprintable answers at C speed for most text (every
    hidden control is one it calls unprintable), the characters are asked one by one only when it says no."""
    return not text.isprintable() and any(is_hidden_control(ch) for ch in text)


def check_range_km(value: float, field_name: str = "range_km") -> float:
    """Return a positive, finite distance in km, or raise."""
    if not _is_number(value) or float(value) <= 0:
        raise ValidationError(field_name, value, "range must be a number of kilometres greater than 0")
    return float(value)


def _is_number(value: object) -> bool:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    return math.isfinite(value)


def _check_text(value: object, field_name: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(field_name, value, "must be a non-empty text")
    return value.strip()


def _check_url(value: str, field_name: str = "url") -> str:
    # Only web links: a javascript: or data: URL from data must never become a clickable href.
    if value and urlparse(value).scheme not in ("http", "https"):
        raise ValidationError(field_name, value, "must be an http(s) URL or empty")
    return value


@dataclass(frozen=True)
class TimeSpan:
    """When something happened: a closed interval of days plus how precisely the source said it.

    `text` keeps the phrase as written ("in late February"); `note` says how a vague phrase became dates.
    Filters select by overlap, so an event in late February matches a filter of 25 February.
    """

    start: date
    end: date
    precision: Precision = "day"
    text: str = ""
    note: str = ""

    def __post_init__(self) -> None:
        for name in ("start", "end"):
            if not isinstance(getattr(self, name), date):
                raise ValidationError(f"time.{name}", getattr(self, name), "must be a date (YYYY-MM-DD)")
        if self.end < self.start:
            raise ValidationError("time.end", self.end.isoformat(),
                                  f"end is before start {self.start.isoformat()}")
        if self.precision not in PRECISIONS:
            raise ValidationError("time.precision", self.precision, f"must be one of {', '.join(PRECISIONS)}")

    @classmethod
    def day(cls, day: date, text: str = "") -> TimeSpan:
        return cls(day, day, "day", text)

    @classmethod
    def month(cls, year: int, month: int, text: str = "") -> TimeSpan:
        first = date(year, month, 1)
        last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        return cls(first, last, "month", text)

    def overlaps(self, start: date | None, end: date | None) -> bool:
        """True when this span shares at least one day with [start, end]; None means open-ended."""
        return (start is None or self.end >= start) and (end is None or self.start <= end)

    @property
    def label(self) -> str:
        """A short human label: '25 Jun 2022', 'Aug 2020', '20–28 Feb 2022 (in late February)'."""
        return span_label(self.start, self.end, self.precision, self.text)


def span_label(start: date, end: date, precision: str, text: str = "") -> str:
    """TimeSpan.label from its parts (for tables that list many events without building them)."""
    if precision == "day":
        return _fmt_day(start)
    if precision == "month":
        return f"{start:%b} {start.year}"
    if precision == "year":
        return str(start.year)
    span = _fmt_span(start, end)
    return f"{span} ({text})" if text else span


def _fmt_day(d: date) -> str:
    # No strftime("%-d"): it is glibc-only.
    return f"{d.day} {d:%b} {d.year}"


def _fmt_span(a: date, b: date) -> str:
    if a.year == b.year and a.month == b.month:
        return f"{a.day}–{b.day} {a:%b} {a.year}"
    if a.year == b.year:
        return f"{a.day} {a:%b} – {b.day} {b:%b} {a.year}"
    return f"{_fmt_day(a)} – {_fmt_day(b)}"


@dataclass(frozen=True)
class Place:
    """A named place with its geometry (lon/lat, EPSG:4326) and where it sits administratively."""

    key: str
    name: str
    kind: PlaceKind
    geometry: BaseGeometry = field(compare=False)
    country: str = ""
    admin1: str = ""
    geonameid: int | None = None
    population: int | None = None
    pin: LonLat | None = None  # where to pin an area or line on a map (a country's capital), if not inside it

    def __post_init__(self) -> None:
        _check_text(self.key, "place.key")
        if self.pin is not None:
            object.__setattr__(self, "pin", (check_lon(self.pin[0], "place.pin.lon"), check_lat(self.pin[1], "place.pin.lat")))
        _check_text(self.name, "place.name")
        if self.kind not in PLACE_KINDS:
            raise ValidationError("place.kind", self.kind, f"must be one of {', '.join(PLACE_KINDS)}")
        if not isinstance(self.geometry, BaseGeometry) or self.geometry.is_empty:
            raise ValidationError("place.geometry", self.geometry, "must be a non-empty shapely geometry")
        if type(self.geometry) is Point:  # most places: two coordinates, read without computing bounds
            check_lon(self.geometry.x, "place.lon")
            check_lat(self.geometry.y, "place.lat")
        else:
            minx, miny, maxx, maxy = self.geometry.bounds
            check_lon(minx, "place.lon")
            check_lon(maxx, "place.lon")
            check_lat(miny, "place.lat")
            check_lat(maxy, "place.lat")
        if self.country and (len(self.country) != 2 or not self.country.isalpha() or not self.country.isupper()):
            raise ValidationError("place.country", self.country, "must be an ISO 3166-1 alpha-2 code like 'UA'")

    @classmethod
    def at(cls, key: str, name: str, kind: PlaceKind, lon: float, lat: float, **kw: object) -> Place:
        """A point place; checks lon/lat before building the geometry."""
        return cls(key, name, kind, Point(check_lon(lon), check_lat(lat)), **kw)  # type: ignore[arg-type]

    @property
    def countries(self) -> tuple[str, ...]:
        """The countries the place belongs to, as filters count them: a border belongs to both sides."""
        if self.kind == "border" and self.key.startswith("border:"):
            return tuple(self.key.removeprefix("border:").split("-"))
        return (self.country,) if self.country else ()

    @property
    def lonlat(self) -> LonLat:
        """A point to pin the place on a map: the point itself, its pin, or a point inside the area / on the line."""
        if self.pin is not None:
            return self.pin
        geom = self.geometry
        pt = geom if geom.geom_type == "Point" else geom.representative_point()
        return (pt.x, pt.y)


@dataclass(frozen=True)
class Source:
    """Provenance: where a statement was published and the sentence it rests on."""

    title: str
    publisher: str
    url: str = ""
    published: date | None = None
    quote: str = ""

    def __post_init__(self) -> None:
        _check_text(self.title, "source.title")
        _check_text(self.publisher, "source.publisher")
        _check_url(self.url, "source.url")


def are_text_pairs(pairs: object) -> bool:
    """True for a tuple of (name, value) text pairs with non-empty names."""
    if not isinstance(pairs, tuple):
        return False
    # An import builds 100,000 events of ~15 pairs each: check the common case with C-level loops first.
    if (not pairs or set(map(type, pairs)) == {tuple} and set(map(len, pairs)) == {2}
            and set(map(type, chain.from_iterable(pairs))) == {str} and "" not in map(itemgetter(0), pairs)):
        return True
    return all(isinstance(pair, tuple) and len(pair) == 2 and isinstance(pair[0], str) and pair[0]
               and isinstance(pair[1], str) for pair in pairs)


@dataclass(frozen=True)
class Event:
    """Something that happened somewhere at some time, as a source told it."""

    id: str
    title: str
    event_type: str
    time: TimeSpan
    place: Place
    source: Source
    description: str = ""
    actors: tuple[str, ...] = ()
    # What the source records beyond the model, in its own terms and order: ACLED's fatalities,
    # geo_precision, sub_event_type …, a CSV's extra columns, a GeoJSON feature's properties.
    attributes: tuple[tuple[str, str], ...] = ()

    def __post_init__(self) -> None:
        _check_text(self.id, "event.id")
        _check_text(self.title, "event.title")
        _check_text(self.event_type, "event.event_type")
        if not isinstance(self.actors, tuple):
            raise ValidationError("event.actors", self.actors, "must be a tuple of names")
        if not are_text_pairs(self.attributes):
            raise ValidationError("event.attributes", self.attributes,
                                  "must be a tuple of (name, value) text pairs with non-empty names")

    def attribute(self, name: str, default: str = "") -> str:
        """The value of one attribute by name (the first if repeated), or `default`."""
        return next((value for key, value in self.attributes if key == name), default)


@dataclass(frozen=True)
class Munition:
    """What a system fires, with its declared range and who declared it."""

    name: str
    kind: MunitionKind
    range_km: float
    source: Source
    designation: str = ""
    min_range_km: float = 0.0  # closer than this it cannot strike (0: no minimum declared)
    min_source: Source | None = None  # who declared the minimum, when one is

    def __post_init__(self) -> None:
        _check_text(self.name, "munition.name")
        if self.kind not in MUNITION_KINDS:
            raise ValidationError("munition.kind", self.kind, f"must be one of {', '.join(MUNITION_KINDS)}")
        check_range_km(self.range_km, "munition.range_km")
        if self.min_range_km != 0:
            check_range_km(self.min_range_km, "munition.min_range_km")
            if self.min_range_km >= self.range_km:
                raise ValidationError("munition.min_range_km", self.min_range_km,
                                      f"must be less than the range ({self.range_km:g} km)")


@dataclass(frozen=True)
class WeaponSystem:
    id: str
    name: str
    category: str
    aliases: tuple[str, ...] = ()
    munitions: tuple[Munition, ...] = ()

    def __post_init__(self) -> None:
        _check_text(self.id, "system.id")
        _check_text(self.name, "system.name")

    @property
    def max_range_km(self) -> float | None:
        return max((m.range_km for m in self.munitions), default=None)


@dataclass(frozen=True)
class Validity:
    """From when until when a ring holds: a system is (reported to be) at its origin over these days.

    Either end may be open (None). `approximate` marks a span read from vague words ("in the coming months");
    `source` (with its quote) is who says so, `note` how the words became dates.
    """

    start: date | None = None
    end: date | None = None
    approximate: bool = False
    source: Source | None = None
    note: str = ""

    def __post_init__(self) -> None:
        for name in ("start", "end"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, date) or isinstance(value, datetime)):
                raise ValidationError(f"valid.{name}", value, "must be a date (YYYY-MM-DD) or open")
        if self.start is None and self.end is None:
            raise ValidationError("valid", "..", "needs a first day, a last day or both")
        if self.start is not None and self.end is not None and self.end < self.start:
            raise ValidationError("valid.end", self.end.isoformat(),
                                  f"is before the first day {self.start.isoformat()}")

    def overlaps(self, start: date | None, end: date | None) -> bool:
        """True when the span shares at least one day with [start, end]; None means open-ended on either side."""
        return ((start is None or self.end is None or self.end >= start)
                and (end is None or self.start is None or self.start <= end))

    @property
    def label(self) -> str:
        """'from 25 Jun 2022 (approximate)', 'until 31 Dec 2023', '1 Mar 2023 – 30 Jun 2024'."""
        if self.start is not None and self.end is not None:
            words = _fmt_span(self.start, self.end) if self.start != self.end else _fmt_day(self.start)
        elif self.start is not None:
            words = f"from {_fmt_day(self.start)}"
        else:
            words = f"until {_fmt_day(self.end)}"  # type: ignore[arg-type]
        return words + (" (approximate)" if self.approximate else "")


@dataclass(frozen=True)
class Deployment:
    """A system reported at an origin over a span: the data a dated ring rests on.

    `origin` is written as a ring's origin is ("Minsk", "BY", "BY-UA", "53.9,27.57"); `reach` a reach
    envelope from a territory or border rather than a ring around a point.
    """

    id: str
    system: str
    origin: str
    valid: Validity
    reach: bool = False
    title: str = ""

    def __post_init__(self) -> None:
        _check_text(self.id, "deployment.id")
        _check_text(self.system, "deployment.system")
        _check_text(self.origin, "deployment.origin")
        if self.valid.source is None or not self.valid.source.quote:
            raise ValidationError(f"deployment {self.id}", self.system, "needs a source with the quote that dates it")

    def matches(self, system: str, origin: str, start: date | None, end: date | None) -> bool:
        """True for a ring of this system from this origin over exactly this span (as a link names it)."""
        return (self.system.casefold() == system.casefold()
                and self.origin.casefold() == origin.strip().casefold()
                and (self.valid.start, self.valid.end) == (start, end))


@dataclass(frozen=True)
class Catalogue:
    """The weapon systems Reachmap knows, looked up by id or alias, and where stories place them when."""

    systems: tuple[WeaponSystem, ...]
    deployments: tuple[Deployment, ...] = ()

    def deployment(self, system: str, origin: str, start: date | None, end: date | None) -> Deployment | None:
        """The declared deployment a dated ring stands for, if one is declared (None otherwise)."""
        return next((d for d in self.deployments if d.matches(system, origin, start, end)), None)

    def get(self, system_id: str) -> WeaponSystem:
        wanted = system_id.strip().casefold()
        for system in self.systems:
            names = (system.id, system.name, *system.aliases)
            if wanted in (n.casefold() for n in names):
                return system
        known = ", ".join(s.id for s in self.systems)
        raise ValidationError("system", system_id, f"unknown system id; known systems: {known}")


@dataclass(frozen=True)
class Site:
    """A place where a system is reported (a base, an airfield), with who says so: one row of a site table.

    `lon`/`lat` are the source's coordinates or, when the table names a place, the gazetteer's point for
    it; `located` says which ("source coordinates", "gazetteer: Asipovichy, BY (geonames:630468)"). The ring
    is `km` when given, else the catalogue's longest range of `system`. `min_km` is the minimum range (an
    annulus's inner edge), kept with the site; `valid` the days it is reported there (None: any day).
    """

    name: str
    lon: float
    lat: float
    located: str
    source: Source
    system: str = ""
    km: float | None = None
    min_km: float | None = None
    valid: Validity | None = None
    note: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "name", _check_text(self.name, "site.name"))
        check_lon(self.lon, "site.lon")
        check_lat(self.lat, "site.lat")
        if not self.source.quote.strip():
            raise ValidationError("site.quote", self.source.quote, "needs the quote of the source that places it")
        if self.km is None and not self.system:
            raise ValidationError("site", self.name, "needs a system or a radius in km")
        if self.km is not None:
            check_range_km(self.km, "site.radius_km")
        if self.min_km is not None:
            if not _is_number(self.min_km) or self.min_km < 0:
                raise ValidationError("site.min_km", self.min_km, "must be a number of kilometres of 0 or more")
            if self.km is not None and self.min_km >= self.km:
                raise ValidationError("site.min_km", self.min_km, f"must be less than the radius {self.km:g} km")
