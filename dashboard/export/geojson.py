"""GeoJSON (RFC 7946): rings and envelopes, then one Point per event with every field."""

from __future__ import annotations

import json

from shapely.geometry import MultiPolygon, mapping

from dashboard.export.records import _meta, _polygons, _rounded, event_records, ring_record
from dashboard.scene import Scene


def to_geojson(scene: Scene, title: str | None = None) -> str:
    """An RFC 7946 FeatureCollection: rings and envelopes first, then one Point per event, all lon/lat."""
    features = []
    for ring in scene.rings:
        polys = _polygons(ring.geometry)
        if not polys:
            continue
        geom = mapping(polys[0] if len(polys) == 1 else MultiPolygon(polys))
        geom = {"type": geom["type"], "coordinates": _rounded(geom["coordinates"])}
        features.append({"type": "Feature", "geometry": geom, "properties": ring_record(ring)})
    for record, lonlat in event_records(scene):
        features.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": _rounded(lonlat)},
                         "properties": record})
    collection = {"type": "FeatureCollection", "features": features, "reachmap": _meta(scene, title)}
    return json.dumps(collection, ensure_ascii=False, allow_nan=False) + "\n"
