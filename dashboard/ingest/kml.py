"""KML and KMZ placemarks read with defusedxml: no DTD, no entities, no links followed, every coordinate checked.

GDAL's KML driver is not used: it reads `abc` or `nan,nan` coordinates as 0,0 and follows what the file
points at. Here a placemark becomes one row of text fields — Name, description, timestamp (TimeStamp/when),
begin and end (TimeSpan), and its ExtendedData (Data/value, SchemaData/SimpleData) — plus its geometry
(Point, LineString, LinearRing, Polygon, MultiGeometry), or the reason it has none a user can fix.
NetworkLink, styles and overlays are ignored.
"""

from __future__ import annotations

import math
import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as safe_xml
from defusedxml import DefusedXmlException
from shapely.geometry import (GeometryCollection, LinearRing, LineString, MultiLineString, MultiPoint, MultiPolygon,
                              Point, Polygon)
from shapely.geometry.base import BaseGeometry

from dashboard.errors import DashboardError
from dashboard.ingest.limits import check_zip

_COMMA = re.compile(r"\s*,\s*")
_COORDINATE_HINT = "coordinates must be longitude,latitude[,altitude] numbers, like 30.52,50.45,0"


@dataclass(frozen=True)
class Placemark:
    """One placemark's fields as text, and its geometry or why it has none (field, value, reason)."""

    fields: dict[str, str]
    geometry: BaseGeometry | None
    problem: tuple[str, str, str] | None = None


class _BadCoordinates(ValueError):
    def __init__(self, text: str, reason: str = _COORDINATE_HINT) -> None:
        super().__init__(reason)
        self.text = text
        self.reason = reason


def read_kml(path: Path, name: str) -> list[Placemark]:
    """Every placemark of a .kml file, or of the main .kml inside a .kmz; DashboardError with one sentence."""
    try:
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                check_zip(archive, name, "KMZ")
                kml_names = [n for n in archive.namelist() if n.lower().endswith(".kml")]
                if not kml_names:
                    raise DashboardError(f"The KMZ file {name} holds no .kml file; export it again from the program "
                                         f"that made it.")
                main = "doc.kml" if "doc.kml" in kml_names else kml_names[0]
                with archive.open(main) as fh:
                    return list(_placemarks(fh, name))
        with open(path, "rb") as fh:
            return list(_placemarks(fh, name))
    except DefusedXmlException as exc:
        raise DashboardError(f"The file {name} declares a DTD or XML entities ({type(exc).__name__}), which "
                             f"Reachmap refuses because they can expand a small file to gigabytes or read other "
                             f"files; export the KML again without a DOCTYPE.") from None
    except ParseError as exc:
        raise DashboardError(f"The file {name} is not well-formed XML ({exc}); check that it is valid KML, for "
                             f"instance by opening it in QGIS or Google Earth.") from None
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as exc:
        raise DashboardError(f"The file {name} cannot be read as KML or KMZ ({str(exc)[:200]}); export it "
                             f"again.") from None


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _placemarks(fh: IO[bytes], name: str) -> Iterator[Placemark]:
    root_seen = False
    for event, element in safe_xml.iterparse(fh, events=("start", "end"), forbid_dtd=True):
        if event == "start":
            if not root_seen:
                root_seen = True
                if _local(element.tag).lower() != "kml":
                    raise DashboardError(f"The file {name} has the root element <{_local(element.tag)[:40]}>, "
                                         f"not <kml>; export the data as KML.")
            continue
        if _local(element.tag) == "Placemark":
            yield _placemark(element)
            element.clear()


def _children(element: Element, local: str) -> Iterator[Element]:
    return (c for c in element if _local(c.tag) == local)


def _child(element: Element, local: str) -> Element | None:
    return next(_children(element, local), None)


def _text(element: Element | None) -> str:
    return "".join(element.itertext()) if element is not None else ""


