"""GeoJSON through GDAL (pyogrio) and KML/KMZ through defusedxml: features become a Table of text plus geometries.

Rows are numbered by feature (1 = the first feature of the file, counting on across KML folders). KML
placemarks give Name, description, TimeStamp (→ date), TimeSpan begin/end (→ date, end) and their
ExtendedData fields; KML's styling fields are dropped. Geometry is kept as it is, forced to 2D.
"""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
from pyogrio.errors import DataLayerError, DataSourceError, FieldError, GeometryError
from shapely.geometry.base import BaseGeometry

from dashboard.errors import DashboardError
from dashboard.ingest.kml import read_kml
from dashboard.ingest.limits import check_geojson, gdal_options, local_path
from dashboard.ingest.table import Table, header_key

KML_IGNORED = frozenset({"altitudemode", "tessellate", "extrude", "visibility", "draworder", "icon", "snippet"})


def read_geofile(path: Path, name: str, fmt: str) -> tuple[Table, list[BaseGeometry | None]]:
    """All features as a Table of text properties (with the features to reject in `problems`) and geometries.

    GeoJSON goes through GDAL after `check_geojson` (no crs links; a NUL inside a text would be cut short by
    GDAL, so that feature is rejected); KML through `read_kml` (defusedxml). DashboardError if unreadable.
    """
    if fmt == "kml":
        return _read_kml(path, name)
    with_nul = check_geojson(path, name)
    try:
        with gdal_options():
            gdal_path = "GeoJSON:" + local_path(path)  # that one driver: no other JSON dialect, no probing
            layers = [str(layer) for layer, _ in pyogrio.list_layers(gdal_path)]
            frames = []
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # GDAL's notes about field types are not the user's business
                for layer in layers:
                    gdf = pyogrio.read_dataframe(gdal_path, layer=layer, force_2d=True, datetime_as_string=True,
                                                 on_invalid="ignore")
                    if len(gdf):
                        if gdf.crs is not None and gdf.crs.to_epsg() != 4326:
                            gdf = gdf.to_crs(4326)
                        frames.append(gdf)
    except (DataSourceError, DataLayerError, FieldError, GeometryError, OSError, ValueError) as exc:
        detail = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
        if "Too many characters" in detail:
            raise DashboardError(f"The file {name} holds a text or number of millions of characters, more than GDAL "
                                 f"reads ({detail}); shorten it, or import the data as CSV.") from None
        if "Too many nested" in detail:
            raise DashboardError(f"The file {name} nests JSON arrays or objects too deeply ({detail}); export it "
                                 f"again as plain GeoJSON.") from None
        raise DashboardError(f"The file {name} cannot be read as GeoJSON ({detail}); check that it is valid "
                             f"GeoJSON, for instance by opening it in QGIS.") from None
    if not frames:
        raise DashboardError(f"The file {name} holds no features; export the layer again with its features.")
    geometries: list[BaseGeometry | None] = []
    properties = []
    for gdf in frames:
        geometries.extend(g if isinstance(g, BaseGeometry) else None for g in gdf.geometry)
        properties.append(pd.DataFrame({str(c): _text(gdf[c]) for c in gdf.columns if c != gdf.geometry.name},
                                       index=range(len(gdf))))
    frame = pd.concat(properties, ignore_index=True).fillna("") if properties else pd.DataFrame()
    if with_nul and (len(frames) != 1 or max(with_nul) >= len(frame)):
        raise DashboardError(f"The file {name} holds a NUL character (\\u0000) in a text, which GDAL would cut "
                             f"short there; remove it and import the file again.")
    problems = {i: ("properties", "", "a text holds a NUL character (\\u0000), which would cut it short there; "
                                      "remove it") for i in with_nul}
    lines = np.arange(1, len(frame) + 1, dtype=np.int64)
    return Table(name, frame.astype(object), lines, problems), geometries


def _is_reachmap_ring(placemark) -> bool:
    """A range ring or reach envelope from a Reachmap KML export (its ExtendedData says so): not an event."""
    fields = placemark.fields
    return fields.get("kind") in ("ring", "reach") and bool(fields.get("radius_km")) and "origin_kind" in fields


def _read_kml(path: Path, name: str) -> tuple[Table, list[BaseGeometry | None]]:
    placemarks = read_kml(path, name)
    rings = [p for p in placemarks if _is_reachmap_ring(p)]
    placemarks = [p for p in placemarks if not _is_reachmap_ring(p)]
    warnings = ([f"Left out {len(rings)} range ring(s) of a Reachmap export ({rings[0].fields.get('label', '')!r}"
                 f"{', …' if len(rings) > 1 else ''}): rings are drawn from the link, they are not events."]
                if rings else [])
    if not placemarks:
        raise DashboardError(f"The file {name} holds no placemarks; export the layer again with its features.")
    columns: dict[str, None] = {}
    for placemark in placemarks:
        columns.update(dict.fromkeys(placemark.fields))
    frame = pd.DataFrame({c: [p.fields.get(c, "") for p in placemarks] for c in columns},
                         index=range(len(placemarks)))
    frame = _kml_times(frame)
    problems = {i: p.problem for i, p in enumerate(placemarks) if p.problem is not None}
    lines = np.arange(1, len(frame) + 1, dtype=np.int64)
    return Table(name, frame.astype(object), lines, problems, warnings), [p.geometry for p in placemarks]


def _text(series: pd.Series) -> list[str]:
    return [_cell(v) for v in series.tolist()]


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        if math.isnan(value):
            return ""
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, (bool, np.bool_)):
        return "true" if value else "false"
    if value is pd.NA or value is pd.NaT:
        return ""
    return str(value)


def _kml_times(frame: pd.DataFrame) -> pd.DataFrame:
    """One date column from TimeStamp or TimeSpan/begin, whichever a placemark has."""
    by_key = {header_key(c): c for c in frame.columns}
    stamp, begin = by_key.get("timestamp"), by_key.get("begin")
    if stamp is None and begin is None:
        return frame
    stamp_values = frame[stamp] if stamp else pd.Series([""] * len(frame))
    begin_values = frame[begin] if begin else pd.Series([""] * len(frame))
    date = np.where(stamp_values.astype(str).str.strip() != "", stamp_values, begin_values)
    frame = frame.drop(columns=[c for c in (stamp, begin) if c])
    frame.insert(0, "date", date)
    return frame
