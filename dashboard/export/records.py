"""Events and rings as flat records with their provenance, the same for GeoJSON, KML and CSV."""

from __future__ import annotations

from datetime import datetime, timezone

from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry
from shapely.geometry.polygon import orient

from dashboard.export.words import date_span, summary
from dashboard.model import Event
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