def _placemark(element: Element) -> Placemark:
    fields: dict[str, str] = {}
    for key, local in (("Name", "name"), ("description", "description")):
        child = _child(element, local)
        if child is not None:
            fields[key] = _text(child).strip()
    stamp = _child(element, "TimeStamp")
    if stamp is not None:
        fields["timestamp"] = _text(_child(stamp, "when")).strip()
    span = _child(element, "TimeSpan")
    if span is not None:
        fields["begin"] = _text(_child(span, "begin")).strip()
        fields["end"] = _text(_child(span, "end")).strip()
    extended = _child(element, "ExtendedData")
    if extended is not None:
        for data in _children(extended, "Data"):
            key = (data.get("name") or "").strip()
            if key:
                fields.setdefault(key, _text(_child(data, "value")).strip())
        for schema in _children(extended, "SchemaData"):
            for simple in _children(schema, "SimpleData"):
                key = (simple.get("name") or "").strip()
                if key:
                    fields.setdefault(key, _text(simple).strip())
    shapes = [c for c in element if _local(c.tag) in _GEOMETRIES]
    if not shapes:
        return Placemark(fields, None, ("geometry", "", "missing geometry: the placemark has no Point, LineString "
                                                        "or Polygon"))
    try:
        return Placemark(fields, _geometry(shapes[0]))
    except _BadCoordinates as exc:
        return Placemark(fields, None, ("coordinates", exc.text.strip(), exc.reason))


def _geometry(element: Element) -> BaseGeometry:
    kind = _local(element.tag)
    if kind == "Point":
        points = _coordinates(element, 1)
        if len(points) != 1:
            raise _BadCoordinates(_text(_child(element, "coordinates")), "a Point needs exactly one "
                                  "longitude,latitude pair")
        return Point(points[0])
    if kind in ("LineString", "LinearRing"):
        points = _coordinates(element, 2)
        return LineString(points) if kind == "LineString" else LinearRing(_closed(points, element))
    if kind == "Polygon":
        outer = _child(element, "outerBoundaryIs")
        ring = _child(outer, "LinearRing") if outer is not None else None
        if ring is None:
            raise _BadCoordinates("", "a Polygon needs an outerBoundaryIs with a LinearRing")
        holes = [_closed(_coordinates(r, 3), r) for inner in _children(element, "innerBoundaryIs")
                 for r in _children(inner, "LinearRing")]
        return Polygon(_closed(_coordinates(ring, 3), ring), holes)
    parts = [_geometry(c) for c in element if _local(c.tag) in _GEOMETRIES]  # MultiGeometry
    if not parts:
        raise _BadCoordinates("", "a MultiGeometry needs at least one Point, LineString or Polygon")
    kinds = {p.geom_type for p in parts}
    if kinds == {"Point"}:
        return MultiPoint(parts)
    if kinds <= {"LineString", "LinearRing"}:
        return MultiLineString([LineString(p.coords) for p in parts])
    if kinds == {"Polygon"}:
        return MultiPolygon(parts)
    return GeometryCollection(parts)


_GEOMETRIES = frozenset({"Point", "LineString", "LinearRing", "Polygon", "MultiGeometry"})


def _coordinates(element: Element, minimum: int) -> list[tuple[float, float]]:
    """The (lon, lat) pairs of a geometry's <coordinates>; _BadCoordinates for anything but finite numbers."""
    text = _text(_child(element, "coordinates"))
    points = []
    for token in _COMMA.sub(",", text.strip()).split():  # "30.5, 50.4" is written by hand often enough
        parts = token.split(",")
        if len(parts) not in (2, 3):
            raise _BadCoordinates(text)
        try:
            numbers = [float(p) for p in parts]
        except ValueError:
            raise _BadCoordinates(text) from None
        if not all(math.isfinite(n) for n in numbers):
            raise _BadCoordinates(text)
        points.append((numbers[0], numbers[1]))
    if len(points) < minimum:
        what = "no coordinates" if not points else f"{len(points)} point(s)"
        raise _BadCoordinates(text, f"{what}: a {_local(element.tag)} needs at least {minimum}; "
                                    f"{_COORDINATE_HINT}")
    return points


def _closed(points: list[tuple[float, float]], element: Element) -> list[tuple[float, float]]:
    if points[0] != points[-1]:
        points = points + [points[0]]
    if len(points) < 4:
        raise _BadCoordinates(_text(_child(element, "coordinates")), "a ring needs at least three distinct points")
    return points
