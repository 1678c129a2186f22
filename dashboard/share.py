"""The whole view as one short, readable, versioned query string: the permalink, the CLI argument, the snapshot.

    >>> state = ViewState(countries=("UA", "BY"), near="Chernihiv", near_km=100,
    ...                   rings=(RingSpec("Minsk", system="iskander-m"),), center=(52.1, 29.3), zoom=6)
    >>> to_query(state)
    '?v=1&country=UA,BY&near=Chernihiv:100&ring=iskander-m@Minsk&c=52.1,29.3&z=6'
    >>> from_query(to_query(state)).state == state
    True
    >>> from_query("?z=99&base=osm").problems
    ('Ignored z=99: zoom must be a whole number from 0 to 18.',)

The parameters, in the order they are written (only those that differ from the default; `v` always):

    v       1                          version; missing means 1
    from    2022-06-01                 first day (YYYY-MM-DD, 1900-01-01 to 2100-12-31: what the widgets show)
    to      2022-06-30                 last day
    country UA,BY                      ISO 3166-1 alpha-2 codes, comma-separated, user's order
    admin   Chernihiv Oblast           repeated key, one region each
    near    Chernihiv:100              PLACE:KM (0.01 to 19,950 km, two decimals)
    area    30.1 50.2;31 50.2;31 51    polygon, "lon lat" pairs joined by ";" (3-200 points, 5 decimals)
    type    missile strike             repeated key
    actor   Vladimir Putin             repeated key
    q       iskander                   free text, at most 200 characters
    coarse  1                          area, distance and map-view filters also take events located only by
                                       a country or region (their outline crosses the area); default 0
    ring    iskander-m@Minsk           repeated: SYSTEM@ORIGIN, SYSTEM:MUNITION@ORIGIN or KM@ORIGIN (as near),
                                       optionally ~FROM..UNTIL, the days it holds (either side empty for an
                                       open end: iskander-m@BY~2022-06-25..), then optionally |NAME, the user's
                                       name for it: 150@Belgorod|S-300 from Belgorod
    reach   iskander-m@BY, 500@BY-UA   repeated, same forms; everything in range of a territory or border.
                                       A typed radius may carry a minimum range, MIN-KM: ring=50-500@Minsk
                                       (an annulus; a system's declared minimum applies by itself)
    sites   sites-belarus              repeated: a stored table of sites (`import FILE --format sites`), one ring
            sites-belarus:iskander-m,s-400   per site; after ':' only the sites of these catalogue systems
                                       (comma-separated). A table that is not stored is reported and dropped
    bearing Desna:315:200              repeated: ORIGIN:DEGREES:KM, a line of bearing — the geodesic from a place
                                       or lat,lon point along an initial bearing (clockwise from true north,
                                       two decimals) for 0.01 to 20,000 km; then optionally |NAME:
                                       51.3,30.8:315:200|reported launch direction (at most 12)
    launch  iskander-m@Desna/BY        repeated: the launch area, the part of a territory from which a system
                                       could reach a target: SYSTEM[:MUNITION]@TARGET/TERRITORY, KM@… or
                                       MIN-KM@… (launch=300@Desna/BY, launch=50-300@50.93,30.77/BY), then
                                       optionally |NAME; TERRITORY "area" is the view's drawn area
    c       52.1,29.3                  map centre as lat,lon (Leaflet's order), 4 decimals, |lat| ≤ 85.0511
    z       6                          zoom, 0-18
    base    vector-dark                vector | vector-dark | osm | satellite (vector, the offline map, is the default)
    layers  events,rings  or  none     visible layers in LAYERS order; "none" hides all ("countries": country
                                       borders, "capitals": place names of the offline map, "sites": site
                                       rings, "launch": launch areas, "bearings": lines of bearing)
    play    2022-06-25                 the paused frame of the playback: its last day (the map shows the events
                                       of its window only, and the rings that hold on one of its days)
    window  7d  or  all                the frame's days (1d to 3660d, default 7d); all: cumulative, every day
                                       up to the frame's
    step    1d                         days from one frame to the next (1d to 3660d, default 1d)

Two rules keep the string canonical, so that `from_query(to_query(s)).state == s` for every valid state:
the constructors normalise what has several spellings (rounding, case, order, duplicates, control
characters), and `from_params` applies the same normalisation to what it reads. The constructors raise
`ValidationError` only for what has no spelling at all (wrong types, a ring with neither system nor radius);
values that can be written but are out of bounds are left to `from_params`, which never raises: it reports
each bad field in one sentence and keeps that field's default.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from urllib.parse import parse_qsl, quote

from dashboard.errors import ValidationError
from dashboard.geodesy import MAX_RADIUS_KM
from dashboard.model import MUNITION_KINDS, LonLat, has_hidden_control, is_hidden_control, split_munition

VERSION = 1
LAYERS: tuple[str, ...] = ("events", "rings", "reach", "countries", "border", "capitals", "sites", "launch",
                           "bearings")
DEFAULT_LAYERS: tuple[str, ...] = LAYERS
BASES: tuple[str, ...] = ("vector", "vector-dark", "osm", "satellite")  # vector*: the bundled offline map
DEFAULT_BASE = "vector"

KEYS: tuple[str, ...] = ("v", "from", "to", "country", "admin", "near", "area", "type", "actor", "q", "coarse",
                         "ring", "reach", "sites", "bearing", "launch", "c", "z", "base", "layers", "play", "window",
                         "step")
RESERVED: tuple[str, ...] = ("snapshot", "page")  # read by other code; ignored here without a word
NO_LAYERS = "none"
MAX_RING_NAME = 80  # characters of a ring's own name
MAX_SITE_LAYERS = 8  # sites=… tables in one link
SITE_TABLE = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,58}[a-z0-9])?", re.ASCII)  # a stored table's name (ingest.sites)
MAX_BEARINGS = 12  # lines of bearing in one view
MAX_BEARING_KM = 20_000.0  # geodesy.MAX_PATH_KM: past about half the meridian the line comes back
MAX_LAUNCHES = 6    # launch areas in one view
DRAWN_TERRITORY = "area"  # launch=…/area: the view's drawn area is the territory

# Distances (near=…, ring=…, reach=…) run from 10 m, kept to two decimals as the sidebar's km field shows
# them, to 19,950 km, past which a ring is no longer a circle on the ellipsoid (geodesy.MAX_RADIUS_KM).
MIN_KM = 0.01
MAX_KM = MAX_RADIUS_KM
MAX_RINGS = 12          # ring and reach together
MAX_TEXT = 200          # q
MAX_NAME = 100          # each admin, type, actor, near place, ring origin
MAX_ITEMS = 20          # admins, types, actors each
MAX_COUNTRIES = 250     # about every ISO 3166 code
# Dates the widgets can show (the date fields' own span; the slider fails past about 1685-2255): a link
# with a date outside them is reported and read without it, in the app and the CLI alike.
EARLIEST = date(1900, 1, 1)
LATEST = date(2100, 12, 31)
MAX_LAT_CENTER = 85.0511  # a Web-Mercator map ends there: a centre beyond it cannot be shown
MAX_PROBLEMS = 20       # sentences reported for one link; the rest are counted in one more
MAX_AREA_POINTS = 200
MAX_PLAY_DAYS = 3660    # a playback window or step: up to about ten years, in days
_SHOWN = 60             # characters of a bad value quoted back in a problem
_SAFE = ",:@;"          # left readable in to_query

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?", re.ASCII)
_NOT_FINITE = ("nan", "inf", "infinity")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_ISO2 = re.compile(r"[A-Za-z]{2}", re.ASCII)
_SYSTEM_ID = re.compile(r"[a-z0-9][a-z0-9._-]{0,39}", re.ASCII)


# ---------------------------------------------------------------------------------------------- the state

def _range_words(km: float | None, system: str, munition: str, min_km: float | None) -> str:
    """'300 km', '50–300 km', 'iskander-m (cruise)': what reaches, in a ring's or a launch area's label."""
    what = f"{_num(km)} km" if km is not None else system
    if min_km:
        what = f"{_num(min_km)}–{what}"
    return what + (f" ({munition})" if munition else "")


@dataclass(frozen=True)
class RingSpec:
    """One ring (around a point or place) or reach (everything within range of a territory or border).

    `origin` is kept as typed: "Minsk", "BY", "BY-UA" or a point "53.9,27.57" (lat,lon). Give either a
    catalogue `system` (optionally one `munition` kind, its longest-range munition of that kind, or
    "KIND~N", the catalogue's N-th entry of that kind where sources disagree; the longest otherwise) or `km`;
    when both are given the typed `km` wins and `system` and `munition` are cleared.
    """

    origin: str
    km: float | None = None
    system: str = ""
    munition: str = ""
    reach: bool = False
    name: str = ""  # the user's own name for it ("S-300 from Belgorod, 150 km"): the map, legend and exports
    # The days the ring holds (a system reported at the origin from `since` until `until`, either open):
    # a view whose dates miss them lists the ring without drawing it.
    since: date | None = None
    until: date | None = None
    min_km: float | None = None  # a typed minimum range (only with km): the ring is an annulus

    def __post_init__(self) -> None:
        _set(self, "origin", _clean(_text_field(self.origin, "ring.origin")))
        _set(self, "name", _clean(_text_field(self.name, "ring.name")))
        if "|" in self.origin:
            raise ValidationError("ring.origin", self.origin, "cannot hold '|' (it starts the ring's name in a link)")
        if "~" in self.origin:
            raise ValidationError("ring.origin", self.origin, "cannot hold '~' (it starts the ring's dates in a link)")
        for name in ("since", "until"):
            _set(self, name, _date_field(getattr(self, name), f"ring.{name}"))
        if self.since is not None and self.until is not None and self.until < self.since:
            raise ValidationError("ring.until", self.until.isoformat(),
                                  f"is before ring.since {self.since.isoformat()}")
        _set(self, "system", _clean(_text_field(self.system, "ring.system")).lower())
        _set(self, "munition", _clean(_text_field(self.munition, "ring.munition")).lower())
        if self.km is not None:
            _set(self, "km", _round(_float(self.km, "ring.km"), 2))
        if not isinstance(self.reach, bool):
            raise ValidationError("ring.reach", self.reach, "must be True or False")
        if self.km is not None:  # a typed radius wins: the query string has no spelling for both
            _set(self, "system", "")
            _set(self, "munition", "")
        if self.km is None and not self.system:
            raise ValidationError("ring", self.origin, "needs a system or a radius in km")
        _set(self, "min_km", _minimum(self.min_km, self.km, "ring.min_km"))

    @property
    def label(self) -> str:
        """Data-free words: 'iskander-m (cruise) from Minsk', '300 km from 53.9,27.57', 'reach of iskander-m from BY'."""
        what = _range_words(self.km, self.system, self.munition, self.min_km)
        words = f"reach of {what} from {self.origin}" if self.reach else f"{what} from {self.origin}"
        if self.dated:
            words += ", " + span_words(self.since, self.until)
        return f"{self.name} ({words})" if self.name else words

    @property
    def dated(self) -> bool:
        return self.since is not None or self.until is not None


def span_words(since: date | None, until: date | None) -> str:
    """'since 2022-06-25', 'until 2022-12-31', '2022-06-25 to 2022-12-31' (ISO dates, as the link has them)."""
    if since is not None and until is not None:
        return f"{since.isoformat()} to {until.isoformat()}"
    if since is not None:
        return f"since {since.isoformat()}"
    return f"until {until.isoformat()}"  # type: ignore[union-attr]


def _minimum(value: object, km: float | None, name: str) -> float | None:
    """A typed minimum range, two decimals; None or 0 for none. Only with a radius, and less than it."""
    if value is None or value == 0:
        return None
    low = _round(_float(value, name), 2)
    if km is None or not 0 < low < km:
        raise ValidationError(name, value, "needs a radius in km, and must be more than 0 and less than it")
    return low


@dataclass(frozen=True)
class LaunchSpec:
    """A launch area: the part of `territory` from which a system (or a range in km) could reach `target`.

    `target` is kept as typed, a place or a point "50.93,30.77" (lat,lon); `territory` a country code, a
    name, or DRAWN_TERRITORY for the view's drawn area. As in RingSpec, a typed `km` wins over `system`;
    `min_km` goes with `km` (a system brings its declared minimum).
    """

    target: str
    territory: str
    km: float | None = None
    system: str = ""
    munition: str = ""
    min_km: float | None = None
    name: str = ""

    def __post_init__(self) -> None:
        for field in ("target", "territory", "name"):
            _set(self, field, _clean(_text_field(getattr(self, field), f"launch.{field}")))
        for field in ("target", "territory"):
            if any(ch in getattr(self, field) for ch in "|@~") or (field == "target" and "/" in self.target):
                raise ValidationError(f"launch.{field}", getattr(self, field), "cannot hold '|', '@', '~' or, in the "
                                      "target, '/' (they separate the parts of a launch= link)")
            if not getattr(self, field):
                raise ValidationError(f"launch.{field}", "", "must not be empty")
        _set(self, "system", _clean(_text_field(self.system, "launch.system")).lower())
        _set(self, "munition", _clean(_text_field(self.munition, "launch.munition")).lower())
        if self.km is not None:
            _set(self, "km", _round(_float(self.km, "launch.km"), 2))
            _set(self, "system", "")
            _set(self, "munition", "")
        if self.km is None and not self.system:
            raise ValidationError("launch", self.target, "needs a system or a range in km")
        _set(self, "min_km", _minimum(self.min_km, self.km, "launch.min_km"))

    @property
    def label(self) -> str:
        """Data-free words: 'launch area of iskander-m for Desna from BY'."""
        what = _range_words(self.km, self.system, self.munition, self.min_km)
        words = f"launch area of {what} for {self.target} from {self.territory}"
        return f"{self.name} ({words})" if self.name else words


@dataclass(frozen=True)
class SiteLayer:
    """A stored table of sites drawn as one layer, a ring per site; with `systems`, only those systems' sites."""

    table: str
    systems: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        _set(self, "table", _clean(_text_field(self.table, "sites.table")).lower())
        if not self.table:
            raise ValidationError("sites.table", self.table, "needs the name of a stored table of sites")
        _set(self, "systems", _unique(_clean(x).lower() for x in _tuple_field(self.systems, "sites.systems", str)))

    @property
    def label(self) -> str:
        """'sites of sites-belarus', 'sites of sites-belarus (iskander-m, s-400)'."""
        return f"sites of {self.table}" + (f" ({', '.join(self.systems)})" if self.systems else "")


@dataclass(frozen=True)
class BearingSpec:
    """A line of bearing: the geodesic from `origin` ("Desna" or a point "51.3,30.8", lat,lon) along the
    initial `bearing` (degrees clockwise from true north, kept in [0, 360) to two decimals) for `km`."""

    origin: str
    bearing: float
    km: float
    name: str = ""  # the user's words for it ("reported launch direction"): the map, legend and exports

    def __post_init__(self) -> None:
        _set(self, "origin", _clean(_text_field(self.origin, "bearing.origin")))
        _set(self, "name", _clean(_text_field(self.name, "bearing.name")))
        if not self.origin or "|" in self.origin:
            raise ValidationError("bearing.origin", self.origin, "must be a place or a lat,lon point, without '|'")
        _set(self, "bearing", _round(_float(self.bearing, "bearing.bearing") % 360.0, 2) % 360.0)
        _set(self, "km", _round(_float(self.km, "bearing.km"), 2))

    @property
    def label(self) -> str:
        """Data-free words: '315° for 200 km from Desna', or the user's name with them in brackets."""
        words = f"{_num(self.bearing)}° for {_num(self.km)} km from {self.origin}"
        return f"{self.name} ({words})" if self.name else words


@dataclass(frozen=True)
class Frame:
    """A frame of the playback: the events of the `window` days up to `day` (0: every day up to it,
    cumulative), the next frame `step` days later. The map opens paused on it."""

    day: date
    window: int = 7
    step: int = 1

    def __post_init__(self) -> None:
        _set(self, "day", _date_field(self.day, "play.day"))
        if self.day is None:
            raise ValidationError("play.day", self.day, "must be a date")
        for name, low in (("window", 0), ("step", 1)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= MAX_PLAY_DAYS:
                raise ValidationError(f"play.{name}", value, f"must be a whole number of days from {low} to "
                                                              f"{MAX_PLAY_DAYS}")


@dataclass(frozen=True)
class ViewState:
    """Everything a user sees: filters, rings and the map view. Normalised on construction (see module doc)."""

    start: date | None = None
    end: date | None = None
    countries: tuple[str, ...] = ()
    admins: tuple[str, ...] = ()
    near: str = ""
    near_km: float | None = None
    area: tuple[LonLat, ...] = ()
    types: tuple[str, ...] = ()
    actors: tuple[str, ...] = ()
    text: str = ""
    coarse: bool = False  # spatial filters also take events located only by country/region
    rings: tuple[RingSpec, ...] = ()
    launches: tuple[LaunchSpec, ...] = ()  # launch areas (inverse rings), in the order given
    center: tuple[float, float] | None = None   # (lat, lon), as Leaflet gives it
    zoom: int | None = None
    base: str = DEFAULT_BASE
    layers: tuple[str, ...] = DEFAULT_LAYERS
    play: Frame | None = None  # the paused frame of the playback; None: every selected event
    sites: tuple[SiteLayer, ...] = ()  # stored tables of sites, each a layer of rings
    bearings: tuple[BearingSpec, ...] = ()  # lines of bearing, in the link's order

    def __post_init__(self) -> None:
        for name in ("start", "end"):
            _set(self, name, _date_field(getattr(self, name), name))
        _set(self, "countries", _unique(_clean(c).upper() for c in _tuple_field(self.countries, "countries", str)))
        for name in ("admins", "types", "actors"):
            _set(self, name, _unique(_clean(t) for t in _tuple_field(getattr(self, name), name, str)))
        _set(self, "near", _clean(_text_field(self.near, "near")))
        # A radius without a place filters nothing; dropping it lets a form keep its default km.
        _set(self, "near_km", _round(_float(self.near_km, "near_km"), 2)
             if self.near and self.near_km is not None else None)
        _set(self, "area", tuple(_pair(p, 5, "area") for p in _tuple_field(self.area, "area", object)))
        _set(self, "text", _clean(_text_field(self.text, "text")))
        if not isinstance(self.coarse, bool):
            raise ValidationError("coarse", self.coarse, "must be True or False")
        # ring=… are written before reach=…; sorting here keeps the round trip exact.
        rings = _tuple_field(self.rings, "rings", RingSpec)
        _set(self, "rings", tuple(sorted(rings, key=lambda r: r.reach)))
        _set(self, "launches", tuple(dict.fromkeys(_tuple_field(self.launches, "launches", LaunchSpec))))
        _set(self, "center", None if self.center is None else _pair(self.center, 4, "center"))
        _set(self, "zoom", _zoom_field(self.zoom))
        _set(self, "base", _clean(_text_field(self.base, "base")).lower() or DEFAULT_BASE)
        layers = _unique(_clean(x).lower() for x in _tuple_field(self.layers, "layers", str))
        _set(self, "layers", tuple(sorted(layers, key=lambda x: LAYERS.index(x) if x in LAYERS else len(LAYERS))))
        if self.play is not None and not isinstance(self.play, Frame):
            raise ValidationError("play", self.play, "must be a Frame or None")
        _set(self, "sites", tuple(dict.fromkeys(_tuple_field(self.sites, "sites", SiteLayer))))
        _set(self, "bearings", _tuple_field(self.bearings, "bearings", BearingSpec))

    def with_(self, **changes: object) -> ViewState:
        """A copy with some fields changed (and normalised again)."""
        return replace(self, **changes)


@dataclass(frozen=True)
class Decoded:
    """A state read from user input, and one sentence for each field that was bad and set to its default."""

    state: ViewState
    problems: tuple[str, ...] = ()


def _set(obj: object, name: str, value: object) -> None:
    object.__setattr__(obj, name, value)  # normalising a frozen dataclass in __post_init__


def _text_field(value: object, name: str) -> str:
    if not isinstance(value, str):
        raise ValidationError(name, value, "must be text")
    return value


def _date_field(value: object, name: str) -> date | None:
    if isinstance(value, datetime):  # a datetime is a date too, but would write "2022-06-01T00:00:00"
        return value.date()
    if value is None or isinstance(value, date):
        return value
    raise ValidationError(name, value, "must be a date or None")


def _tuple_field(value: object, name: str, kind: type) -> tuple:
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        raise ValidationError(name, value, "must be a tuple (a single text would split into letters)")
    items = tuple(value)
    for item in items:
        if not isinstance(item, kind):
            raise ValidationError(name, item, f"each item must be a {kind.__name__}")
    return items


def _float(value: object, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValidationError(name, value, "must be a number")
    return float(value)


def _pair(value: object, decimals: int, name: str) -> tuple[float, float]:
    if isinstance(value, (str, bytes)) or not isinstance(value, Sequence) or len(value) != 2:
        raise ValidationError(name, value, "must be a pair of numbers")
    a, b = (_float(x, name) for x in value)
    return (_round(a, decimals), _round(b, decimals))


def _round(x: float, decimals: int) -> float:
    return round(x, decimals) if math.isfinite(x) else x


def _zoom_field(value: object) -> int | float | None:
    if value is None:
        return None
    zoom = _float(value, "zoom")
    return int(zoom) if zoom.is_integer() else zoom  # Leaflet may hand back 6.0


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    """Non-empty items, first occurrence kept, in the given order."""
    return tuple(dict.fromkeys(i for i in items if i))


def _clean(text: str) -> str:
    """Text without control characters (line breaks and tabs become spaces) and without outer spaces."""
    if has_hidden_control(text):
        text = "".join((" " if ch.isspace() else "") if is_hidden_control(ch) else ch for ch in text)
    return text.strip()


def _num(x: float | None) -> str:
    """The shortest text that reads back as the same float: 100.0 → '100', 52.1 → '52.1'."""
    if isinstance(x, float) and math.isfinite(x) and x.is_integer() and abs(x) < 1e16:
        return str(int(x))
    return repr(x) if isinstance(x, float) else str(x)


# ---------------------------------------------------------------------------------------------- writing

def to_params(state: ViewState) -> dict[str, str | list[str]]:
    """The state as query parameters: "v" and the fields that differ from the default, in KEYS order.

    Repeatable keys (admin, type, actor, ring, reach) are always lists; the others are str. The result can
    be given to Streamlit as it is: `st.query_params.from_dict(to_params(state))`.
    """
    params: dict[str, str | list[str]] = {"v": str(VERSION)}
    if state.start is not None:
        params["from"] = state.start.isoformat()
    if state.end is not None:
        params["to"] = state.end.isoformat()
    if state.countries:
        params["country"] = ",".join(state.countries)
    if state.admins:
        params["admin"] = list(state.admins)
    if state.near:
        params["near"] = state.near if state.near_km is None else f"{state.near}:{_num(state.near_km)}"
    if state.area:
        params["area"] = ";".join(f"{_num(lon)} {_num(lat)}" for lon, lat in state.area)
    if state.types:
        params["type"] = list(state.types)
    if state.actors:
        params["actor"] = list(state.actors)
    if state.text:
        params["q"] = state.text
    if state.coarse:
        params["coarse"] = "1"
    for key, reach in (("ring", False), ("reach", True)):
        values = [_ring_value(r) for r in state.rings if r.reach is reach]
        if values:
            params[key] = values
    if state.sites:
        params["sites"] = [layer.table + (":" + ",".join(layer.systems) if layer.systems else "")
                           for layer in state.sites]
    if state.bearings:
        params["bearing"] = [_bearing_value(b) for b in state.bearings]
    if state.launches:
        params["launch"] = [_launch_value(x) for x in state.launches]
    if state.center is not None:
        params["c"] = f"{_num(state.center[0])},{_num(state.center[1])}"
    if state.zoom is not None:
        params["z"] = _num(float(state.zoom))
    if state.base != DEFAULT_BASE:
        params["base"] = state.base
    if state.layers != DEFAULT_LAYERS:
        params["layers"] = ",".join(state.layers) or NO_LAYERS
    if state.play is not None:
        params["play"] = state.play.day.isoformat()
        if state.play.window != Frame.window:
            params["window"] = f"{state.play.window}d" if state.play.window else "all"
        if state.play.step != Frame.step:
            params["step"] = f"{state.play.step}d"
    return params


def to_query(state: ViewState) -> str:
    """The state as '?v=1&…', with , : @ ; left readable and everything else percent-escaped (space as %20)."""
    pairs = []
    for key, value in to_params(state).items():
        for item in [value] if isinstance(value, str) else value:
            safe = _SAFE + "/" if key == "launch" else _SAFE  # launch=iskander-m@Desna/BY, readable
            pairs.append(f"{key}={quote(item, safe=safe, errors='replace')}")
    return "?" + "&".join(pairs)


def _ring_value(ring: RingSpec) -> str:
    head = _num(ring.km) if ring.km is not None else ring.system + (f":{ring.munition}" if ring.munition else "")
    head = f"{_num(ring.min_km)}-{head}" if ring.min_km else head
    span = f"~{_iso(ring.since)}..{_iso(ring.until)}" if ring.dated else ""
    return f"{head}@{ring.origin}{span}" + (f"|{ring.name}" if ring.name else "")


def _bearing_value(line: BearingSpec) -> str:
    return f"{line.origin}:{_num(line.bearing)}:{_num(line.km)}" + (f"|{line.name}" if line.name else "")


def _launch_value(spec: LaunchSpec) -> str:
    head = _num(spec.km) if spec.km is not None else spec.system + (f":{spec.munition}" if spec.munition else "")
    head = f"{_num(spec.min_km)}-{head}" if spec.min_km else head
    return f"{head}@{spec.target}/{spec.territory}" + (f"|{spec.name}" if spec.name else "")


def _iso(day: date | None) -> str:
    return "" if day is None else day.isoformat()


# ---------------------------------------------------------------------------------------------- reading

def from_query(query: str, known_systems: Collection[str] = (), known_sites: Collection[str] | None = None) -> Decoded:
    """Read a query string, with or without its '?', or a whole URL; never raises."""
    if isinstance(query, bytes):
        query = query.decode("utf-8", errors="replace")
    params: dict[str, list[str]] = {}
    for key, value in parse_qsl(_query_part(str(query)), keep_blank_values=True, errors="replace"):
        params.setdefault(key, []).append(value)
    return from_params(params, known_systems, known_sites)


def _query_part(text: str) -> str:
    text = text.strip().split("#", 1)[0]  # a fragment is never part of the state (to_query escapes '#')
    if text.startswith("?"):
        return text[1:]
    head, mark, tail = text.partition("?")
    # "https://host/page?v=1…" → the part after '?'; but in "q=why?" the '?' belongs to a value.
    return tail if mark and "=" not in head and "&" not in head else text


def from_params(params: Mapping[str, str | Sequence[str]], known_systems: Collection[str] = (),
                known_sites: Collection[str] | None = None) -> Decoded:
    """Read parameters (a str, or a list of str for repeated keys); never raises on their content.

    With Streamlit, pass `st.query_params` itself: its `get_all` is used so that repeated keys
    (ring=…&ring=…) are all read, where `st.query_params[key]` would give only the last one.
    If `known_systems` is not empty, ring and reach systems must be among them (case-insensitive), and so
    must a sites= filter's. With `known_sites` (the stored tables' names), a sites= table must be one of them.
    """
    r = _Reader(params, known_systems)
    _read_version(r)
    fields: dict[str, object] = {}  # read in KEYS order, so that the problems come in that order too
    fields["start"], fields["end"] = _read_dates(r)
    fields["countries"] = _read_countries(r)
    fields["admins"] = _read_names(r, "admin", "admin region")
    fields["near"], fields["near_km"] = _read_near(r)
    fields["area"] = _read_area(r)
    fields["types"] = _read_names(r, "type", "event type")
    fields["actors"] = _read_names(r, "actor", "actor")
    fields["text"] = _read_q(r)
    fields["coarse"] = _read_coarse(r)
    fields["rings"] = _read_rings(r)
    fields["sites"] = _read_sites(r, known_sites)
    fields["bearings"] = _read_bearings(r)
    fields["launches"] = _read_launches(r)
    fields["center"] = _read_center(r)
    fields["zoom"] = _read_zoom(r)
    fields["base"] = _read_base(r)
    fields["layers"] = _read_layers(r)
    fields["play"] = _read_play(r)
    state = ViewState(**fields)  # type: ignore[arg-type]
    _read_unknown(r)
    return Decoded(state, r.reported())


class _Reader:
    """The parameters as lists of str, and the problems found so far."""

    def __init__(self, params: Mapping[str, str | Sequence[str]], known_systems: Collection[str]) -> None:
        get_all = getattr(params, "get_all", None)  # Streamlit's QueryParams
        self.values = {str(k): _strings(get_all(k) if callable(get_all) else params[k]) for k in params}
        if isinstance(known_systems, str):  # one id, not its letters
            known_systems = (known_systems,)
        self.known = {str(s).strip().lower() for s in known_systems}
        self.problems: list[str] = []
        self._cleaned: set[str] = set()

    def note(self, sentence: str) -> None:
        self.problems.append(sentence)

    def reported(self) -> tuple[str, ...]:
        """The problems, at most MAX_PROBLEMS of them and then one sentence counting the rest."""
        if len(self.problems) <= MAX_PROBLEMS:
            return tuple(self.problems)
        rest = len(self.problems) - MAX_PROBLEMS + 1
        return (*self.problems[:MAX_PROBLEMS - 1], f"This link has {rest:,} more fields that could not be used.")

    def many(self, key: str) -> list[str]:
        return self.values.get(key, [])

    def one(self, key: str) -> str | None:
        """The value of a single-valued key (the last one, as Streamlit does); None when absent or blank."""
        values = self.many(key)
        if not values:
            return None
        if len(values) > 1:
            self.note(f"The key {_show(key, 30)} was given {len(values)} times; used the last one, "
                      f"{_show(key, 30)}={_show(values[-1])}.")
        return values[-1] if values[-1].strip() else None

    def text(self, key: str, value: str, whole: str | None = None) -> str:
        """`value` (part of `whole`) cleaned of control characters; says so once per key."""
        if key not in self._cleaned and has_hidden_control(value):
            self._cleaned.add(key)
            self.note(f"Removed control characters from {key}={_show(value if whole is None else whole)}.")
        return _clean(value)


def _strings(raw: object) -> list[str]:
    if raw is None:
        return []
    if isinstance(raw, bytes):
        return [raw.decode("utf-8", errors="replace")]
    if isinstance(raw, str) or not isinstance(raw, Iterable):
        return [str(raw)]
    return [x if isinstance(x, str) else _strings(x)[0] if isinstance(x, bytes) else str(x)
            for x in raw if x is not None]


def _show(value: str, limit: int = _SHOWN) -> str:
    """A bad value quoted back: at most `limit` characters, unprintable ones escaped as in repr."""
    shown = "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in value[:limit])
    return shown + ("…" if len(value) > limit else "")


def _list(items: Sequence[str], last: str = "or", limit: int = 10) -> str:
    items = list(items[:limit]) + ([f"{len(items) - limit} more"] if len(items) > limit else [])
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} {last} {items[-1]}"


def _a(word: str) -> str:
    return f"{'an' if word[0] in 'aeiou' else 'a'} {word}"


def _number(text: str) -> float | None:
    """A plain decimal number (NaN for 'nan'/'inf', to be refused as not finite); None if not number-shaped."""
    text = text.strip()
    if _NUMBER.fullmatch(text):
        return float(text)  # "1e309" → inf, refused by the caller
    return math.nan if text.lower().lstrip("+-") in _NOT_FINITE else None


def _km(text: str) -> float | None:
    text = text.strip()
    return _number(text[:-2] if text.lower().endswith("km") else text)


def _good_km(km: float | None) -> bool:
    return km is not None and math.isfinite(km) and MIN_KM <= round(km, 2) <= MAX_KM


_KM_RANGE = f"a number of km from {_num(MIN_KM)} to {MAX_KM:,.0f}"


def _latlon(text: str) -> tuple[float, float] | None:
    """(lat, lon) from 'lat,lon' when both parts are number-shaped, else None; values not yet checked."""
    parts = text.split(",")
    if len(parts) != 2:
        return None
    lat, lon = _number(parts[0]), _number(parts[1])
    return None if lat is None or lon is None else (lat, lon)


def _on_earth(lat: float, lon: float) -> bool:
    return math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180


def _read_version(r: _Reader) -> None:
    text = r.one("v")
    if text is None:
        return
    digits = text.strip()
    if not digits.isascii() or not digits.isdigit():
        r.note(f"Ignored v={_show(text)}: the version must be a whole number; read as v={VERSION}.")
        return
    number = digits.lstrip("0") or "0"   # no int(): a 5,000-digit version must not raise
    if number == "0":
        r.note(f"Ignored v={_show(text)}: versions start at 1; read as v={VERSION}.")
    elif number != str(VERSION):
        r.note(f"This link was made by a newer Reachmap (v={_show(number)}); read as v={VERSION}, "
               "so some of it may be ignored.")


def _read_dates(r: _Reader) -> tuple[date | None, date | None]:
    start, end = _read_date(r, "from"), _read_date(r, "to")
    if start is not None and end is not None and end < start:
        r.note(f"Ignored from={start.isoformat()} and to={end.isoformat()}: the end is before the start.")
        return None, None
    return start, end


def _read_date(r: _Reader, key: str) -> date | None:
    text = r.one(key)
    if text is None:
        return None
    if _DATE.fullmatch(text.strip()):
        try:
            day = date.fromisoformat(text.strip())
        except ValueError:
            pass
        else:
            if EARLIEST <= day <= LATEST:
                return day
            r.note(f"Ignored {key}={_show(text)}: dates run from {EARLIEST.isoformat()} to {LATEST.isoformat()}.")
            return None
    r.note(f"Ignored {key}={_show(text)}: not a date (write YYYY-MM-DD).")
    return None


def _read_countries(r: _Reader) -> tuple[str, ...]:
    pieces = [p.strip() for value in r.many("country") for p in value.split(",") if p.strip()]
    bad = [p for p in pieces if not _ISO2.fullmatch(p)]
    if bad:
        r.note(f"Ignored country={_show(','.join(bad))}: a country is a two-letter ISO code such as UA.")
    codes = _unique(p.upper() for p in pieces if _ISO2.fullmatch(p))
    if len(codes) > MAX_COUNTRIES:
        r.note(f"Ignored {len(codes) - MAX_COUNTRIES} country codes after the first {MAX_COUNTRIES}, "
               f"from country={codes[MAX_COUNTRIES]}.")
    return codes[:MAX_COUNTRIES]


def _read_names(r: _Reader, key: str, what: str) -> tuple[str, ...]:
    names = [r.text(key, v) for v in r.many(key)]
    too_long = [n for n in names if len(n) > MAX_NAME]
    if too_long:
        more = f" and {len(too_long) - 1} more" if len(too_long) > 1 else ""
        r.note(f"Ignored {key}={_show(too_long[0])}{more}: {_a(what)} name has at most {MAX_NAME} characters.")
    names = list(_unique(n for n in names if len(n) <= MAX_NAME))
    if len(names) > MAX_ITEMS:
        r.note(f"Ignored {len(names) - MAX_ITEMS} {key} values after the first {MAX_ITEMS}, from "
               f"{key}={_show(names[MAX_ITEMS])}.")
    return tuple(names[:MAX_ITEMS])


def _read_near(r: _Reader) -> tuple[str, float | None]:
    text = r.one("near")
    if text is None:
        return "", None
    place, colon, km_text = text.rpartition(":")
    place = r.text("near", place, text)
    km = _km(km_text)
    if not colon:
        r.note(f"Ignored near={_show(text)}: write PLACE:KM, for example near=Chernihiv:100.")
    elif not place or len(place) > MAX_NAME:
        r.note(f"Ignored near={_show(text)}: the place before ':' must be 1 to {MAX_NAME} characters.")
    elif not _good_km(km):
        r.note(f"Ignored near={_show(text)}: the distance must be {_KM_RANGE}.")
    else:
        return place, round(km, 2)
    return "", None


def _read_area(r: _Reader) -> tuple[LonLat, ...]:
    text = r.one("area")
    if text is None:
        return ()
    points = [p.strip() for p in text.split(";") if p.strip()]
    if not 3 <= len(points) <= MAX_AREA_POINTS:
        r.note(f"Ignored area={_show(text)}: an area needs 3 to {MAX_AREA_POINTS} points "
               f"written lon lat;lon lat;… (got {len(points)}).")
        return ()
    area = []
    for i, point in enumerate(points, 1):
        parts = re.split(r"[\s,]+", point)
        lon, lat = (_number(parts[0]), _number(parts[1])) if len(parts) == 2 else (None, None)
        if lon is None or lat is None or not _on_earth(lat, lon):
            r.note(f"Ignored area={_show(text)}: point {i} ({_show(point, 30)}) is not 'lon lat' with "
                   "longitude from -180 to 180 and latitude from -90 to 90.")
            return ()
        area.append((round(lon, 5), round(lat, 5)))
    return tuple(area)


def _read_q(r: _Reader) -> str:
    text = r.one("q")
    if text is None:
        return ""
    text = r.text("q", text)
    if len(text) > MAX_TEXT:
        r.note(f"Cut q={_show(text)} to its first {MAX_TEXT} characters.")
        text = text[:MAX_TEXT].strip()
    return text


def _read_rings(r: _Reader) -> tuple[RingSpec, ...]:
    rings = [ring for key in ("ring", "reach") for value in r.many(key)
             if (ring := _read_ring(r, key, value)) is not None]
    if len(rings) > MAX_RINGS:
        extra = [f"{'reach' if x.reach else 'ring'}={_show(_ring_value(x), 30)}" for x in rings[MAX_RINGS:]]
        r.note(f"Ignored {len(extra)} ring(s) after the first {MAX_RINGS} (ring and reach together): "
               f"{_list(extra, 'and', 3)}.")
    return tuple(rings[:MAX_RINGS])


def _read_ring(r: _Reader, key: str, value: str) -> RingSpec | None:
    named, bar, name_text = value.partition("|")
    head, at, origin = named.partition("@")  # '~' also numbers a munition (cruise~2), before the '@'
    origin, tilde, span_text = origin.partition("~")
    ring_text = head + at + origin
    spec = _read_ring_only(r, key, ring_text)
    if spec is not None and tilde:
        spec = _read_span(r, key, named, spec, span_text)
    if spec is None or not bar:
        return spec
    name = r.text(key, name_text, value)
    if len(name) > MAX_RING_NAME:
        r.note(f"Ignored the name of {key}={_show(named)}: more than {MAX_RING_NAME} characters; the ring keeps "
               "its own label.")
        return spec
    return replace(spec, name=name)


def _read_ring_only(r: _Reader, key: str, value: str) -> RingSpec | None:
    head, at, origin_text = value.partition("@")
    head, origin = head.strip(), r.text(key, origin_text, value)
    bad = f"Ignored {key}={_show(value)}:"
    if not at or not head or not origin:
        r.note(f"{bad} write SYSTEM@PLACE, SYSTEM:MUNITION@PLACE or KM@PLACE, "
               f"for example {key}=iskander-m@Minsk or {key}=300@53.9,27.57.")
        return None
    if len(origin) > MAX_NAME:
        r.note(f"{bad} the place after '@' has more than {MAX_NAME} characters.")
        return None
    point = _latlon(origin)
    if point is not None and not _on_earth(*point):
        r.note(f"{bad} a point is lat,lon with latitude from -90 to 90 and longitude from -180 to 180.")
        return None
    system, colon, munition = (s.strip().lower() for s in head.partition(":"))
    low, km = _km_span(system)
    if km is not None:
        if low is not None and not (_good_km(low) and round(low, 2) < round(km, 2)):
            r.note(f"{bad} the minimum range before '-' must be {_KM_RANGE} and less than the range.")
        elif colon:
            r.note(f"{bad} a radius in km takes no munition; write {key}={_num(km)}@PLACE.")
        elif not _good_km(km):
            r.note(f"{bad} the radius must be {_KM_RANGE}.")
        else:
            return RingSpec(origin, km=round(km, 2), reach=key == "reach", min_km=low and round(low, 2))
        return None
    if not _SYSTEM_ID.fullmatch(system):
        r.note(f"{bad} a system id is letters, digits and '-', like iskander-m.")
    elif r.known and system not in r.known:
        r.note(f"{bad} unknown system {_show(system, 40)}; known systems: {_list(sorted(r.known), 'and')}.")
    elif colon and not _munition_ok(munition):
        r.note(f"{bad} the munition must be {_list(MUNITION_KINDS)}, optionally with ~N for the catalogue's "
               "N-th entry of that kind (sources that disagree), like cruise~2.")
    else:
        return RingSpec(origin, system=system, munition=munition, reach=key == "reach")
    return None


def _read_sites(r: _Reader, known: Collection[str] | None) -> tuple[SiteLayer, ...]:
    """sites=TABLE or TABLE:SYSTEM,SYSTEM; a bad table or system is reported and dropped."""
    layers: list[SiteLayer] = []
    for value in r.many("sites"):
        table_text, colon, systems_text = value.partition(":")
        table = r.text("sites", table_text, value).lower()
        bad = f"Ignored sites={_show(value)}:"
        if not SITE_TABLE.fullmatch(table):
            r.note(f"{bad} a site table's name is letters, digits and '-', like sites=sites-belarus, optionally "
                   "followed by :SYSTEM,SYSTEM.")
            continue
        if known is not None and table not in known:
            stored = f"stored tables: {_list(sorted(known), 'and')}" if known else "no table is stored yet"
            r.note(f"{bad} no site table called {table} ({stored}); import one with import FILE --format sites.")
            continue
        systems, wrong = [], []
        for text in (p.strip().lower() for p in systems_text.split(",") if p.strip()):
            good = _SYSTEM_ID.fullmatch(text) and (not r.known or text in r.known)
            (systems if good else wrong).append(text)
        if wrong:
            known_words = f"; known systems: {_list(sorted(r.known), 'and')}" if r.known else ""
            r.note(f"Ignored {_show(', '.join(wrong), 40)} in sites={_show(value)}: not a system id{known_words}.")
            if not systems:
                r.note(f"{bad} none of its systems is known, so none of its sites is drawn.")
                continue
        elif colon and not systems:
            r.note(f"Ignored the ':' of sites={_show(value)}: no system follows it; all its sites are drawn.")
        layers.append(SiteLayer(table, tuple(systems)))
    layers = list(dict.fromkeys(layers))
    if len(layers) > MAX_SITE_LAYERS:
        r.note(f"Ignored {len(layers) - MAX_SITE_LAYERS} site table(s) after the first {MAX_SITE_LAYERS}.")
    return tuple(layers[:MAX_SITE_LAYERS])


def _km_span(text: str) -> tuple[float | None, float | None]:
    """'500' → (None, 500.0); '50-500' → (50.0, 500.0); a system id → (None, None)."""
    low, dash, high = text.partition("-")
    if dash and _km(low) is not None and _km(high) is not None:
        return _km(low), _km(high)
    return None, _km(text)


def _read_launches(r: _Reader) -> tuple[LaunchSpec, ...]:
    found = [spec for value in r.many("launch") if (spec := _read_launch(r, value)) is not None]
    if len(found) > MAX_LAUNCHES:
        r.note(f"Ignored {len(found) - MAX_LAUNCHES} launch area(s) after the first {MAX_LAUNCHES}.")
    return tuple(dict.fromkeys(found[:MAX_LAUNCHES]))


def _read_launch(r: _Reader, value: str) -> LaunchSpec | None:
    """launch=SYSTEM[:MUNITION]@TARGET/TERRITORY, KM@… or MIN-KM@…, optionally |NAME; bad ones noted, dropped."""
    named, bar, name_text = value.partition("|")
    head, at, where = named.partition("@")
    target, slash, territory = (r.text("launch", x, value) for x in where.rpartition("/"))
    bad = f"Ignored launch={_show(value)}:"
    if not at or not head.strip() or not slash or not target or not territory:
        r.note(f"{bad} write SYSTEM@TARGET/TERRITORY or KM@TARGET/TERRITORY, for example "
               "launch=iskander-m@Desna/BY or launch=50-300@50.93,30.77/BY.")
        return None
    if "/" in target or "~" in where or len(target) > MAX_NAME or len(territory) > MAX_NAME:
        r.note(f"{bad} the target and the territory are names or lat,lon of at most {MAX_NAME} characters, "
               "without '/' or '~'.")
        return None
    point = _latlon(target)
    if point is not None and not _on_earth(*point):
        r.note(f"{bad} a point is lat,lon with latitude from -90 to 90 and longitude from -180 to 180.")
        return None
    name = r.text("launch", name_text, value) if bar else ""
    if len(name) > MAX_RING_NAME:
        r.note(f"Ignored the name of launch={_show(named)}: more than {MAX_RING_NAME} characters.")
        name = ""
    system, colon, munition = (x.strip().lower() for x in head.partition(":"))
    low, km = _km_span(system)
    if km is not None:
        if colon or not _good_km(km) or (low is not None and not (_good_km(low) and round(low, 2) < round(km, 2))):
            r.note(f"{bad} the range is {_KM_RANGE}, optionally after a smaller minimum and '-' "
                   "(50-300), and takes no munition.")
            return None
        return LaunchSpec(target, territory, km=round(km, 2), min_km=low and round(low, 2), name=name)
    if not _SYSTEM_ID.fullmatch(system):
        r.note(f"{bad} a system id is letters, digits and '-', like iskander-m.")
    elif r.known and system not in r.known:
        r.note(f"{bad} unknown system {_show(system, 40)}; known systems: {_list(sorted(r.known), 'and')}.")
    elif colon and not _munition_ok(munition):
        r.note(f"{bad} the munition must be {_list(MUNITION_KINDS)}, optionally with ~N, like cruise~2.")
    else:
        return LaunchSpec(target, territory, system=system, munition=munition, name=name)
    return None


def _read_span(r: _Reader, key: str, value: str, spec: RingSpec, text: str) -> RingSpec:
    """The days after '~': FROM..UNTIL, either side empty for an open end. A bad span is reported and the ring
    kept without it (drawn whatever the dates), so the sentence says so."""
    first, dots, last = text.strip().partition("..")
    days = [d.strip() for d in (first, last)]
    bad = (f"Ignored the dates of {key}={_show(value)}: write ~FROM..UNTIL with days as YYYY-MM-DD, either side "
           f"empty for an open end, like ~2022-06-25.. ; the ring is drawn whatever the dates.")
    if not dots or not any(days) or not all(_DATE.fullmatch(d) for d in days if d):
        r.note(bad)
        return spec
    try:
        since, until = (date.fromisoformat(d) if d else None for d in days)
    except ValueError:
        r.note(bad)
        return spec
    if any(d is not None and not EARLIEST <= d <= LATEST for d in (since, until)):
        r.note(f"Ignored the dates of {key}={_show(value)}: days run from {EARLIEST.isoformat()} to "
               f"{LATEST.isoformat()}; the ring is drawn whatever the dates.")
        return spec
    if since is not None and until is not None and until < since:
        r.note(f"Ignored the dates of {key}={_show(value)}: the last day is before the first; the ring is drawn "
               "whatever the dates.")
        return spec
    return replace(spec, since=since, until=until)


def _read_bearings(r: _Reader) -> tuple[BearingSpec, ...]:
    lines = [line for value in r.many("bearing") if (line := _read_bearing(r, value)) is not None]
    if len(lines) > MAX_BEARINGS:
        r.note(f"Ignored {len(lines) - MAX_BEARINGS} line(s) of bearing after the first {MAX_BEARINGS}.")
    return tuple(lines[:MAX_BEARINGS])


def _read_bearing(r: _Reader, value: str) -> BearingSpec | None:
    """ORIGIN:DEGREES:KM|NAME; the origin is what is left of the last two ':' (a place name may hold one)."""
    named, bar, name_text = value.partition("|")
    parts = named.rsplit(":", 2)
    bad = f"Ignored bearing={_show(value)}:"
    if len(parts) != 3 or not parts[0].strip():
        r.note(f"{bad} write PLACE:DEGREES:KM, for example bearing=Desna:315:200 or "
               "bearing=51.3,30.8:315:200|reported launch direction.")
        return None
    origin = r.text("bearing", parts[0], value)
    degrees, km = _number(parts[1]), _km(parts[2])
    point = _latlon(origin)
    if len(origin) > MAX_NAME:
        r.note(f"{bad} the place has more than {MAX_NAME} characters.")
    elif point is not None and not _on_earth(*point):
        r.note(f"{bad} a point is lat,lon with latitude from -90 to 90 and longitude from -180 to 180.")
    elif degrees is None or not math.isfinite(degrees):
        r.note(f"{bad} the bearing must be a number of degrees clockwise from north, like 315.")
    elif km is None or not math.isfinite(km) or not MIN_KM <= round(km, 2) <= MAX_BEARING_KM:
        r.note(f"{bad} the length must be a number of km from {_num(MIN_KM)} to {MAX_BEARING_KM:,.0f}.")
    else:
        name = r.text("bearing", name_text, value) if bar else ""
        if len(name) > MAX_RING_NAME:
            r.note(f"Ignored the name of bearing={_show(named)}: more than {MAX_RING_NAME} characters.")
            name = ""
        return BearingSpec(origin, degrees, km, name)
    return None


def _munition_ok(munition: str) -> bool:
    return split_munition(munition) is not None


def _read_center(r: _Reader) -> tuple[float, float] | None:
    text = r.one("c")
    if text is None:
        return None
    point = _latlon(text)
    if point is None or not _on_earth(*point) or abs(point[0]) > MAX_LAT_CENTER:
        r.note(f"Ignored c={_show(text)}: the centre must be lat,lon with latitude from -{MAX_LAT_CENTER} to "
               f"{MAX_LAT_CENTER} (where the map ends) and longitude from -180 to 180.")
        return None
    return (round(point[0], 4), round(point[1], 4))


def _read_zoom(r: _Reader) -> int | None:
    text = r.one("z")
    if text is None:
        return None
    digits = text.strip()
    if digits.isascii() and digits.isdigit() and len(digits) <= 2 and int(digits) <= 18:
        return int(digits)
    r.note(f"Ignored z={_show(text)}: zoom must be a whole number from 0 to 18.")
    return None


def _read_base(r: _Reader) -> str:
    text = r.one("base")
    if text is None:
        return DEFAULT_BASE
    if text.strip().lower() in BASES:
        return text.strip().lower()
    r.note(f"Ignored base={_show(text)}: the base map is {_list(BASES)}; used {DEFAULT_BASE}.")
    return DEFAULT_BASE


def _read_coarse(r: _Reader) -> bool:
    text = r.one("coarse")
    if text is None or text.strip() in ("", "0"):
        return False
    if text.strip() == "1":
        return True
    r.note(f"Ignored coarse={_show(text)}: it is 1 (area filters also take events located only by country "
           "or region) or 0; used 0.")
    return False


def _read_layers(r: _Reader) -> tuple[str, ...]:
    values = r.many("layers")
    text = r.one("layers")
    if text is None:
        return () if values else DEFAULT_LAYERS   # "layers=" (blank) hides all, like layers=none
    names = [p.strip().lower() for p in text.split(",") if p.strip()]
    if names == [NO_LAYERS]:
        return ()
    bad = [p.strip() for p in text.split(",") if p.strip() and p.strip().lower() not in LAYERS]
    good = tuple(layer for layer in LAYERS if layer in names)
    choices = f"layers are {', '.join(LAYERS)} (comma-separated) or {NO_LAYERS}"
    if not good:
        r.note(f"Ignored layers={_show(text)}: {choices}; showing all layers.")
        return DEFAULT_LAYERS
    if bad:
        r.note(f"Ignored {_show(', '.join(bad), 30)} in layers={_show(text)}: {choices}.")
    return good


def _read_play(r: _Reader) -> Frame | None:
    day_text, window_text, step_text = r.one("play"), r.one("window"), r.one("step")
    if day_text is None:
        for key, text in (("window", window_text), ("step", step_text)):
            if text is not None:
                r.note(f"Ignored {key}={_show(text)}: it belongs to a playback frame, play=YYYY-MM-DD.")
        return None
    day = _read_date(r, "play")
    if day is None:
        return None
    window = _play_days(r, "window", window_text, Frame.window, allow_all=True)
    step = _play_days(r, "step", step_text, Frame.step, allow_all=False)
    return Frame(day, window, step)


def _play_days(r: _Reader, key: str, text: str | None, default: int, *, allow_all: bool) -> int:
    if text is None:
        return default
    words = text.strip().lower()
    if allow_all and words == "all":
        return 0
    digits = words[:-1] if words.endswith("d") else words
    if digits.isascii() and digits.isdigit() and 1 <= int(digits) <= MAX_PLAY_DAYS:
        return int(digits)
    choices = f"a number of days from 1 to {MAX_PLAY_DAYS} such as 7d" + (", or all (cumulative)" if allow_all else "")
    r.note(f"Ignored {key}={_show(text)}: it is {choices}; used {default}d.")
    return default


def _read_unknown(r: _Reader) -> None:
    unknown = [k for k in r.values if k not in KEYS and k not in RESERVED]
    if unknown:
        names = [_show(k, 30) if k else "(a blank name)" for k in unknown]
        r.note(f"Ignored unknown field(s): {_list(names, 'and') if len(names) > 10 else ', '.join(names)}.")


# ---------------------------------------------------------------------------------------------- words

def describe(state: ViewState, count: int, date_bounds: tuple[date, date] | None = None) -> str:
    """The selection in plain English: '8 events between 20 Feb and 30 Jun 2022 within 100 km of Chernihiv'.

    `date_bounds` (first and last day of the data, if known) fills an open side of the date filter. The
    text is plain, not HTML or Markdown: escape it where it is shown.
    """
    words = [f"{count:,} {'event' if count == 1 else 'events'}"]
    start, end = state.start, state.end
    if date_bounds is not None:
        first, last = date_bounds
        start = start if start is not None or (end is not None and first > end) else first
        end = end if end is not None or (start is not None and last < start) else last
    if start is not None or end is not None:
        words.append(_when(start, end))
    if state.countries:
        words.append(f"in {', '.join(state.countries)}")
    if state.admins:
        words.append(f"in {_list(state.admins)}")
    if state.near:
        words.append(f"within {_num(state.near_km)} km of {state.near}" if state.near_km else f"near {state.near}")
    if state.types:
        words.append(f"of type {_list(state.types)}")
    if state.actors:
        words.append(f"involving {_list(state.actors)}")
    if state.text:
        words.append(f"matching “{state.text}”")
    if state.area:
        words.append("inside the drawn area")
    if state.coarse and (state.area or (state.near and state.near_km)):
        words.append("(with events located only by country or region)")
    return " ".join(words)


def _day(d: date) -> str:
    # Neither strftime("%-d") (glibc-only) nor %b (follows the process locale).
    return f"{d.day} {_MONTHS[d.month - 1]} {d.year}"


def _when(start: date | None, end: date | None) -> str:
    if start is None:
        return f"until {_day(end)}"  # type: ignore[arg-type]
    if end is None:
        return f"from {_day(start)}"
    if start == end:
        return f"on {_day(start)}"
    if start.year == end.year:
        return f"between {start.day} {_MONTHS[start.month - 1]} and {_day(end)}"
    return f"between {_day(start)} and {_day(end)}"
