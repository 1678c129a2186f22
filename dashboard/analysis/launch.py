"""Launch areas (inverse rings): the part of a territory from which a system could have reached a target.

A launch area is territory ∩ {points whose geodesic distance to the target is in [min_km, radius_km]}, on
the WGS84 ellipsoid: the territory cut by geodesy.range_annulus round the target. The distance from a
launch point to the target is the same either way round, so this is the ring round the target, not an
envelope of the territory.

>>> from dashboard.gazetteer import Gazetteer
>>> g = Gazetteer.open()
>>> area = launch_area(g.resolve("Desna"), g.country("BY"), 500)
>>> round(area.nearest_km), round(area.farthest_km), round(100 * area.share)
(41, 500, 82)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import Point
from shapely.geometry.base import BaseGeometry

from dashboard import geodesy
from dashboard.errors import ValidationError
from dashboard.gazetteer import Gazetteer
from dashboard.model import Catalogue, LonLat, Place, Source
from dashboard.rings import munition_of, resolve_origin

_SPACING_KM = 0.1  # how finely boundaries are walked for the nearest and farthest points (error ~ s²/8d)


@dataclass(frozen=True)
class LaunchArea:
    """Where in `territory` a launch at [min_km, radius_km] from `target` could come from, and how much."""

    label: str
    target: Place
    territory: Place
    radius_km: float
    min_km: float
    geometry: BaseGeometry  # empty when the target is out of reach from every point of the territory
    area_km2: float
    territory_km2: float
    territory_nearest_km: float   # how close the territory comes to the target (0: the target is inside)
    territory_farthest_km: float
    nearest: LonLat | None = None   # the launch points nearest and farthest from the target
    nearest_km: float | None = None
    farthest: LonLat | None = None
    farthest_km: float | None = None
    system: str = ""
    munition: str = ""
    source: Source | None = None
    listing: Reachers | None = None  # what else in the catalogue could reach the target from the territory
    # (nearest, farthest) km of each connected part of the territory: the listing's answer needs no second walk
    # of the territory's boundary (0.6 s for Russia).
    part_extents: tuple[tuple[float, float], ...] = ()

    @property
    def empty(self) -> bool:
        return self.geometry.is_empty

    @property
    def share(self) -> float:
        """The share of the territory's area the launch area covers (0–1)."""
        return self.area_km2 / self.territory_km2 if self.territory_km2 else 0.0

    def sentence(self) -> str:
        """One line for a title box, a popup or the CLI: what could reach the target from where."""
        what = f"{self.system} {self.munition}".strip() if self.system else f"A {_span(self.min_km, self.radius_km)} range"
        if not self.empty:
            return (f"{what} could reach {self.target.name} from {100 * self.share:.1f}% of {self.territory.name} "
                    f"({self.area_km2:,.0f} km²), launch points {self.nearest_km:,.1f}–{self.farthest_km:,.1f} km "
                    "away")
        if self.territory_nearest_km > self.radius_km:
            return (f"{what} could not reach {self.target.name} from {self.territory.name}: the territory is "
                    f"at least {self.territory_nearest_km:,.1f} km away, beyond {_km(self.radius_km)} km")
        return (f"{what} could not reach {self.target.name} from {self.territory.name}: all of it is within "
                f"{self.territory_farthest_km:,.1f} km, inside the {_km(self.min_km)} km minimum range")


def launch_area(target: Place, territory: Place, radius_km: float, min_km: float = 0.0, *, label: str = "",
                system: str = "", munition: str = "", source: Source | None = None) -> LaunchArea:
    """The launch area of a target (a point place) from a territory (an area), for a range [min_km, radius_km]."""
    _check_target(target)
    land = _check_territory(territory)
    disc = geodesy.range_annulus(target.lonlat, min_km, radius_km)
    geometry = _polygonal(shapely.intersection(land, disc))
    parts = _part_extents(land, target.lonlat)
    near_t, far_t = min(p[0] for p in parts), max(p[1] for p in parts)
    area = geodesy.area_km2(geometry) if not geometry.is_empty else 0.0
    nearest = farthest = None
    near_km = far_km = None
    if not geometry.is_empty:
        (nearest, near_km), (farthest, far_km) = geodesy.boundary_extremes(geometry, target.lonlat, _SPACING_KM)
        if not min_km and shapely.contains_xy(geometry, *target.lonlat):
            nearest, near_km = target.lonlat, 0.0
    what = f"{system} {munition}".strip() if system else "Launch area"
    # The user's own name labels it, as for rings; otherwise what, how far, to where and from where.
    return LaunchArea(label or f"{what}, {_span(min_km, radius_km)} to {target.name} from {territory.name}", target,
                      territory, float(radius_km), float(min_km or 0.0), geometry, area, geodesy.area_km2(land),
                      near_t, far_t, nearest, near_km, farthest, far_km, system, munition, source,
                      part_extents=parts)


def _span(min_km: float, radius_km: float) -> str:
    return f"{_km(min_km)}–{_km(radius_km)} km" if min_km else f"{_km(radius_km)} km"


def _km(km: float) -> str:
    """A typed range as words: 500 → '500', 1500 → '1,500', 0.25 → '0.25' (never '0')."""
    return f"{km:,.0f}" if km >= 10 else f"{km:.2f}".rstrip("0").rstrip(".")


