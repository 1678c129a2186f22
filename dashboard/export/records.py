"""Events and rings as flat records with their provenance, the same for GeoJSON, KML and CSV."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timezone

import msgspec
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry
from shapely.geometry.polygon import orient

from dashboard.export.words import date_span, summary
from dashboard.model import Event, span_label
from dashboard.rings import Ring
from dashboard.scene import Scene
from dashboard.share import to_query

EVENT_FIELDS: tuple[str, ...] = (
    "id", "title", "description", "event_type", "start", "end", "precision", "date_label", "time_text",
    "time_note", "place", "place_kind", "country", "admin1", "geonameid", "actors", "source_title",
    "source_publisher", "source_url", "source_published", "quote", "attributes")
RING_FIELDS: tuple[str, ...] = (
    "label", "kind", "radius_km", "origin", "origin_kind", "system", "munition", "range_source_title",
    "range_source_publisher", "range_source_url", "range_quote")

DECIMALS = 6  # about 0.1 m: more would be noise, fewer would move points


def event_record(e: Event) -> dict:
    """Every field of an event, provenance included, as JSON-ready values (actors a list)."""
    src, place = e.source, e.place
    return {
        "id": e.id, "title": e.title, "description": e.description, "event_type": e.event_type,
        "start": e.time.start.isoformat(), "end": e.time.end.isoformat(), "precision": e.time.precision,
        "date_label": e.time.label, "time_text": e.time.text, "time_note": e.time.note,
        "place": place.name, "place_kind": place.kind, "country": place.country, "admin1": place.admin1,
        "geonameid": place.geonameid, "actors": list(e.actors), "source_title": src.title,
        "source_publisher": src.publisher, "source_url": src.url,
        "source_published": src.published.isoformat() if src.published else None, "quote": src.quote,
        "attributes": dict(e.attributes),
    }


def event_records(scene: Scene) -> Iterator[tuple[dict, tuple[float, float]]]:
    """(event_record, lon/lat) of each event of the scene, in order: from the store's flat rows when the
    scene's events can give them (StoredEvents.rows: no Event is built), else from the events."""
    rows = getattr(scene.events, "rows", None)
    rows = rows() if rows is not None else None
    if rows is None:
        for e in scene.events:
            yield event_record(e), e.place.lonlat
        return
    labels: dict[tuple, str] = {}
    loads = msgspec.json.decode  # the store's own JSON lists, five times faster than json.loads
    for (event_id, title, description, event_type, start, end, precision, text, note, place, kind, country,
         admin1, geonameid, actors, source_title, publisher, url, published, quote, attributes, lon, lat) in rows:
        key = (start, end, precision, text)
        label = labels.get(key)
        if label is None:
            label = labels[key] = span_label(date.fromisoformat(start), date.fromisoformat(end), precision, text)
        yield {
            "id": event_id, "title": title, "description": description, "event_type": event_type,
            "start": start, "end": end, "precision": precision, "date_label": label, "time_text": text,
            "time_note": note, "place": place, "place_kind": kind, "country": country, "admin1": admin1,
            "geonameid": geonameid, "actors": _texts(loads(actors)), "source_title": source_title,
            "source_publisher": publisher, "source_url": url, "source_published": published or None,
            "quote": quote, "attributes": _text_dict(loads(attributes)),
        }, (lon, lat)


def _texts(values: list) -> list[str]:
    return values if set(map(type, values)) <= {str} else [str(v) for v in values]


def _text_dict(pairs: list) -> dict[str, str]:
    """Stored (name, value) pairs as a dict of text, as Event attributes are (a store written by other
    software may hold numbers)."""
    found = dict(pairs)
    if set(map(type, found)) <= {str} and set(map(type, found.values())) <= {str}:
        return found
    return {str(k): str(v) for k, v in pairs}


def ring_record(r: Ring) -> dict:
    """What a ring is and who declared its range."""
    src = r.source
    return {
        "label": r.label, "kind": r.kind, "radius_km": r.radius_km, "origin": r.origin.name,
        "origin_kind": r.origin.kind, "system": r.system, "munition": r.munition,
        "range_source_title": src.title if src else "", "range_source_publisher": src.publisher if src else "",
        "range_source_url": src.url if src else "", "range_quote": src.quote if src else "",
    }


def _polygons(geom: BaseGeometry) -> list[Polygon]:
    """The polygons of a ring, exteriors counter-clockwise and holes clockwise (RFC 7946 §3.1.6)."""
    parts = geom.geoms if isinstance(geom, MultiPolygon) else [geom]
    return [orient(p, 1.0) for p in parts if isinstance(p, Polygon) and not p.is_empty]


def _rounded(coords):
    if isinstance(coords[0], (int, float)):
        return [round(float(c), DECIMALS) for c in coords[:2]]
    return [_rounded(c) for c in coords]


def _meta(scene: Scene, title: str | None) -> dict:
    meta = {"query": to_query(scene.state), "summary": summary(scene), "date_span": date_span(scene),
            "exported_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    if title:
        meta["title"] = title
    if scene.problems:
        meta["problems"] = list(scene.problems)
    return meta
