"""Range rings and reach envelopes resolved from what a user asked for, and what lies inside them."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import shapely
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from dashboard import geodesy
from dashboard.errors import ValidationError
from dashboard.gazetteer import Gazetteer
from dashboard.model import (Catalogue, Event, LonLat, Munition, Place, Site, Source, Validity, WeaponSystem,
                             check_lat,
                             check_lon, check_range_km, split_munition)
from dashboard.table import COARSE_KINDS, EventTable

_BORDER_CODES = re.compile(r"^\s*([A-Za-z]{2})\s*-\s*([A-Za-z]{2})\s*$")
# What share reads as a number: plain ASCII decimals (float() would also take "1_0", "٣" and "infinity").
_NUMBER = re.compile(r"\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\s*", re.ASCII)


@dataclass(frozen=True)
class Ring:
    """A ring around a point or a reach envelope around an area or line, ready to draw and to query."""

    label: str
    kind: str  # "ring" | "reach"
    origin: Place
    radius_km: float
    geometry: BaseGeometry
    system: str = ""
    munition: str = ""
    source: Source | None = None  # who declared the range, when it comes from the catalogue
    valid: Validity | None = None  # the days it holds (a dated ring); None: whatever the dates
    layer: str = ""  # the site table it is a ring of (sites=…), drawn in the sites layer; "" otherwise
    site: Site | None = None  # that site: its name, source and quote, minimum range
    min_km: float = 0.0  # a minimum range: the ring is an annulus, nothing closer is in range

    def holds(self, start: date | None, end: date | None) -> bool:
        """True when the ring holds on at least one day of [start, end] (None: open); an undated ring always."""
        return self.valid is None or self.valid.overlaps(start, end)


def resolve_origin(text: str, gazetteer: Gazetteer) -> Place:
    """'53.9,27.57' (lat,lon), 'BY-UA' (a border), 'BY' (a country) or a place name → a Place."""
    point = _lat_lon(text)
    if point is not None:
        lat, lon = check_lat(point[0], "origin lat"), check_lon(point[1], "origin lon")
        return Place("point", f"{lat:.4f}, {lon:.4f}", "point", Point(lon, lat))
    border = _BORDER_CODES.match(text)
    if border:
        return gazetteer.border(border[1].upper(), border[2].upper())
    if len(text.strip()) == 2 and text.strip().isalpha():
        return gazetteer.country(text.strip().upper())
    return gazetteer.resolve(text)


def _lat_lon(text: str) -> tuple[float, float] | None:
    parts = text.split(",")
    if len(parts) != 2 or not all(_NUMBER.fullmatch(p) for p in parts):
        return None
    return float(parts[0]), float(parts[1])


def resolve_ring(origin: str, gazetteer: Gazetteer, catalogue: Catalogue, *, km: float | None = None,
                 system: str = "", munition: str = "", reach: bool = False, min_km: float | None = None) -> Ring:
    """Build the geodesic polygon a ring request stands for; errors name what was wrong.

    With a minimum range (min_km, or the munition's declared one when min_km is None) the ring is an
    annulus: geodesy.range_annulus round a point, geodesy.reach_annulus from an area.
    """
    place, km, reach, system_name, munition_name, source = _request(origin, gazetteer, catalogue, km, system,
                                                                    munition, reach)
    low = ring_minimum(catalogue, system, munition, min_km)
    geometry = (geodesy.reach_annulus(place.geometry, low, km) if reach
                else geodesy.range_annulus(place.lonlat, low, km))
    what = (f"{system_name} {munition_name}" if munition else system_name) if system_name else "Ring"
    span = f"{low:,.0f}–{km:,.0f} km" if low else f"{km:,.0f} km"
    label = f"{what}, {span} from {place.name}"
    return Ring(label, "reach" if reach else "ring", place, km, geometry, system_name, munition_name, source,
                min_km=float(low or 0.0))


def ring_minimum(catalogue: Catalogue, system: str, munition: str = "", min_km: float | None = None) -> float:
    """The minimum range a request stands for: min_km if given, else the named munition's declared one."""
    if min_km is not None:
        return float(min_km)
    return munition_of(catalogue.get(system), munition).min_range_km if system else 0.0


def ring_cost(origin: str, gazetteer: Gazetteer, catalogue: Catalogue, *, km: float | None = None,
              system: str = "", munition: str = "", reach: bool = False) -> int:
    """The ring vertices resolve_ring would compute for this request, known before computing them.

    Raises what resolve_ring would, and ValidationError for an envelope over geodesy.MAX_REACH_VERTICES.
    """
    place, km, reach, *_ = _request(origin, gazetteer, catalogue, km, system, munition, reach)
    if reach and place.geometry.geom_type != "Point":
        return geodesy.reach_plan(place.geometry, km).cost
    return geodesy.ring_vertex_count(km)


def _request(origin: str, gazetteer: Gazetteer, catalogue: Catalogue, km: float | None, system: str,
             munition: str, reach: bool) -> tuple[Place, float, bool, str, str, Source | None]:
    """The origin, radius and kind of a ring request, and the system's names and source if one is named."""
    place = resolve_origin(origin, gazetteer)
    source = None
    system_name = munition_name = ""
    if system:
        found = catalogue.get(system)
        chosen = munition_of(found, munition)
        system_name, munition_name, source = found.name, chosen.name, chosen.source
        km = km or chosen.range_km
    if km is None:
        raise ValidationError("km", km, "give a radius in km or choose a system")
    km = check_range_km(km, "km")
    if not reach and place.kind in ("country", "border"):
        reach = True  # a ring "from Belarus" can only mean the reach from its territory
    return place, km, reach, system_name, munition_name, source


def munition_of(system: WeaponSystem, munition: str = "") -> Munition:
    """The catalogue entry a ring names: "" the system's longest-range munition, "cruise" its longest cruise
    one, "cruise~2" its 2nd cruise entry (where sources disagree, each is an entry of its own)."""
    kind, nth = ("", None) if not munition else split_munition(munition) or (None, None)
    choices = [] if kind is None else [m for m in system.munitions if not kind or m.kind == kind]
    if not choices or (nth is not None and nth > len(choices)):
        raise ValidationError("munition", f"{system.id}:{munition}" if munition else system.id,
                              "has no munition of that kind with a declared range in the catalogue")
    return choices[nth - 1] if nth else max(choices, key=lambda m: m.range_km)


def site_radius(site: Site, catalogue: Catalogue) -> tuple[float, Munition | None]:
    """A site's ring radius: its own km, else its system's longest declared range (with that munition)."""
    if site.km is not None:
        return site.km, None
    chosen = munition_of(catalogue.get(site.system))
    return chosen.range_km, chosen


def site_rings(table: str, sites: Sequence[Site], catalogue: Catalogue, systems: Sequence[str] = ()) -> list[Ring]:
    """One geodesic ring per site of a table (only the sites of `systems`, catalogue ids, when given).

    The ring is the site's radius; with a minimum range (the site's own min_km, else its munition's declared
    one) it is an annulus, and nothing closer is in range (Ring.min_km), as for any ring.
    """
    rings = []
    for i, site in enumerate(sites):
        if systems and site.system not in systems:
            continue
        km, munition = site_radius(site, catalogue)
        system_name = catalogue.get(site.system).name if site.system else ""
        # Keyed by the point too: the app keeps each ring's measured events by its origin's key.
        origin = Place(f"site:{table}:{i + 1}:{site.lat:.5f},{site.lon:.5f}", site.name, "point",
                       Point(site.lon, site.lat))
        low = site.min_km if site.min_km is not None else (munition.min_range_km if munition else 0.0)
        label = f"{site.name}: {system_name + ', ' if system_name else ''}{f'{low:,.0f}–' if low else ''}{km:,.0f} km"
        rings.append(Ring(label, "ring", origin, km, geodesy.range_annulus((site.lon, site.lat), low or 0.0, km),
                          system_name, munition.name if munition else "", munition.source if munition else None,
                          site.valid, layer=table, site=site, min_km=float(low or 0.0)))
    return rings


@dataclass(frozen=True)
class LayerRow:
    """A place or event within the ring of at least one site of a layer, and which sites reach it."""

    name: str
    kind: str  # capital | city | event
    country: str
    sites: tuple[str, ...]  # the sites whose ring holds it, nearest first
    nearest_km: float
    nearest_site: str
    lon: float
    lat: float


def layer_in_range(rings: Sequence[Ring], gazetteer: Gazetteer,
                   events: Sequence[Event] | EventRows | Callable[[Ring], Sequence[Event] | EventRows],
                   min_population: int, max_events: int | None = None) -> list[LayerRow]:
    """What lies within any site's ring of a layer, and of which sites: one row per place or event, nearest
    first. A place closer to a site than its minimum range (Ring.min_km) is out of that site's reach.

    `events` as for in_range_rows, or a function giving them for each ring (the app's measured reach)."""
    found: dict[tuple, list[tuple[float, str]]] = {}
    meta: dict[tuple, tuple[str, str, str, float, float]] = {}
    for ring in rings:  # in_range_rows (and event_reach, the app's measured reach) leave a minimum's hole out
        chosen = events(ring) if callable(events) else events
        for row in in_range_rows(ring, gazetteer, chosen, min_population, max_events=max_events):
            key = (row.kind, row.name, round(row.lon, 5), round(row.lat, 5))
            found.setdefault(key, []).append((row.distance_km, ring.site.name if ring.site else ring.label))
            meta[key] = (row.name, row.kind, row.country, row.lon, row.lat)
    rows = []
    for key, hits in found.items():
        hits.sort()
        name, kind, country, lon, lat = meta[key]
        rows.append(LayerRow(name, kind, country, tuple(dict.fromkeys(n for _, n in hits)), hits[0][0], hits[0][1],
                             lon, lat))
    return sorted(rows, key=lambda r: (r.nearest_km, r.name))


@dataclass(frozen=True)
class InRangeRow:
    ring: str
    name: str
    kind: str  # capital | city | event
    country: str
    distance_km: float
    bearing_deg: float | None
    lon: float
    lat: float
    admin1: str = ""  # the GeoNames admin1 code of a city or capital (events: empty, as from table columns)
    # From when until when it is in range: the dated ring's days (ISO, "approximate" marked; "" when open)
    since: str = ""
    until: str = ""


def _origin(ring: Ring) -> BaseGeometry:
    return Point(ring.origin.lonlat) if ring.kind == "ring" else ring.origin.geometry


def event_reach(ring: Ring, table: EventTable) -> geodesy.InRange:
    """Inside or not, distance and bearing for every event of the table.

    Filters only pick rows, so the app keeps this per ring and store: measuring 100k events from a
    border takes most of a second.
    """
    lon, lat, back = _distinct_points(table.lon, table.lat)
    origin, parts = _origin(ring), []
    for start in range(0, len(lon), _REACH_CHUNK):  # bounded memory: the nearest-point search is k-wide
        stop = start + _REACH_CHUNK
        parts.append(_in_range(ring, origin, lon[start:stop], lat[start:stop]))
    if not parts:
        return geodesy.InRange(np.zeros(0, bool), np.zeros(0), np.zeros(0))
    columns = (np.concatenate([getattr(p, f) for p in parts]) for f in ("inside", "distance_km", "bearing_deg"))
    return geodesy.InRange(*(c if back is None else c[back] for c in columns))


def _in_range(ring: Ring, origin: BaseGeometry, lons: np.ndarray, lats: np.ndarray) -> geodesy.InRange:
    """geodesy.in_range, less the points a minimum range leaves out (closer than it round a point; from an
    area, those with all of it within the minimum: see geodesy.reach_annulus)."""
    hits = geodesy.in_range(origin, ring.radius_km, lons, lats)
    if not ring.min_km or not len(lons):
        return hits
    if origin.geom_type == "Point":
        close = hits.distance_km < ring.min_km
    else:
        cut = geodesy.too_close(origin, ring.min_km)
        close = np.zeros(len(lons), bool) if cut.is_empty else shapely.contains_xy(cut, lons, lats)
    return geodesy.InRange(hits.inside & ~close, hits.distance_km, hits.bearing_deg)


_REACH_CHUNK = 100_000
_DISTINCT_SHARE = 0.8  # measure each distinct point once when they are fewer than this share of the events


def _distinct_points(lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """The points to measure and, if they are the distinct ones, where each event's point is among them.

    Real exports pin many events at one village (ACLED: a few thousand locations for 100k+ events of a
    country), and the distance of a point does not depend on how many events it carries."""
    if len(lon) < 2:
        return lon, lat, None
    distinct, back = np.unique(lon + 1j * lat, return_inverse=True)
    if len(distinct) > _DISTINCT_SHARE * len(lon):
        return lon, lat, None
    return distinct.real.copy(), distinct.imag.copy(), back


EventRows = tuple[EventTable, np.ndarray] | tuple[EventTable, np.ndarray, geodesy.InRange]


def in_range_rows(ring: Ring, gazetteer: Gazetteer, events: Sequence[Event] | EventRows,
                  min_population: int, kinds: tuple[str, ...] = ("capital", "city", "event"),
                  max_events: int | None = None, include_districts: bool = False,
                  include_coarse: bool = False) -> list[InRangeRow]:
    """Capitals, cities of at least min_population and the given events inside the ring, nearest first.

    City districts (Kyiv's Obolon, Warsaw's Mokotów) are not cities and are left out unless
    `include_districts`.

    `events` may be (table, rows), or (table, rows, event_reach(ring, table)): 100k events are then measured
    from the table's columns (or not at all), and no Event object is built. With `max_events`, only that
    many of the events in range are listed, the nearest (table rows only).
    """
    names: list[str] = []
    what: list[str] = []
    countries: list[str] = []
    lons: list[float] = []
    lats: list[float] = []
    regions: list[str] = []

    def add(kind: str, name, country, lon, lat, admin1="") -> None:
        regions.append(str(admin1))
        names.append(str(name))
        what.append(kind)
        countries.append(str(country))
        lons.append(float(lon))
        lats.append(float(lat))

    capitals = gazetteer.capitals()
    if "capital" in kinds:
        for c in capitals:
            add("capital", c.name, c.country, c.lon, c.lat, c.admin1)
    if "city" in kinds:
        skip = {c.geonameid for c in capitals} if "capital" in kinds else set()
        cities = gazetteer.cities(min_population, include_districts=include_districts)
        for gid, name, country, lon, lat, admin1 in zip(cities.geonameid, cities.name, cities.country, cities.lon,
                                                        cities.lat, cities.admin1):
            if gid not in skip:
                add("city", name, country, lon, lat, admin1)
    from_table = isinstance(events, tuple) and len(events) in (2, 3) and isinstance(events[0], EventTable)
    # An event located only by a country or region has no point of its own: listing it "0 km" from
    # a reach out of that country would read as a measurement. Left out unless asked for.
    if "event" in kinds and not from_table:
        for e in events:
            if include_coarse or e.place.kind not in COARSE_KINDS:
                add("event", e.title, ", ".join(e.place.countries), *e.place.lonlat)
    found: list[InRangeRow] = []
    if names:
        hits = _in_range(ring, _origin(ring), np.array(lons), np.array(lats))
        found = [_row(ring, names[i], what[i], countries[i], hits, i, lons[i], lats[i], regions[i])
                 for i in np.flatnonzero(hits.inside)]
    if "event" in kinds and from_table:
        table, rows = events[0], events[1]
        if len(events) == 3:  # measured for the whole table: look these rows up in it
            reach, index = events[2], rows
        else:                 # measure these rows only
            reach = _in_range(ring, _origin(ring), table.lon[rows], table.lat[rows])
            index = np.arange(len(rows))
        keep = reach.inside[index]
        if not include_coarse and len(table.place_coarse):
            keep &= ~table.place_coarse[table.place_code[rows]]
        inside, at = rows[keep], index[keep]
        if max_events is not None and len(at) > max_events:
            nearest = np.argpartition(reach.distance_km[at], max_events)[:max_events]
            inside, at = inside[nearest], at[nearest]
        sets = [", ".join(s) for s in table.country_sets]
        found += [_row(ring, title, "event", sets[code], reach, i, lon, lat) for title, code, i, lon, lat in zip(
            table.title_at(inside).tolist(), table.country_code[inside].tolist(), at.tolist(),
            table.lon[inside].tolist(), table.lat[inside].tolist())]
    return sorted(found, key=lambda r: (r.distance_km, r.name))


def _row(ring: Ring, name: str, kind: str, country: str, hits: geodesy.InRange, i: int, lon: float,
         lat: float, admin1: str = "") -> InRangeRow:
    bearing = hits.bearing_deg[i]
    since, until = _days(ring)
    return InRangeRow(ring.label, name, kind, country, round(float(hits.distance_km[i]), 1),
                      None if np.isnan(bearing) else round(float(bearing), 1), lon, lat, admin1, since, until)


def _days(ring: Ring) -> tuple[str, str]:
    if ring.valid is None:
        return "", ""
    mark = " (approximate)" if ring.valid.approximate else ""
    return tuple(d.isoformat() + mark if d is not None else "" for d in (ring.valid.start, ring.valid.end))


# -- fitting a ring into the map's view -----------------------------------------------------------

TILE_PX = 256  # Web Mercator tile size: at zoom z the world is TILE_PX * 2**z pixels wide
MAX_MERCATOR_LAT = 85.0511287798  # where Web Mercator's square world ends


def fit_view(bounds: tuple[float, float, float, float], width_px: float = 1200, height_px: float = 620, *,
             padding_px: float = 30, min_zoom: int = 1, max_zoom: int = 12) -> tuple[tuple[float, float], int]:
    """The centre (lat, lon) and the largest whole zoom at which lon/lat `bounds` (minx, miny, maxx, maxy,
    as shapely gives them) fit a Web Mercator map of that size in pixels, `padding_px` kept free each side.

    The centre is the middle of the bounds in Mercator, as Leaflet's fitBounds takes it, not the mean
    latitude. A 500 km ring from Minsk fits a 1200×620 map at zoom 5:

    >>> from dashboard import geodesy
    >>> (lat, lon), zoom = fit_view(geodesy.range_ring((27.56653, 53.90019), 500).bounds)
    >>> round(lat, 2), round(lon, 2), zoom
    (54.14, 27.57, 5)
    """
    minx, miny, maxx, maxy = (float(v) for v in bounds)
    if not all(map(np.isfinite, (minx, miny, maxx, maxy))) or minx > maxx or miny > maxy:
        raise ValidationError("bounds", bounds, "expected (min lon, min lat, max lon, max lat) with min ≤ max")
    if width_px <= 2 * padding_px or height_px <= 2 * padding_px:
        raise ValidationError("size", (width_px, height_px), f"the map must be wider and higher than 2 × {padding_px} px")
    top, bottom = mercator_y(maxy), mercator_y(miny)  # 0 at the top of the world, 1 at its bottom
    dx, dy = (maxx - minx) / 360.0, bottom - top  # share of the world's width and height
    scales = [(width_px - 2 * padding_px) / (dx * TILE_PX) if dx > 0 else np.inf,
              (height_px - 2 * padding_px) / (dy * TILE_PX) if dy > 0 else np.inf]
    fit = min(scales)
    zoom = max_zoom if not np.isfinite(fit) else int(np.floor(np.log2(fit) + 1e-9))
    zoom = int(min(max(zoom, min_zoom), max_zoom))
    return (mercator_lat((top + bottom) / 2), (minx + maxx) / 2), zoom


def mercator_y(lat):
    """Web Mercator y of a latitude as a share of the world's height: 0 at its top, 1 at its bottom (a
    float for a number, an array for an array)."""
    phi = np.radians(np.clip(lat, -MAX_MERCATOR_LAT, MAX_MERCATOR_LAT))
    y = 0.5 - np.log(np.tan(np.pi / 4 + phi / 2)) / (2 * np.pi)
    return float(y) if np.ndim(y) == 0 else y


def mercator_lat(y: float) -> float:
    """The latitude at Web Mercator y (mercator_y's inverse)."""
    return float(np.degrees(2 * np.arctan(np.exp((0.5 - y) * 2 * np.pi)) - np.pi / 2))


# ------------------------------------------------------------------------------------------ lines of bearing

@dataclass(frozen=True)
class BearingLine:
    """A line of bearing ready to draw and export: the geodesic from a place along an initial bearing."""

    label: str
    origin: Place
    bearing: float  # degrees clockwise from true north, [0, 360)
    km: float
    path: tuple[LonLat, ...]  # lon/lat, densified, longitudes unrolled (geodesy.bearing_path)

    @property
    def end(self) -> LonLat:
        lon, lat = self.path[-1]
        return ((lon + 180.0) % 360.0) - 180.0, lat


def resolve_bearing(origin: str, bearing: float, km: float, gazetteer: Gazetteer, name: str = "") -> BearingLine:
    """The line of bearing from a place or "lat,lon" point; an area or a border is refused (no one start).

    >>> line = resolve_bearing("51.0,30.8", 315, 200, None)  # a point needs no gazetteer
    >>> line.label, [round(x, 3) for x in line.end]
    ('Bearing 315° for 200 km from 51.0000, 30.8000', [28.729, 52.253])
    """
    place = resolve_origin(origin, gazetteer)
    if place.kind in ("country", "border") or place.geometry.geom_type != "Point":
        raise ValidationError("bearing origin", origin,
                              "is an area or a line; a line of bearing starts at a place or a lat,lon point")
    path = geodesy.bearing_path(place.lonlat, bearing, km)
    label = name or f"Bearing {bearing % 360:g}° for {km:,g} km from {place.name}"
    return BearingLine(label, place, bearing % 360.0, float(km), path)
