"""Distances, range rings, reach envelopes and in-range lists on the WGS84 ellipsoid (Karney, via pyproj).

All geometry here is lon/lat (EPSG:4326), shapely objects, in the order pyproj and GeoJSON use. Polygons
come back ready for a Web-Mercator map: split at the antimeridian, and a ring that encloses a pole is
closed through that pole.

>>> km, bearing = distance_bearing((27.56653, 53.90019), (30.5238, 50.45466))  # Minsk -> Kyiv
>>> round(km, 1), round(bearing, 1)
(433.4, 151.0)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon, box
from shapely.geometry.base import BaseGeometry

from dashboard.errors import ValidationError
from dashboard.model import LonLat, check_lat, check_lon, check_range_km


class _Wgs84:
    """pyproj's `Geod(ellps="WGS84")`, made at its first use. Importing pyproj takes 0.1-0.2 s (it loads
    urllib, ssl and http.client for its grid downloads), which a process that never measures (a text
    export of a view without rings) need not pay."""

    _geod = None

    def __getattr__(self, name: str):
        if _Wgs84._geod is None:
            from pyproj import Geod

            _Wgs84._geod = Geod(ellps="WGS84")
        return getattr(_Wgs84._geod, name)


GEOD = _Wgs84()

# Rings up to 19,950 km: beyond pi*b (19,970 km) geodesics from the equator stop being shortest before they
# reach the radius, and a "ring" of points that far folds over itself near the antipode (GEOS then fails).
MAX_RADIUS_KM = 19_950.0
_EARTH_R_LEAFLET_M = 6_371_000.0  # L.CRS.Earth.R


def distance_bearing(a: LonLat, b: LonLat) -> tuple[float, float]:
    """Geodesic distance in km and initial bearing in degrees (0–360, clockwise from north) from a to b."""
    az, _, metres = GEOD.inv(a[0], a[1], b[0], b[1])
    return metres / 1000.0, az % 360.0


def destination(origin: LonLat, bearing_deg: float, km: float) -> LonLat:
    """The point `km` from `origin` along the initial bearing (the direct geodesic problem, WGS84)."""
    lon, lat, _ = GEOD.fwd(origin[0], origin[1], bearing_deg, km * 1000.0)
    return ((lon + 180.0) % 360.0) - 180.0, lat


def distances_bearings(origin: LonLat, lons: np.ndarray, lats: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised `distance_bearing` from one origin to many points (km, degrees)."""
    lons = np.asarray(lons, dtype=float)
    lats = np.asarray(lats, dtype=float)
    az, _, metres = GEOD.inv(np.full_like(lons, origin[0]), np.full_like(lats, origin[1]), lons, lats)
    return np.asarray(metres) / 1000.0, np.asarray(az) % 360.0


def _check_radius(radius_km: float) -> float:
    radius_km = check_range_km(radius_km, "radius_km")
    if radius_km > MAX_RADIUS_KM:
        raise ValidationError("radius_km", radius_km,
                              f"must be at most {MAX_RADIUS_KM:,.0f} km (a ring larger than that nearly "
                              "reaches the antipode, where it is no longer a circle)")
    return radius_km


def ring_vertex_count(radius_km: float, sag_km: float = 0.05) -> int:
    """Vertices for a ring whose straight edges stray at most sag_km inside the true circle (72–2048)."""
    # A chord of angle 2*pi/n sits R*(1-cos(pi/n)) ~ R*(pi/n)^2/2 inside the circle.
    n = math.ceil(math.pi / math.sqrt(2.0 * sag_km / radius_km)) if radius_km > sag_km else 72
    return int(min(max(n, 72), 2048))


def range_ring(center: LonLat, radius_km: float, vertices: int | None = None) -> Polygon | MultiPolygon:
    """Every point within radius_km of center on the ellipsoid, as a map-ready lon/lat (multi)polygon.

    Each vertex lies on the geodesic circle; where the ring crosses the antimeridian an exact crossing
    vertex is found by bisection, so the cut pieces meet on ±180° and still lie on the circle.
    """
    lon0, lat0 = check_lon(center[0], "center.lon"), check_lat(center[1], "center.lat")
    radius_km = _check_radius(radius_km)
    return _oriented(_fold(range_ring_raw(lon0, lat0, radius_km, vertices or ring_vertex_count(radius_km))))


def _encloses_pole(lon: float, lat: float, radius_km: float, pole_lat: float) -> bool:
    return distance_bearing((lon, lat), (lon, pole_lat))[0] < radius_km


