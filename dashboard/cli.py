"""`python -m dashboard …`: rings, reach envelopes and stored events from the command line.

Bad input prints one sentence on stderr and exits 2; nothing here prints a traceback for user input.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence
from datetime import date

import numpy as np
import shapely
from shapely.geometry import Point, mapping

from dashboard import geodesy
from dashboard.errors import DashboardError, ValidationError
from dashboard.gazetteer import Gazetteer
from dashboard.ingest import open_gazetteer, open_store
from dashboard.ingest.catalogue import load_catalogue
from dashboard.model import Event, Place, check_lat, check_lon, check_range_km
from dashboard.query import EventFilter, select_events

_LATLON = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s*,\s*(-?\d+(?:\.\d+)?)\s*$")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, as for every other bad input
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m dashboard", description="Reachmap from the command line.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    ring = sub.add_parser("ring", help="a geodesic range ring around a place or point, as GeoJSON")
    ring.add_argument("--at", required=True, metavar="PLACE|LAT,LON", help="e.g. Minsk or 53.9,27.57")
    _add_range_args(ring)

    reach = sub.add_parser("reach", help="everything within a range of a place, country or border, as GeoJSON")
    reach.add_argument("--from", dest="origin", required=True, metavar="PLACE|COUNTRY|BORDER",
                       help='e.g. Belarus, BY, "Belarus-Ukraine border", Minsk')
    _add_range_args(reach)

    events = sub.add_parser("events", help="list stored events")
    events.add_argument("--from", dest="start", type=_date, metavar="YYYY-MM-DD")
    events.add_argument("--to", dest="end", type=_date, metavar="YYYY-MM-DD")
    events.add_argument("--country", action="append", default=[], metavar="ISO2", help="repeatable")
    events.add_argument("--near", metavar="PLACE:KM", help="e.g. Chernihiv:100")
    events.add_argument("--json", action="store_true", help="GeoJSON instead of a table")
    return parser


def _add_range_args(p: argparse.ArgumentParser) -> None:
    how_far = p.add_mutually_exclusive_group(required=True)
    how_far.add_argument("--km", type=float, help="radius in kilometres")
    how_far.add_argument("--system", metavar="ID", help="a catalogue system, e.g. iskander-m (its longest range)")
    p.add_argument("--places", choices=("capitals", "cities", "events", "none"), default="capitals",
                   help="what to list in range (default: capitals)")
    p.add_argument("--min-population", type=int, default=100_000, help="for --places cities")


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; write it YYYY-MM-DD, e.g. 2022-06-25") from None


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "events":
            return _events(args)
        return _range(args)
    except DashboardError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `… | head` closed the pipe: not an error of ours
        sys.stderr.close()
        return 0


def _radius(args: argparse.Namespace) -> tuple[float, dict]:
    if args.system:
        system = load_catalogue().get(args.system)
        munition = max(system.munitions, key=lambda m: m.range_km, default=None)
        if munition is None:
            raise ValidationError("system", args.system, "has no munition with a declared range in the catalogue")
        return munition.range_km, {"system": system.name, "munition": munition.name,
                                   "range_source": munition.source.url}
    return args.km, {}


def _range(args: argparse.Namespace) -> int:
    gazetteer = open_gazetteer()
    radius_km, cited = _radius(args)
    if args.command == "ring":
        origin = _point_or_place(args.at, gazetteer)
        if origin.kind in ("country", "border"):
            raise ValidationError("--at", args.at, "is an area or line; use `reach --from` for its reach")
        shape = geodesy.range_ring(origin.lonlat, radius_km)
        kind = "ring"
    else:
        origin = _point_or_place(args.origin, gazetteer)
        shape = geodesy.reach_envelope(origin.geometry, radius_km)
        kind = "reach"
    features = [_feature(shape, {"kind": kind, "origin": origin.name, "origin_kind": origin.kind,
                                 "radius_km": radius_km, **cited})]
    features += _in_range_features(args, origin, radius_km, gazetteer)
    json.dump({"type": "FeatureCollection", "features": features}, sys.stdout, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0


def _point_or_place(text: str, gazetteer: Gazetteer) -> Place:
    match = _LATLON.match(text)
    if match:
        lat, lon = check_lat(float(match[1]), "lat"), check_lon(float(match[2]), "lon")
        return Place("point", f"{lat:.5f}, {lon:.5f}", "point", Point(lon, lat))
    return gazetteer.resolve(text)


def _in_range_features(args: argparse.Namespace, origin: Place, radius_km: float, gazetteer: Gazetteer) -> list[dict]:
    if args.places == "none":
        return []
    if args.places == "events":
        with open_store(gazetteer=gazetteer) as store:
            events = store.events()
        rows = [(e.title, "event", e.place.country, *e.place.lonlat) for e in events]
    elif args.places == "capitals":
        rows = [(c.name, "capital", c.country, c.lon, c.lat) for c in gazetteer.capitals()]
    else:
        table = gazetteer.cities(args.min_population)
        rows = list(zip(table.name, ["city"] * len(table.name), table.country, table.lon, table.lat))
    if not rows:
        return []
    lons = np.array([r[3] for r in rows])
    lats = np.array([r[4] for r in rows])
    origin_geom = Point(origin.lonlat) if args.command == "ring" else origin.geometry
    hits = geodesy.in_range(origin_geom, radius_km, lons, lats)
    out = []
    for i in np.flatnonzero(hits.inside):
        name, kind, country, lon, lat = rows[i]
        bearing = hits.bearing_deg[i]
        out.append((hits.distance_km[i], _feature(Point(lon, lat), {
            "name": str(name), "kind": kind, "country": str(country),
            "distance_km": round(float(hits.distance_km[i]), 1),
            "bearing_deg": None if np.isnan(bearing) else round(float(bearing), 1),
        })))
    return [f for _, f in sorted(out, key=lambda pair: pair[0])]


def _feature(geom: shapely.Geometry, properties: dict) -> dict:
    return {"type": "Feature", "geometry": mapping(geom), "properties": properties}


def _events(args: argparse.Namespace) -> int:
    gazetteer = open_gazetteer()
    near, near_km = None, None
    if args.near:
        name, _, km = args.near.rpartition(":")
        try:
            near_km = float(km)
        except ValueError:
            raise ValidationError("--near", args.near, "must be PLACE:KM, e.g. Chernihiv:100") from None
        if not name:
            raise ValidationError("--near", args.near, "must be PLACE:KM, e.g. Chernihiv:100")
        check_range_km(near_km, "--near km")
        near = _point_or_place(name, gazetteer)
    if args.start and args.end and args.end < args.start:
        raise ValidationError("--to", args.end.isoformat(), f"is before --from {args.start.isoformat()}")
    flt = EventFilter(args.start, args.end, tuple(c.upper() for c in args.country), near, near_km)
    with open_store(gazetteer=gazetteer) as store:
        events = select_events(store, flt)
    if args.json:
        json.dump({"type": "FeatureCollection", "features": [_event_feature(e) for e in events]},
                  sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        for e in events:
            print(f"{e.time.label:<34}  {e.title}  —  {e.place.name}  [{e.source.publisher}]")
        print(f"{len(events)} event(s)", file=sys.stderr)
    return 0


def _event_feature(e: Event) -> dict:
    return _feature(Point(e.place.lonlat), {
        "id": e.id, "title": e.title, "event_type": e.event_type, "start": e.time.start.isoformat(),
        "end": e.time.end.isoformat(), "precision": e.time.precision, "date_label": e.time.label,
        "place": e.place.name, "place_kind": e.place.kind, "country": e.place.country,
        "geonameid": e.place.geonameid, "actors": list(e.actors), "description": e.description,
        "source_title": e.source.title, "source_publisher": e.source.publisher, "source_url": e.source.url,
        "source_published": e.source.published.isoformat() if e.source.published else None,
        "quote": e.source.quote,
    })
