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
from pyproj import Geod
from scipy.spatial import cKDTree
from shapely.geometry import MultiPolygon, Polygon, box
from shapely.geometry.base import BaseGeometry

from dashboard.errors import ValidationError
from dashboard.model import LonLat, check_lat, check_lon, check_range_km

GEOD = Geod(ellps="WGS84")

MAX_RADIUS_KM = 20_000.0  # just short of the antipode (~20,004 km along a meridian)
_EARTH_R_LEAFLET_M = 6_371_000.0  # L.CRS.Earth.R


def distance_bearing(a: LonLat, b: LonLat) -> tuple[float, float]:
    """Geodesic distance in km and initial bearing in degrees (0–360, clockwise from north) from a to b."""
    az, _, metres = GEOD.inv(a[0], a[1], b[0], b[1])
    return metres / 1000.0, az % 360.0


def distances_bearings(origin: LonLat, lons: np.ndarray, lats: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised `distance_bearing` from one origin to many points (km, degrees)."""
    lons = np.asarray(lons, dtype=float)
    lats = np.asarray(lats, dtype=float)
    az, _, metres = GEOD.inv(np.full_like(lons, origin[0]), np.full_like(lats, origin[1]), lons, lats)
    return np.asarray(metres) / 1000.0, np.asarray(az) % 360.0


def _check_radius(radius_km: float) -> float:
    radius_km = check_range_km(radius_km, "radius_km")
    if radius_km >= MAX_RADIUS_KM:
        raise ValidationError("radius_km", radius_km,
                              f"must be below {MAX_RADIUS_KM:,.0f} km (a ring that size reaches the antipode)")
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
    """Ring vertices as an (m, 2) array with continuous longitudes, antimeridian crossings inserted."""
    az = np.linspace(0.0, 360.0, n, endpoint=False)
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
    """Points along the boundary (or the line) of geom, at most spacing_km apart along geodesics."""
    lines = geom.boundary if geom.geom_type in ("Polygon", "MultiPolygon") else geom
    out: list[np.ndarray] = []
    for part in shapely.get_parts(lines):
        if part.geom_type == "Point":
            out.append(np.array([[part.x, part.y]]))
            continue
        coords = np.asarray(part.coords)
        for (x1, y1), (x2, y2) in zip(coords[:-1], coords[1:]):
            _, _, metres = GEOD.inv(x1, y1, x2, y2)
            extra = int(metres / (spacing_km * 1000.0))
            out.append(np.array([[x1, y1]]))
            if extra:
                mids = GEOD.npts(x1, y1, x2, y2, extra)
                out.append(np.asarray(mids))
        out.append(coords[-1:])
    if not out:
        raise ValidationError("geometry", geom.geom_type, "has no points to measure from")
    pts = np.concatenate(out)
    return np.unique(np.round(pts, 9), axis=0)


def reach_envelope(origin: BaseGeometry, radius_km: float, spacing_km: float | None = None) -> Polygon | MultiPolygon:
    """Every point within radius_km of an origin area, line or point (e.g. 500 km from Belarus).

    The union of geodesic rings round points spaced along the origin's boundary, plus the area itself.
    With spacing s the union misses at most s²/8R between neighbouring rings (about 6 m for s=5, R=500).
    """
    radius_km = _check_radius(radius_km)
    if origin.geom_type == "Point":
        return range_ring((origin.x, origin.y), radius_km)
    spacing = spacing_km or min(5.0, max(radius_km / 10.0, 0.05))
    pts = densify(origin, spacing)
    n = ring_vertex_count(radius_km, sag_km=min(0.05, radius_km / 200.0))
    n = min(n, 256)
    raw = []
    for lon, lat in pts:
        raw.append(range_ring_raw(lon, lat, radius_km, n))
    if origin.geom_type in ("Polygon", "MultiPolygon"):
        raw.append(origin)
    return _oriented(_fold(shapely.union_all(raw)))


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
