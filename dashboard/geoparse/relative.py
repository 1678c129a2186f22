"""Relative locations: "30 km north of Chernihiv", "about 20 miles south-east of Kharkiv".

A place named by its distance and direction from another is resolved offline by the direct geodesic
problem on the WGS84 ellipsoid (geodesy.destination) from the place the geoparser found, and kept as a
point with its uncertainty: a compass word covers ±22.5° (±11.25° for the two-word ones, "north-east") and a
written distance is rounded, so the point may be off by the sector's width at that distance plus a tenth
of the distance ("about"/"some" or "up to": a fifth).
"""

from __future__ import annotations

import math
import re

from dashboard.geodesy import destination
from dashboard.geoparse.mentions import PlaceMention

BEARINGS = {
    "north": 0.0, "north-east": 45.0, "northeast": 45.0, "east": 90.0, "south-east": 135.0, "southeast": 135.0,
    "south": 180.0, "south-west": 225.0, "southwest": 225.0, "west": 270.0, "north-west": 315.0,
    "northwest": 315.0,
}
UNITS_KM = {"km": 1.0, "kilometres": 1.0, "kilometers": 1.0, "kilometre": 1.0, "kilometer": 1.0,
            "miles": 1.609344, "mile": 1.609344, "mi": 1.609344}
MAX_KM = 1000.0  # "3,000 km east of Moscow" names no place worth a point
_DIRECTION = "|".join(sorted(map(re.escape, BEARINGS), key=len, reverse=True))
_UNIT = "|".join(sorted(map(re.escape, UNITS_KM), key=len, reverse=True))
_PATTERN = re.compile(
    rf"(?:(?P<hedge>about|some|around|roughly|nearly|almost|up to|approximately)\s+)?"
    rf"(?P<n>\d{{1,4}}(?:[.,]\d+)?)\s*-?\s*(?P<unit>{_UNIT})\.?\s+(?:to\s+the\s+)?(?P<dir>{_DIRECTION})\s+of\s+(?:the\s+)?$",
    re.IGNORECASE)


def relative_points(text: str, places: list[PlaceMention]) -> list[PlaceMention]:
    """A point mention for each "N km DIRECTION of PLACE" whose PLACE the geoparser resolved to a point."""
    out = []
    for place in places:
        if place.kind not in ("city", "village"):
            continue  # from a country's or region's pin the distance says little
        before = text[max(0, place.start - 60):place.start]
        found = _PATTERN.search(before)
        if not found:
            continue
        km = float(found["n"].replace(",", ".")) * UNITS_KM[found["unit"].lower()]
        if not 0 < km <= MAX_KM:
            continue
        direction = found["dir"].lower()
        bearing = BEARINGS[direction]
        half_sector = 22.5 if bearing % 90 == 0 else 11.25  # "north" covers 45°, "north-east" 22.5°
        lon, lat = destination((place.lon, place.lat), bearing, km)
        rounding = 0.2 if found["hedge"] else 0.1
        uncertainty = km * math.radians(half_sector) + km * rounding
        start = max(0, place.start - 60) + found.start()
        phrase = text[start:place.end]
        out.append(PlaceMention(phrase, start, place.end, f"{found['n']} {found['unit']} {direction} of {place.name}",
                                "point", None, place.iso2, lat, lon, round(place.confidence * 0.9, 2), (),
                                f"offset:{place.key}:{km:g}km:{bearing:g}", uncertainty))
    return out