def _check_target(target: Place) -> None:
    if target.geometry.geom_type != "Point":
        raise ValidationError("target", target.name, "must be a place or a point (lat,lon), not an area or a "
                              "line; name a town, or give its coordinates")


def _check_territory(territory: Place) -> BaseGeometry:
    if territory.geometry.geom_type not in ("Polygon", "MultiPolygon"):
        raise ValidationError("territory", territory.name, "must be an area (a country code such as BY, or a "
                              "drawn shape), not a point or a line")
    return territory.geometry


def _polygonal(geom: BaseGeometry) -> BaseGeometry:
    polys = [g for g in shapely.get_parts(geom) if g.geom_type == "Polygon" and not g.is_empty]
    return shapely.union_all(polys) if polys else shapely.geometry.Polygon()


def _extent(area: BaseGeometry, target: LonLat) -> tuple[float, float]:
    """How near and how far an area comes from target in km (near 0 when the target is inside)."""
    (_, near), (_, far) = geodesy.boundary_extremes(area, target, _SPACING_KM)
    return (0.0 if shapely.contains_xy(area, *target) else near), far


def _part_extents(land: BaseGeometry, target: LonLat) -> tuple[tuple[float, float], ...]:
    """_extent of each connected part of an area: their minimum and maximum are the whole area's."""
    return tuple(_extent(part, target) for part in shapely.get_parts(land))


def resolve_target(text: str, gazetteer: Gazetteer) -> Place:
    """'Desna' or '50.93,30.77' (lat,lon) → a point Place; a country or border is refused with a reason."""
    place = resolve_origin(text, gazetteer)
    _check_target(place)
    return place


def resolve_launch(target: str | Place, territory: str | Place, gazetteer: Gazetteer, catalogue: Catalogue, *,
                   km: float | None = None, min_km: float | None = None, system: str = "",
                   munition: str = "", label: str = "") -> LaunchArea:
    """A launch area from what a user typed: a target, a territory, and a system (its longest-range munition
    unless one is named; its declared minimum unless min_km is given) or a radius in km."""
    target_place = target if isinstance(target, Place) else resolve_target(target, gazetteer)
    land = territory if isinstance(territory, Place) else resolve_origin(territory, gazetteer)
    _check_territory(land)
    source, system_name, munition_name = None, "", ""
    if system and km is None:
        found = catalogue.get(system)
        chosen = munition_of(found, munition)
        km, system_name, source = chosen.range_km, found.name, chosen.source
        munition_name = chosen.name if munition else ""
        min_km = chosen.min_range_km if min_km is None else min_km
    if km is None:
        raise ValidationError("km", km, "give a range in km or choose a system")
    return launch_area(target_place, land, km, min_km or 0.0, label=label, system=system_name,
                       munition=munition_name, source=source)


@dataclass(frozen=True)
class Reacher:
    """One catalogue munition and whether it could reach the target from the territory."""

    system: str
    system_id: str
    munition: str
    range_km: float
    min_km: float
    reaches: bool
    verdict: str  # "in range" | "out of range" | "too close"


@dataclass(frozen=True)
class Reachers:
    """The listing: for a target and a territory, how near and far the territory is, and what reaches."""

    target: Place
    territory: Place
    nearest_km: float
    farthest_km: float
    rows: tuple[Reacher, ...]

    def sentence(self, limit: int | None = None) -> str:
        """'Could reach Desna from Belarus (at least 40.6 km away): BM-30 Smerch (70 km), …', shortest first;
        with `limit`, that many systems and "and N more"."""
        able = list(dict.fromkeys(f"{r.system} ({r.range_km:,.0f} km)" for r in self.rows if r.reaches))
        more = f" and {len(able) - limit} more" if limit is not None and len(able) > limit else ""
        names = (", ".join(able[:limit]) + more) if able else "no catalogue system"
        return (f"Could reach {self.target.name} from {self.territory.name} (at least {self.nearest_km:,.1f} km "
                f"away): {names}")


def reachers(target: Place, territory: Place, catalogue: Catalogue,
             part_extents: tuple[tuple[float, float], ...] = ()) -> Reachers:
    """Which catalogue systems and munitions could reach target from some point of territory.

    A munition of range [m, R] can when some connected part of the territory comes within R of the target
    and is not wholly within m of it (over one part the distances fill [nearest, farthest]). `part_extents`:
    those of a LaunchArea of the same target and territory, when there is one (else measured here).
    """
    _check_target(target)
    land = _check_territory(territory)
    parts = part_extents or _part_extents(land, target.lonlat)
    near = min(p[0] for p in parts)
    far = max(p[1] for p in parts)
    rows = []
    for system in catalogue.systems:
        for m in system.munitions:
            ok = any(lo <= m.range_km and hi >= m.min_range_km for lo, hi in parts)
            verdict = "in range" if ok else ("out of range" if near > m.range_km else "too close")
            rows.append(Reacher(system.name, system.id, m.name, m.range_km, m.min_range_km, ok, verdict))
    rows.sort(key=lambda r: (not r.reaches, r.range_km, r.system))
    return Reachers(target, territory, near, far, tuple(rows))