def _unwrap_near(lons: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Shift each longitude by whole turns so it lies within 180° of its reference."""
    return lons + 360.0 * np.round((reference - lons) / 360.0)


def _ring_unwrapped(lon0: float, lat0: float, radius_m: float, n: int) -> np.ndarray:
    """Ring vertices as an (m, 2) array with continuous longitudes, antimeridian crossings inserted.

    n even azimuth steps, halved where a straight lon/lat edge would stray over REACH_EDGE_KM (near a pole).
    """
    az = _ring_azimuths(np.array([[lon0, lat0]]), radius_m / 1000.0, n)[2]
    n = len(az)
    lons, lats, _ = GEOD.fwd(np.full(n, lon0), np.full(n, lat0), az, np.full(n, radius_m))
    lons = np.asarray(lons, dtype=float)
    lats = np.asarray(lats, dtype=float)
    unwrapped = np.empty(n)
    unwrapped[0] = _unwrap_near(np.array([lons[0]]), np.array([lon0]))[0]
    for i in range(1, n):  # sequential: each vertex is unwrapped against the one before it
        unwrapped[i] = lons[i] + 360.0 * round((unwrapped[i - 1] - lons[i]) / 360.0)
    closing = lons[0] + 360.0 * round((unwrapped[-1] - lons[0]) / 360.0)
    az_ext = np.append(az, 360.0)
    lon_ext = np.append(unwrapped, closing)
    lat_ext = np.append(lats, lats[0])
    points: list[tuple[float, float]] = []
    for i in range(n):
        points.append((lon_ext[i], lat_ext[i]))
        a, b = lon_ext[i], lon_ext[i + 1]
        k_lo, k_hi = math.floor((min(a, b) - 180.0) / 360.0), math.floor((max(a, b) - 180.0) / 360.0)
        if k_hi > k_lo:  # the edge crosses the meridian 180 + 360*k_hi
            target = 180.0 + 360.0 * k_hi
            points.append(_crossing(lon0, lat0, radius_m, az_ext[i], az_ext[i + 1], a, target))
    if abs(closing - lon_ext[0]) > 1e-9:
        points.append((closing, lat_ext[0]))  # winds round a pole: keep the end one turn from the start
    return np.asarray(points)


def _crossing(lon0: float, lat0: float, radius_m: float, az_a: float, az_b: float,
              lon_a: float, target: float) -> tuple[float, float]:
    """Bisect the azimuth between two ring vertices for the point on the circle at longitude `target`."""
    side_a = lon_a < target
    lat = lon_a
    for _ in range(60):
        mid = 0.5 * (az_a + az_b)
        lon, lat, _ = GEOD.fwd(lon0, lat0, mid, radius_m)
        lon = lon + 360.0 * round((lon_a - lon) / 360.0)
        if (lon < target) == side_a:
            az_a, lon_a = mid, lon
        else:
            az_b = mid
    return (target, lat)


def _pole_closed(ring: np.ndarray, pole_lat: float) -> Polygon:
    """Close a ring that winds once round a pole by running along the pole between its two ends."""
    start, end = ring[0], ring[-1]
    coords = [*map(tuple, ring), (end[0], pole_lat), (start[0], pole_lat)]
    return Polygon(coords)


def _fold(geom: BaseGeometry) -> BaseGeometry:
    """Cut a geometry with continuous longitudes into [-180, 180] pieces and shift each piece home."""
    minx, _, maxx, _ = geom.bounds
    pieces = []
    for k in range(math.floor((minx + 180.0) / 360.0), math.floor((maxx + 180.0) / 360.0) + 1):
        window = box(-180.0 + 360.0 * k, -90.0, 180.0 + 360.0 * k, 90.0)
        piece = shapely.intersection(geom, window)
        if not piece.is_empty:
            pieces.append(shapely.affinity.translate(piece, xoff=-360.0 * k))
    return shapely.union_all(pieces)


def _oriented(geom: BaseGeometry) -> Polygon | MultiPolygon:
    """Keep the polygonal parts, counter-clockwise exteriors (RFC 7946)."""
    polys = [g for g in shapely.get_parts(geom) if g.geom_type == "Polygon" and g.area > 0]
    oriented = [shapely.geometry.polygon.orient(p, 1.0) for p in polys]
    return oriented[0] if len(oriented) == 1 else MultiPolygon(oriented)


def densify(geom: BaseGeometry, spacing_km: float) -> np.ndarray:
    """Points along the boundary (or the line) of geom, at most spacing_km apart, without repeats.

    Edges are straight in longitude and latitude, as shapely, GeoJSON and Natural Earth take them: the
    border of Canada and the United States runs along the 49th parallel, which a geodesic between its ends
    would leave by up to 90 km. Vectorised: Canada's 11,500 vertices every 2 km in about 0.1 s.
    """
    out: list[np.ndarray] = []
    for coords, pieces in _outline(geom, spacing_km):
        if len(coords) < 2:
            out.append(coords)
            continue
        a, b = coords[:-1], coords[1:]
        edge = np.repeat(np.arange(len(a)), pieces)
        step = np.arange(int(pieces.sum())) - np.repeat(np.cumsum(pieces) - pieces, pieces)
        t = (step / pieces[edge])[:, None]
        out.append(a[edge] + (b[edge] - a[edge]) * t)
        out.append(coords[-1:])
    if not out or not sum(len(o) for o in out):
        raise ValidationError("geometry", geom.geom_type, "has no points to measure from")
    pts = np.concatenate(out)
    return np.unique(np.round(pts, 9), axis=0)


def _outline(geom: BaseGeometry, spacing_km: float):
    """Each part of geom's boundary (or line) as coordinates, with the pieces each edge is cut into."""
    lines = geom.boundary if geom.geom_type in ("Polygon", "MultiPolygon") else geom
    for part in shapely.get_parts(lines):
        coords = shapely.get_coordinates(part)
        a, b = coords[:-1], coords[1:]
        # An upper bound of the edge's length: a degree of longitude spans most where the edge is nearest
        # the equator.
        nearest_lat = np.where(a[:, 1] * b[:, 1] <= 0, 0.0, np.minimum(np.abs(a[:, 1]), np.abs(b[:, 1])))
        km = _KM_PER_DEGREE * np.hypot((b[:, 0] - a[:, 0]) * np.cos(np.radians(nearest_lat)), b[:, 1] - a[:, 1])
        yield coords, np.maximum(1, np.ceil(np.minimum(km / spacing_km, 1e12))).astype(np.int64)


def densify_count(geom: BaseGeometry, spacing_km: float) -> int:
    """At least len(densify(geom, spacing_km)), counted without making the points (for budgets)."""
    return sum(int(pieces.sum()) + 1 for _, pieces in _outline(geom, spacing_km))


# Reach envelopes: how exact, and how much work one may take.
REACH_SAG_KM = 0.1          # the union of rings dips at most this far between neighbouring boundary samples,
REACH_CHORD_KM = 0.1        # and each ring's straight edges at most this far inside its circle
REACH_CHORD_MAX_KM = 120.0
MAX_REACH_SPACING_KM = 250.0
# Ring vertices one envelope may union: about 2-3 s on one core (1.2 million for Russia at 500 km: ~1.5 s).
MAX_REACH_VERTICES = 2_000_000
# When the exact boundary samples would exceed that budget, the origin's outline is first simplified by one
# of these (km), never by more than REACH_SIMPLIFY_SHARE of the radius (0.2%: 10 km at 5,000 km).
REACH_SIMPLIFY_KM = (0.5, 1.0, 2.0, 5.0, 10.0, 20.0)
REACH_SIMPLIFY_SHARE = 0.002
_EARTH_R_KM = 6371.0
_KM_PER_DEGREE = 111.7  # the most one degree of latitude or longitude can span on the ellipsoid


@dataclass(frozen=True)
class ReachPlan:
    """How an envelope will be built: boundary samples (lon, lat), vertices per ring, outline simplification."""

    points: np.ndarray
    vertices: int
    simplified_km: float = 0.0

    @property
    def cost(self) -> int:
        return len(self.points) * self.vertices


def reach_spacing_km(radius_km: float) -> float:
    """Boundary sample spacing for which neighbouring rings dip at most REACH_SAG_KM between them.

    On a sphere two circles of radius r whose centres are s apart leave a dip of s²/(8 R tan(r/R)); from a
    quarter meridian on (r ≥ πR/2) there is none, the circles being great circles or larger.
    """
    rho = radius_km / _EARTH_R_KM
    if rho >= math.pi / 2.0:
        return MAX_REACH_SPACING_KM
    sag = min(REACH_SAG_KM, radius_km / 10.0)  # below 1 km, a tenth of the radius: neighbours still overlap
    return min(MAX_REACH_SPACING_KM, math.sqrt(8.0 * sag * _EARTH_R_KM * math.tan(rho)))


def reach_vertex_count(radius_km: float) -> int:
    """Vertices per ring of an envelope: chords at most REACH_CHORD_KM inside the circle, and short (72–512).

    Shapely and the map take each chord as straight in longitude and latitude, not as a geodesic: a chord
    of L km at latitude φ strays about L²·tan φ/8R from the geodesic, so chords stay under
    REACH_CHORD_MAX_KM (about 0.5 km off at 60°) even where the circle hardly bends.
    """
    # A circle of geodesic radius r on a sphere bends like a plane circle of radius R·sin(2r/R)/2.
    bend_km = _EARTH_R_KM * abs(math.sin(2.0 * radius_km / _EARTH_R_KM)) / 2.0
    n = math.ceil(math.pi / math.sqrt(2.0 * REACH_CHORD_KM / bend_km)) if bend_km > REACH_CHORD_KM else 72
    perimeter_km = 2.0 * math.pi * _EARTH_R_KM * math.sin(min(radius_km / _EARTH_R_KM, math.pi / 2.0))
    n = max(n, math.ceil(perimeter_km / REACH_CHORD_MAX_KM))
    return int(min(max(n, 72), 512))


def reach_plan(origin: BaseGeometry, radius_km: float) -> ReachPlan:
    """The samples an envelope of `origin` at `radius_km` needs, within MAX_REACH_VERTICES; else refuse.

    Refusing is a sentence, not a hang: the cost is known before any ring is computed.
    """
    radius_km = _check_radius(radius_km)
    spacing, n = reach_spacing_km(radius_km), reach_vertex_count(radius_km)
    outline = origin.boundary if origin.geom_type in ("Polygon", "MultiPolygon") else origin
    limit = max(REACH_SIMPLIFY_KM[0], REACH_SIMPLIFY_SHARE * radius_km)
    candidates = [(0.0, outline)] + [(km, None) for km in REACH_SIMPLIFY_KM if km <= limit]
    for km, geom in candidates:
        geom = geom if geom is not None else shapely.simplify(outline, km / _KM_PER_DEGREE, preserve_topology=False)
        count = densify_count(geom, spacing)  # counted first: a 10 m reach of Russia would be 8 million points
        if count * n <= MAX_REACH_VERTICES:
            plan = ReachPlan(densify(geom, spacing), n, km)
            if plan.cost <= MAX_REACH_VERTICES:
                return plan
    raise ValidationError(
        "reach", f"{radius_km:,.0f} km",
        f"would need {count * n / 1e6:.1f} million ring vertices ({count:,} boundary points × {n}), "
        f"more than the {MAX_REACH_VERTICES / 1e6:.0f} million one envelope may use; choose a larger radius, "
        "a smaller area, or a place or point as origin")


def reach_envelope(origin: BaseGeometry, radius_km: float) -> Polygon | MultiPolygon:
    """Every point within radius_km of an origin area, line or point (e.g. 500 km from Belarus).

    The union of geodesic rings round points spaced along the origin's boundary, plus the area itself
    (see reach_plan for the spacing, the vertices per ring and the budget). Built in one vectorised pass:
    Russia at 500 km (7,400 rings) takes about 2 s.
    """
    radius_km = _check_radius(radius_km)
    if origin.geom_type == "Point":
        return range_ring((origin.x, origin.y), radius_km)
    plan = reach_plan(origin, radius_km)
    pieces, caps = _rings_for_union(plan.points, radius_km, plan.vertices)
    if origin.geom_type in ("Polygon", "MultiPolygon"):
        pieces.append(origin)
    envelope = _fold(shapely.union_all(pieces))
    if caps is not None:  # rings round both poles: the world, less what none of them covers
        envelope = shapely.union(envelope, shapely.difference(box(-180.0, -90.0, 180.0, 90.0), caps))
    return _oriented(envelope)


def _rings_for_union(points: np.ndarray, radius_km: float, n: int) -> tuple[list[BaseGeometry], BaseGeometry | None]:
    """Rings round many points at once, in continuous longitudes, and the caps left by rings round both poles.

    Each ring has n vertices, or more where its straight lon/lat edges would stray from the circle by more
    than REACH_EDGE_KM (near a pole: see _ring_azimuths). The second value is the intersection (folded to
    ±180°) of the caps that rings enclosing both poles leave uncovered, or None when no ring does; such a
    ring is the world minus its cap.
    """
    pieces, caps, at = _ring_group(points, radius_km, *_ring_azimuths(points, radius_km, n)[:2])
    if not caps:
        return pieces, None
    both = points[at]
    reach_m = radius_km * 1000.0
    # The caps lie round the antipodes, each within (half the meridian − r) of its own: if two samples are
    # farther apart than twice that, no point is left out by all of them.
    _, _, apart = GEOD.inv(np.full(len(both), both[0, 0]), np.full(len(both), both[0, 1]), both[:, 0], both[:, 1])
    if np.max(apart) > 2.0 * (_HALF_MERIDIAN_M - reach_m) + 100_000.0:
        return pieces, Polygon()
    return pieces, shapely.intersection_all(caps)


def _ring_coords(points: np.ndarray, radius_km: float, az: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(count, len(az)) longitudes, continuous along each ring and near its centre, and latitudes."""
    count, n = len(points), len(az)
    lons, lats, _ = GEOD.fwd(np.repeat(points[:, 0], n), np.repeat(points[:, 1], n), np.tile(az, count),
                             np.full(count * n, radius_km * 1000.0))
    lons = np.asarray(lons, dtype=float).reshape(count, n)
    return _unwrap_rows(points, lons), np.asarray(lats, dtype=float).reshape(count, n)


def _unwrap_rows(points: np.ndarray, lons: np.ndarray) -> np.ndarray:
    steps = np.diff(lons, axis=1)
    steps -= 360.0 * np.round(steps / 360.0)  # each vertex within 180° of the one before it
    first = lons[:, 0] + 360.0 * np.round((points[:, 0] - lons[:, 0]) / 360.0)
    return np.concatenate([first[:, None], first[:, None] + np.cumsum(steps, axis=1)], axis=1)


# A ring's straight lon/lat edges stay this close to its circle at their midpoints; with the dip between
# neighbouring rings (REACH_SAG_KM) the envelope's boundary is within REACH_EDGE_KM + REACH_SAG_KM.
REACH_EDGE_KM = 0.25
MAX_REACH_REFINE = 8  # halvings of the azimuth steps where edges pass next to a pole
_MEASURED_PER_STEP = 32  # rings measured per azimuth step, those the estimate finds worst


def _ring_azimuths(points: np.ndarray, radius_km: float, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The rings' longitudes, latitudes and the azimuths, shared by all rings: n even steps, halved where some ring's edge strays over REACH_EDGE_KM.

    Shapely and the map take each edge as straight in longitude and latitude. Spanning Δλ at latitude φ, it
    strays from the geodesic by about R·Δλ²·sin φ·cos φ/8: nothing to speak of with n vertices away from the
    poles, kilometres where a ring passes next to one (Belarus at 4,000 km: 1.96 km off). Only edges that
    estimate flags are measured (the edge's midpoint against the radius), and only the steps where one fails
    are split, for every ring, so the arrays stay rectangular. Never past MAX_REACH_VERTICES in all: an
    envelope already at that budget (Russia at 5,000 km) keeps its even steps, and the error they leave.
    """
    az = np.linspace(0.0, 360.0, n, endpoint=False)
    lons, lats = _ring_coords(points, radius_km, az)
    for _ in range(MAX_REACH_REFINE):
        bad = _bad_steps(points, lons, lats, radius_km)
        if not bad.any() or len(points) * (len(az) + int(bad.sum())) > MAX_REACH_VERTICES:
            break
        mid = 0.5 * (az[bad] + np.append(az[1:], 360.0)[bad])
        new_lons, new_lats = _ring_coords(points, radius_km, mid)
        order = np.argsort(np.concatenate([az, mid]), kind="stable")
        az = np.concatenate([az, mid])[order]
        lons = _unwrap_rows(points, np.concatenate([lons, new_lons], axis=1)[:, order])
        lats = np.concatenate([lats, new_lats], axis=1)[:, order]
    return lons, lats, az


def _bad_steps(points: np.ndarray, lons: np.ndarray, lats: np.ndarray, radius_km: float) -> np.ndarray:
    """For each azimuth step, whether some ring's edge there has its midpoint over REACH_EDGE_KM off."""
    nxt_lon = np.concatenate([lons[:, 1:], lons[:, :1]], axis=1)
    nxt_lon = nxt_lon + 360.0 * np.round((lons - nxt_lon) / 360.0)  # the closing edge: the first vertex near the last
    nxt_lat = np.concatenate([lats[:, 1:], lats[:, :1]], axis=1)
    phi = np.radians(np.maximum(np.abs(lats), np.abs(nxt_lat)))
    stray = _EARTH_R_KM * np.radians(nxt_lon - lons) ** 2 * np.abs(np.sin(2.0 * phi)) / 16.0
    if len(stray) > _MEASURED_PER_STEP:  # a step is split for every ring: measure its worst few only
        top = np.argpartition(stray, -_MEASURED_PER_STEP, axis=0)[-_MEASURED_PER_STEP:]
        keep = np.zeros(stray.shape, dtype=bool)
        np.put_along_axis(keep, top, True, axis=0)
        stray = np.where(keep, stray, 0.0)
    ring, step = np.nonzero(stray > 0.4 * REACH_EDGE_KM)  # an estimate: measured from 0.1 km, 40 % of the bound
    bad = np.zeros(lons.shape[1], dtype=bool)
    if len(ring):
        _, _, metres = GEOD.inv(points[ring, 0], points[ring, 1], 0.5 * (lons[ring, step] + nxt_lon[ring, step]),
                                np.clip(0.5 * (lats[ring, step] + nxt_lat[ring, step]), -90.0, 90.0))
        bad[step[np.abs(np.asarray(metres) / 1000.0 - radius_km) > REACH_EDGE_KM]] = True
    return bad


def _ring_group(points: np.ndarray, radius_km: float, lons: np.ndarray, lats: np.ndarray
                ) -> tuple[list[BaseGeometry], list[BaseGeometry], np.ndarray]:
    """Rings (continuous longitudes, latitudes) round points: the pieces to union, the caps of rings round
    both poles, and which points those rings are round."""
    count = len(points)
    _, _, to_north = GEOD.inv(points[:, 0], points[:, 1], points[:, 0], np.full(count, 90.0))
    _, _, to_south = GEOD.inv(points[:, 0], points[:, 1], points[:, 0], np.full(count, -90.0))
    north = np.asarray(to_north) < radius_km * 1000.0
    south = np.asarray(to_south) < radius_km * 1000.0
    plain = ~north & ~south
    pieces: list[BaseGeometry] = list(shapely.polygons(np.stack([lons[plain], lats[plain]], axis=-1)))
    one = north ^ south
    if one.any():  # winds once round a pole: close it along the pole, as _pole_closed does for one ring
        lo, la = lons[one], lats[one]
        pole = np.where(north[one], 90.0, -90.0)
        turn = 360.0 * np.round((lo[:, -1] - lo[:, 0]) / 360.0)
        # One edge more than a turn: folded to ±180°, the two ends overlap instead of meeting on a seam that
        # rounding leaves open as a crack (a spike in the envelope's outline).
        xs = np.column_stack((lo, lo[:, 0] + turn, lo[:, 1] + turn, lo[:, 1] + turn, lo[:, 0]))
        ys = np.column_stack((la, la[:, 0], la[:, 1], pole, pole))
        pieces += list(shapely.polygons(np.stack([xs, ys], axis=-1)))
    both = np.flatnonzero(north & south)
    return pieces, [_fold(Polygon(np.column_stack((lons[i], lats[i])))) for i in both], both


_HALF_MERIDIAN_M = 20_003_931.5


def range_ring_raw(lon: float, lat: float, radius_km: float, n: int) -> Polygon:
    """A ring in continuous longitudes around its own centre (pole-closed if it encloses a pole), unfolded."""
    ring = _ring_unwrapped(lon, lat, radius_km * 1000.0, n)
    north = _encloses_pole(lon, lat, radius_km, 90.0)
    south = _encloses_pole(lon, lat, radius_km, -90.0)
    if north and south:
        # The ring bounds the uncovered cap round the antipode; the disc is one turn of the world minus it
        # (the cap, in continuous longitudes, may straddle either end of that turn: take it thrice).
        hole = Polygon(ring)
        holes = shapely.union_all([shapely.affinity.translate(hole, xoff=dx) for dx in (-360.0, 0.0, 360.0)])
        return shapely.difference(box(lon - 180.0, -90.0, lon + 180.0, 90.0), holes)
    if north or south:
        return _pole_closed(ring, 90.0 if north else -90.0)
    return Polygon(ring)


def range_annulus(center: LonLat, min_km: float, max_km: float) -> Polygon | MultiPolygon:
    """Every point at least min_km and at most max_km from center (a ring with a minimum range), map-ready.

    The max_km ring less the min_km one, both split at the antimeridian and pole-closed alike, so the hole
    is cut in the same pieces; min_km 0 is the plain ring.
    """
    min_km, max_km = _check_min(min_km, max_km)
    outer = range_ring(center, max_km)
    return outer if not min_km else _oriented(shapely.difference(outer, range_ring(center, min_km)))


def _check_min(min_km: float, max_km: float) -> tuple[float, float]:
    max_km = _check_radius(max_km)
    if min_km is None or min_km == 0:
        return 0.0, max_km
    min_km = check_range_km(min_km, "min_km")
    if min_km >= max_km:
        raise ValidationError("min_km", min_km, f"the minimum range must be less than the range ({max_km:,.0f} km)")
    return min_km, max_km


def reach_annulus(origin: BaseGeometry, min_km: float, max_km: float) -> Polygon | MultiPolygon:
    """Every point some launch point of the origin can reach with a range of [min_km, max_km].

    A point P qualifies when one launch point q has min_km ≤ d(P, q) ≤ max_km. Over one connected part C
    of the origin the distances from P fill [nearest, farthest], so P qualifies for C unless C lies wholly
    out of range (nearest > max_km: outside the envelope) or wholly too close (farthest < min_km). It is
    *not* the envelope less the points within min_km of the origin: from Belarus with a 50 km minimum, Minsk
    itself can be hit from Brest. What is cut out is, per part, the points with all of it within min_km —
    the intersection of the min_km discs round its outline, empty once the part is wider than 2 × min_km.
    """
    min_km, max_km = _check_min(min_km, max_km)
    if origin.geom_type == "Point":
        return range_annulus((origin.x, origin.y), min_km, max_km)
    envelope = reach_envelope(origin, max_km)
    if not min_km:
        return envelope
    parts = list(shapely.get_parts(origin))
    too_close = [all_within(part, min_km) for part in parts]
    if all(c.is_empty for c in too_close):
        return envelope
    keep = [shapely.difference(reach_envelope(part, max_km), close) for part, close in zip(parts, too_close)
            if not close.is_empty]
    rest = [part for part, close in zip(parts, too_close) if close.is_empty]
    if rest:
        keep.append(reach_envelope(shapely.union_all(rest), max_km))
    return _oriented(shapely.union_all(keep))


def too_close(origin: BaseGeometry, min_km: float) -> BaseGeometry:
    """The points no launch point of origin can reach with a minimum range of min_km (see reach_annulus)."""
    if origin.geom_type == "Point":
        return range_ring((origin.x, origin.y), min_km)
    return shapely.union_all([all_within(part, min_km) for part in shapely.get_parts(origin)])


def all_within(part: BaseGeometry, km: float) -> BaseGeometry:
    """The points with every point of part within km: the intersection of km discs round its outline."""
    pts = densify(part, reach_spacing_km(km))
    far, _ = distances_bearings(tuple(pts[0]), pts[:, 0], pts[:, 1])
    if far.max() > 2.0 * km:  # two points farther apart than 2 km have no point within km of both
        return Polygon()
    return shapely.intersection_all([range_ring(tuple(p), km) for p in pts])


def area_km2(geom: BaseGeometry, spacing_deg: float = 0.1) -> float:
    """Area on the ellipsoid in km² of a lon/lat (multi)polygon whose edges are straight in lon/lat.

    Geod.geometry_area_perimeter takes edges as geodesics: each edge is first cut every spacing_deg so the
    two agree (the 49th parallel is 90 km off its geodesic over Canada's width).
    """
    total = 0.0
    for poly in shapely.get_parts(geom):
        if poly.geom_type != "Polygon" or poly.is_empty:
            continue
        area, _ = GEOD.geometry_area_perimeter(shapely.geometry.polygon.orient(
            shapely.segmentize(poly, spacing_deg), 1.0))
        total += abs(area)
    return total / 1e6


def boundary_extremes(geom: BaseGeometry, target: LonLat, spacing_km: float = 0.1, coarse_km: float = 10.0
                      ) -> tuple[tuple[LonLat, float], tuple[LonLat, float]]:
    """The nearest and farthest points of an area's boundary (or a line) from target, with their geodesic km.

    The farthest point of an area from a point outside it lies on its boundary, and so does the nearest.
    Walked every coarse_km first; only the pieces next to samples within coarse_km of the best are walked
    again every spacing_km (a step of s km changes a distance by at most s, so the best piece is among
    them). Off by at most spacing²/8d, or spacing/2 right next to the target.
    """
    best_near, best_far = (None, math.inf), (None, -math.inf)
    for coords, pieces in _outline(geom, coarse_km):
        if len(coords) < 2:
            continue
        path = _walk(coords, pieces)
        dist, _ = distances_bearings(target, path[:, 0], path[:, 1])
        for pick, better in ((np.argmin, lambda d, b: d < b[1]), (np.argmax, lambda d, b: d > b[1])):
            cut = dist <= dist.min() + coarse_km if pick is np.argmin else dist >= dist.max() - coarse_km
            fine = _around(path, np.flatnonzero(cut), spacing_km, coarse_km)
            fd, _ = distances_bearings(target, fine[:, 0], fine[:, 1])
            i = int(pick(fd))
            found = ((float(fine[i, 0]), float(fine[i, 1])), float(fd[i]))
            if pick is np.argmin and better(found[1], best_near):
                best_near = found
            elif pick is np.argmax and better(found[1], best_far):
                best_far = found
    if best_near[0] is None:
        raise ValidationError("geometry", geom.geom_type, "has no boundary to measure")
    return best_near, best_far  # type: ignore[return-value]


def _walk(coords: np.ndarray, pieces: np.ndarray) -> np.ndarray:
    """The points along a line part, in order, each edge cut into its pieces (every vertex kept)."""
    a, b = coords[:-1], coords[1:]
    edge = np.repeat(np.arange(len(a)), pieces)
    step = np.arange(int(pieces.sum())) - np.repeat(np.cumsum(pieces) - pieces, pieces)
    t = (step / pieces[edge])[:, None]
    return np.concatenate([a[edge] + (b[edge] - a[edge]) * t, coords[-1:]])


def _around(path: np.ndarray, at: np.ndarray, spacing_km: float, step_km: float) -> np.ndarray:
    """Points every spacing_km along the two steps of path on either side of each index in at."""
    lo, hi = np.maximum(at - 1, 0), np.minimum(at + 1, len(path) - 1)
    n = max(2, math.ceil(step_km / spacing_km) + 1)
    t = np.linspace(0.0, 1.0, n)[None, :, None]
    left = path[lo][:, None, :] + (path[at] - path[lo])[:, None, :] * t
    right = path[at][:, None, :] + (path[hi] - path[at])[:, None, :] * t
    return np.concatenate([left.reshape(-1, 2), right.reshape(-1, 2)])


@dataclass(frozen=True)
class InRange:
    """For each input point: inside or not, distance in km to the origin, bearing from the origin."""

    inside: np.ndarray
    distance_km: np.ndarray
    bearing_deg: np.ndarray


def in_range(origin: BaseGeometry, radius_km: float, lons: np.ndarray, lats: np.ndarray,
             spacing_km: float = 2.0) -> InRange:
    """Which points lie within radius_km of the origin (point, line or area), measured on the ellipsoid.

    For an area, points inside it have distance 0; for others the distance is to the nearest point of the
    origin's boundary sampled every spacing_km (overestimates by at most spacing²/8d: ~1 m at 500 km), and
    the bearing is from that nearest point towards the place.
    """
    radius_km = _check_radius(radius_km)
    lons = np.asarray(lons, dtype=float)
    lats = np.asarray(lats, dtype=float)
    if origin.geom_type == "Point":
        dist, bearing = distances_bearings((origin.x, origin.y), lons, lats)
        return InRange(dist <= radius_km, dist, np.where(dist < 1e-6, np.nan, bearing))  # no bearing to itself
    dist, bearing = nearest_distances(densify(origin, spacing_km), lons, lats)
    if origin.geom_type in ("Polygon", "MultiPolygon"):
        within = shapely.contains_xy(origin, lons, lats)
        dist = np.where(within, 0.0, dist)
        bearing = np.where(within, np.nan, bearing)
    return InRange(dist <= radius_km, dist, bearing)


def nearest_distances(sources: np.ndarray, lons: np.ndarray, lats: np.ndarray, k: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """Geodesic distance (km) from each point to the nearest of `sources`, and the bearing from it.

    A k-d tree over unit vectors shortlists the k nearest sources by chord; the geodesic decides.
    """
    if len(lons) == 0:
        return np.empty(0), np.empty(0)
    k = min(k, len(sources))
    from scipy.spatial import cKDTree  # here: importing scipy.spatial costs 0.4-0.8 s of every server's first map

    tree = cKDTree(_unit_vectors(sources[:, 0], sources[:, 1]))
    _, idx = tree.query(_unit_vectors(lons, lats), k=k)
    idx = np.asarray(idx).reshape(len(lons), k)
    src = sources[idx.ravel()]
    az, _, metres = GEOD.inv(src[:, 0], src[:, 1], np.repeat(lons, k), np.repeat(lats, k))
    metres = np.asarray(metres).reshape(len(lons), k)
    best = np.argmin(metres, axis=1)
    rows = np.arange(len(lons))
    return metres[rows, best] / 1000.0, (np.asarray(az).reshape(len(lons), k)[rows, best]) % 360.0


def _unit_vectors(lons: np.ndarray, lats: np.ndarray) -> np.ndarray:
    lon_r, lat_r = np.radians(lons), np.radians(lats)
    return np.column_stack((np.cos(lat_r) * np.cos(lon_r), np.cos(lat_r) * np.sin(lon_r), np.sin(lat_r)))


def leaflet_circle_outline(center: LonLat, radius_km: float, n: int = 360) -> np.ndarray:
    """The outline Leaflet 1.9's L.Circle draws on a Web-Mercator map, as lon/lat points.

    Leaflet takes a sphere of radius 6,371 km, finds the north/south extent at the centre's meridian and
    draws an axis-aligned ellipse in projected pixels. Kept only to measure how far that is from the truth.
    """
    lon, lat = center
    d = math.pi / 180.0
    lat_r = (radius_km * 1000.0 / _EARTH_R_LEAFLET_M) / d
    top_y, bottom_y = _merc_y(lat + lat_r), _merc_y(lat - lat_r)
    mid_y = (top_y + bottom_y) / 2.0
    lat2 = _merc_lat(mid_y)
    cos_arg = (math.cos(lat_r * d) - math.sin(lat * d) * math.sin(lat2 * d)) / (math.cos(lat * d) * math.cos(lat2 * d))
    lng_r = math.acos(max(-1.0, min(1.0, cos_arg))) / d
    radius_x = lng_r * d  # Mercator x is longitude in radians
    radius_y = top_y - mid_y
    t = np.linspace(0.0, 2.0 * math.pi, n, endpoint=False)
    xs = lon * d + radius_x * np.cos(t)
    ys = mid_y + radius_y * np.sin(t)
    return np.column_stack((xs / d, [_merc_lat(y) for y in ys]))


def _merc_y(lat: float) -> float:
    return math.log(math.tan(math.pi / 4.0 + math.radians(lat) / 2.0))


def _merc_lat(y: float) -> float:
    return math.degrees(2.0 * math.atan(math.exp(y)) - math.pi / 2.0)


# --------------------------------------------------------------------------- paths: measuring, lines of bearing

PATH_STEP_KM = 20.0  # a drawn geodesic has a vertex at least this often (the map's measure tool uses the same)
NMI_KM = 1.852
MAX_PATH_KM = 20_000.0  # about half the meridian: past it a "line of bearing" comes back towards its origin


@dataclass(frozen=True)
class Leg:
    """One segment of a measured path: its length, initial bearing and its geodesic, densified."""

    start: LonLat
    end: LonLat
    km: float
    bearing: float  # initial bearing, degrees clockwise from true north, in [0, 360)
    path: tuple[LonLat, ...]  # lon/lat vertices, longitudes unrolled from start's (see unrolled)

    @property
    def nmi(self) -> float:
        return self.km / NMI_KM


def unrolled(lons) -> np.ndarray:
    """Longitudes made continuous (no jump of 360 between neighbours): a path across the antimeridian runs
    past ±180 instead of jumping back, as Leaflet must draw it."""
    return np.unwrap(np.asarray(lons, dtype=float), period=360.0)


def measure_path(points) -> list[Leg]:
    """The legs between consecutive lon/lat points: geodesic distance, initial bearing, densified path.

    >>> leg, = measure_path([(27.56667, 53.9), (30.8, 51.0)])  # Minsk -> near Desna
    >>> round(leg.km, 3), round(leg.bearing, 1), len(leg.path) > 10
    (390.368, 144.4, True)
    """
    pts = [(check_lon(p[0], "lon"), check_lat(p[1], "lat")) for p in points]
    if len(pts) < 2:
        raise ValidationError("points", len(pts), "measuring needs at least two points")
    legs = []
    for a, b in zip(pts, pts[1:]):
        az, _, metres = GEOD.inv(a[0], a[1], b[0], b[1])
        n = max(2, math.ceil(metres / 1000.0 / PATH_STEP_KM) + 1)
        r = GEOD.inv_intermediate(a[0], a[1], b[0], b[1], npts=n, initial_idx=0, terminus_idx=0,
                                  return_back_azimuth=True)
        lons = unrolled(r.lons)
        legs.append(Leg(a, b, metres / 1000.0, az % 360.0, tuple(zip(lons.tolist(), list(r.lats)))))
    return legs


def bearing_path(origin: LonLat, bearing_deg: float, km: float) -> tuple[LonLat, ...]:
    """The geodesic from `origin` along an initial bearing for `km`, densified, longitudes unrolled.

    >>> path = bearing_path((30.8, 51.0), 315.0, 200.0)  # north-west from near Desna
    >>> print([round(x, 4) for x in path[-1]], len(path))
    [28.729, 52.2531] 11
    """
    lon, lat = check_lon(origin[0], "lon"), check_lat(origin[1], "lat")
    bearing = check_bearing(bearing_deg)
    km = check_range_km(km, "km")
    if km > MAX_PATH_KM:
        raise ValidationError("km", km, f"a line of bearing may be at most {MAX_PATH_KM:,.0f} km long")
    n = max(2, math.ceil(km / PATH_STEP_KM) + 1)
    r = GEOD.fwd_intermediate(lon, lat, bearing, npts=n, del_s=km * 1000.0 / (n - 1), initial_idx=0,
                              terminus_idx=0, return_back_azimuth=True)
    lons = unrolled(r.lons)
    return tuple(zip(lons.tolist(), list(r.lats)))


def check_bearing(value: float, field_name: str = "bearing") -> float:
    """A bearing in degrees, returned in [0, 360); anything but a finite number is refused."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValidationError(field_name, value, "a bearing must be a number of degrees (0 = north, 90 = east)")
    return float(value) % 360.0


def split_antimeridian(path) -> list[list[LonLat]]:
    """An unrolled path as GeoJSON wants it (RFC 7946 §3.1.9): longitudes in [-180, 180], cut where it
    crosses the antimeridian, the crossing point computed on the straight lon/lat segment."""
    parts: list[list[LonLat]] = [[]]
    prev = None
    for lon, lat in path:
        shift = math.floor((lon + 180.0) / 360.0)
        if prev is not None and shift != prev[2]:
            plon, plat, pshift = prev
            edge = 180.0 + 360.0 * min(shift, pshift)  # the unrolled longitude of the crossing
            t = (edge - plon) / (lon - plon) if lon != plon else 0.0
            cross_lat = plat + t * (lat - plat)
            parts[-1].append((edge - 360.0 * pshift, cross_lat))
            parts.append([(edge - 360.0 * shift, cross_lat)])
        parts[-1].append((lon - 360.0 * shift, lat))
        prev = (lon, lat, shift)
    return [p for p in parts if len(p) > 1]
