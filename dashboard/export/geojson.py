"""GeoJSON (RFC 7946): rings and envelopes, then one Point per event with every field.

Written as it goes, a batch of events at a time, as the text `json.dumps(collection, ensure_ascii=False,
allow_nan=False)` gives: each value is encoded by the same functions json uses, into a fixed template per
event, so 100,000 events are never one dict or one string in memory.
"""

from __future__ import annotations

import io
import itertools
import json
import json.encoder
import math
from typing import TYPE_CHECKING, TextIO

from shapely.geometry import MultiPolygon, mapping

import numpy as np
import pyarrow.compute as pc

from dashboard.export import columns as arrow
from dashboard.export.records import (EVENT_FIELDS, _meta, _polygons, _rounded, actor_lists, column_batches,
                                      launch_record, lonlat_texts, record_batches, ring_record)
from dashboard.export.records import bearing_geometry, bearing_record

if TYPE_CHECKING:
    from dashboard.scene import Scene

_string = json.encoder.encode_basestring  # json's own, in C: a str as JSON text, non-ASCII kept
# One event's Feature as json.dumps writes the dict (", " and ": " separators, keys in this order), cut where
# its values go: the coordinates, then each property. A batch is every column encoded at once, then read across.
_PARTS = [', {"type": "Feature", "geometry": {"type": "Point", "coordinates": [', ", ",
          ']}, "properties": {' + f"{_string(EVENT_FIELDS[0])}: ",
          *(f", {_string(name)}: " for name in EVENT_FIELDS[1:]), "}}"]


def _dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False)


def _values(values: list) -> list[str]:
    """Each value of a column as JSON text: text, numbers and null by json's own functions, in one pass."""
    if set(map(type, values)) <= {str}:
        return list(map(_string, values))
    return [_ENCODE.get(type(v), _dumps)(v) for v in values]


# What json.dumps does to these exact types (a bool or a float takes the general way).
_ENCODE = {str: _string, int: int.__repr__, type(None): lambda _: "null"}


def _numbers(values: list[float]) -> list[str]:
    if not all(map(math.isfinite, values)):
        raise ValueError("Out of range float values are not JSON compliant")  # as json.dumps says it
    return list(map(float.__repr__, values))


def write_geojson(scene: Scene, out: TextIO, title: str | None = None) -> None:
    """The GeoJSON of `to_geojson`, written to `out` a batch of events at a time."""
    out.write('{"type": "FeatureCollection", "features": [')
    first = True
    for ring in scene.rings:
        polys = _polygons(ring.geometry)
        if not polys:
            continue
        geom = mapping(polys[0] if len(polys) == 1 else MultiPolygon(polys))
        geom = {"type": geom["type"], "coordinates": _rounded(geom["coordinates"])}
        out.write(("" if first else ", ") + _dumps({"type": "Feature", "geometry": geom,
                                                    "properties": ring_record(ring)}))
        first = False
    for line in scene.bearings:  # lines of bearing after the rings, before the events
        out.write(("" if first else ", ") + _dumps({"type": "Feature", "geometry": bearing_geometry(line),
                                                    "properties": bearing_record(line)}))
        first = False
    for area in scene.launches:  # after the rings, before the events; an empty one is in the meta only
        polys = _polygons(area.geometry)
        if polys:
            geom = mapping(polys[0] if len(polys) == 1 else MultiPolygon(polys))
            geom = {"type": geom["type"], "coordinates": _rounded(geom["coordinates"])}
            out.write(("" if first else ", ") + _dumps({"type": "Feature", "geometry": geom,
                                                        "properties": launch_record(area)}))
            first = False
    batches = column_batches(scene)
    for batch in batches if batches is not None else ():
        features = _features(batch)
        if not len(features):
            continue
        arrow.write_utf8(out, arrow.utf8(features)[2:] if first else arrow.utf8(features))
        first = False
    for batch in record_batches(scene) if batches is None else ():
        batch["actors"] = ["[" + ", ".join(map(_string, a)) + "]" for a in batch["actors"]]
        batch["attributes"] = [a or "{}" for a in batch["attributes"]]
        values = [_numbers(batch["lon"]), _numbers(batch["lat"])]
        values += [batch[name] if name in ("actors", "attributes") else _values(batch[name]) for name in EVENT_FIELDS]
        columns = [itertools.repeat(_PARTS[0])]  # constant, value, constant, value, …, constant
        for column, part in zip(values, _PARTS[1:]):
            columns += [column, itertools.repeat(part)]
        features = "".join(itertools.chain.from_iterable(zip(*columns)))
        out.write(features[2:] if first else features)  # every feature after the first follows ", "
        first = False
    out.write('], "reachmap": ' + _dumps(_meta(scene, title)) + "}\n")


def _actors_json(stored: str) -> str:
    return "[" + ", ".join(map(_string, actor_lists(stored))) + "]"


def _features(batch: dict):
    """The Features of a batch of Arrow columns (records.column_batches), each after ", ", as the text
    `write_geojson` writes for the same events: every value of a column encoded at once, in C."""
    if not (np.isfinite(batch["lon"]).all() and np.isfinite(batch["lat"]).all()):
        raise ValueError("Out of range float values are not JSON compliant")  # as json.dumps says it
    values: list[list[arrow.Part]] = [[text] for text in lonlat_texts(batch)]  # each value as parts of the join
    for name in EVENT_FIELDS:
        if name == "actors":
            values.append([arrow.per_distinct(batch[name], _actors_json)])
        elif name == "attributes":
            none = pc.equal(batch[name], "").to_numpy(zero_copy_only=False)
            values.append([arrow.Either(none, "{}", ""), batch[name]] if none.any() else [batch[name]])
        else:
            values.append(arrow.json_parts(batch[name]))
    parts: list[arrow.Part] = [_PARTS[0]]  # constant, value, constant, value, …, constant
    for value, part in zip(values, _PARTS[1:]):
        parts += [*value, part]
    return arrow.joined(*parts)


def to_geojson(scene: Scene, title: str | None = None) -> str:
    """An RFC 7946 FeatureCollection: rings and envelopes first, then lines of bearing, then one Point per event,
    all lon/lat."""
    out = io.StringIO()
    write_geojson(scene, out, title)
    return out.getvalue()
