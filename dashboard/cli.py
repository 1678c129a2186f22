"""`python -m dashboard …`: rings, reach envelopes, measuring, stored events and exports from the command line.

Bad input prints one sentence on stderr and exits 2; nothing here prints a traceback for user input.
Coordinates are typed as they are written, southern and western ones too: `ring --at -17.8,178.0` (see
`attach_values`). A place is printed with its region and country, "Desna, Chernihiv Oblast, UA".
Text from data reaches the terminal with its control characters shown, not obeyed (`printable`), and JSON
with them escaped (`dump_json`), so an imported title cannot recolour, move or reorder what the user sees.
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import re
import sys
from collections.abc import Sequence
from dataclasses import replace
from datetime import date
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import Point, mapping

from dashboard.errors import DashboardError, ValidationError
from dashboard.ingest import location_of, open_gazetteer, open_store
from dashboard.ingest.catalogue import load_catalogue
from dashboard.model import BIDI_CONTROLS, Event, check_range_km, is_hidden_control
from dashboard.query import EventFilter, select_events
from dashboard.rings import in_range_rows, resolve_origin, resolve_ring
from dashboard.share import EARLIEST, LATEST, MAX_KM, MAX_PLAY_DAYS, Frame, from_query
from dashboard.table import EventTable


# In JSON: C1 controls (U+009B is CSI to some terminals), DEL, line/paragraph separators and direction
# controls as \uXXXX.
_JSON_UNSAFE = re.compile("[\u007f-\u009f\u2028\u2029" + "".join(sorted(BIDI_CONTROLS)) + "]")


def printable(text: object) -> str:
    r"""`text` for a terminal: controls, line breaks, lone surrogates and direction overrides as escapes.

    >>> printable("bell\a \x1b[31mred\x1b[0m \u202eevil \u00e9\u2014ok\nnext")
    'bell\\x07 \\x1b[31mred\\x1b[0m \\u202eevil é—ok\\nnext'
    """
    s = str(text)
    if s.isprintable():
        return s
    return "".join(ch.encode("unicode_escape", "backslashreplace").decode("ascii")
                   if is_hidden_control(ch) else ch for ch in s)


def dump_json(value: object, indent: int | None = None) -> None:
    """`value` as JSON on stdout: the same data, with nothing in it a terminal would obey."""
    text = json.dumps(value, ensure_ascii=False, indent=indent)  # json always escapes C0 controls
    sys.stdout.write(_JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text) + "\n")


def say(prefix: str, text: object) -> None:
    """One line on stderr, e.g. 'warning: …', with data's control characters shown, not obeyed."""
    print(f"{prefix}{printable(text)}", file=sys.stderr)


# The keys of export.FORMATS, written out so that `ring` and `events` need not import folium (about 1 s).
EXPORT_FORMATS = ("png", "html", "geojson", "kml", "kmz", "csv", "mp4", "webm", "gif")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, as for every other bad input
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


# A value that starts like a negative number: "-17.8,178.0", "-17.8, 178", "-33.9,18.4:100", "-5", "-.5".
_NEGATIVE_VALUE = re.compile(r"-\s*\.?\d")


def attach_values(argv: Sequence[str], parser: argparse.ArgumentParser) -> list[str]:
    """argv with each negative value that follows an option taking a value attached to it, "--at=-17.8,178".

    argparse takes "-17.8,178.0" for an option (only plain numbers like "-17.8" pass as values), so
    `--at -17.8,178.0` failed with "expected one argument". Only options that take a value are joined; a
    flag (`--json`) and anything after "--" are left as typed.
    """
    takes_value = _value_options(parser)
    out: list[str] = []
    args = list(argv)
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            out.extend(args[i:])
            break
        if arg in takes_value and i + 1 < len(args) and _NEGATIVE_VALUE.match(args[i + 1]):
            out.append(f"{arg}={args[i + 1]}")
            i += 2
            continue
        out.append(arg)
        i += 1
    return out


def _value_options(parser: argparse.ArgumentParser) -> set[str]:
    """Every long option of the parser and its subcommands that takes one value (nargs None)."""
    found: set[str] = set()
    for action in parser._actions:  # argparse has no public walk over actions
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                found |= _value_options(sub)
        elif action.option_strings and action.nargs is None:
            found.update(o for o in action.option_strings if o.startswith("--"))
    return found


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

    meas = sub.add_parser("measure", help="geodesic distances and initial bearings along places or lat,lon points",
                          description="Each segment's geodesic distance (WGS84) in km (3 decimals: metres) and "
                                      "nautical miles, its initial bearing, and the total, as the map's measure "
                                      "tool shows them. Southern/western points as typed: measure Minsk -17.8,178.0")
    meas.add_argument("points", nargs="+", metavar="PLACE|LAT,LON", help="two or more, e.g. Minsk Desna 50.45,30.52")
    meas.add_argument("--geojson", action="store_true",
                      help="a GeoJSON FeatureCollection instead: one LineString per segment, densified along "
                           "the geodesic (a MultiLineString where it crosses the antimeridian)")

    bearing = sub.add_parser("bearing", help="a line of bearing: the geodesic from a point along a bearing, as GeoJSON")
    bearing.add_argument("--from", dest="origin", required=True, metavar="PLACE|LAT,LON", help="e.g. Desna or 51.3,30.8")
    bearing.add_argument("--bearing", type=float, required=True, metavar="DEG",
                         help="initial bearing in degrees clockwise from true north (315 = north-west)")
    bearing.add_argument("--km", type=float, required=True, help="length of the line in kilometres")
    bearing.add_argument("--label", default="", help="what the line stands for, e.g. 'reported launch direction'")
    launch = sub.add_parser("launch-area", help="the part of a territory from which a system could reach a "
                            "target, as GeoJSON; or, with --list, which catalogue systems could")
    launch.add_argument("--target", required=True, metavar="PLACE|LAT,LON", help="e.g. Desna or 50.93,30.77")
    launch.add_argument("--from", dest="territory", required=True, metavar="COUNTRY", help="e.g. BY")
    launch_how = launch.add_mutually_exclusive_group()
    launch_how.add_argument("--km", type=float, help="range in kilometres")
    launch_how.add_argument("--system", metavar="ID", help="a catalogue system, e.g. iskander-m (its longest range)")
    launch.add_argument("--munition", default="", metavar="KIND", help="with --system: e.g. cruise (its longest)")
    launch.add_argument("--min-km", type=float, help="minimum range in km (default: the munition's declared one)")
    launch.add_argument("--list", action="store_true", help="list which catalogue systems could reach the target")

    events = sub.add_parser("events", help="list stored events")
    events.add_argument("--from", dest="start", type=_date, metavar="YYYY-MM-DD")
    events.add_argument("--to", dest="end", type=_date, metavar="YYYY-MM-DD")
    events.add_argument("--country", action="append", default=[], metavar="ISO2", help="repeatable")
    events.add_argument("--near", metavar="PLACE:KM", help="e.g. Chernihiv:100")
    events.add_argument("--json", action="store_true", help="GeoJSON instead of a table")

    out = sub.add_parser("export", help="the view of a permalink as PNG, HTML, GeoJSON, KML, KMZ or CSV")
    out.add_argument("query", metavar="QUERY",
                     help='the permalink\'s query string, e.g. "?v=1&from=2022-06-01&ring=iskander-m@Minsk"')
    out.add_argument("--format", required=True, choices=EXPORT_FORMATS, help="what to write")
    out.add_argument("-o", "--output", required=True, metavar="FILE",
                     help="file to write; - for stdout (text formats only)")
    out.add_argument("--width", type=int, help="PNG or animation width in pixels (default: 1600, animations 1280)")
    out.add_argument("--height", type=int, help="PNG or animation height in pixels (default: 1000, animations 720)")
    out.add_argument("--step", type=_days, metavar="Nd", help="animations: days from frame to frame (default: the "
                     "link's step=, else 1d)")
    out.add_argument("--window", type=_window, metavar="Nd|all", help="animations: days in each frame, or all "
                     "(cumulative) (default: the link's window=, else 7d)")
    out.add_argument("--fps", type=int, default=4, help="animations: frames a second (default: 4)")
    out.add_argument("--title", help="title on the map and in the file (default: the selection in words)")

    imp = sub.add_parser("import", help="add events from ACLED, CSV, Excel, GeoJSON or KML to the store")
    imp.add_argument("file", metavar="FILE")
    imp.add_argument("--format", default="auto", choices=("auto", "acled", "csv", "xlsx", "geojson", "kml",
                                                          "acled-deletions", "deployments", "sites"),
                     help="acled-deletions: ACLED's table of deleted events (event_id_cnty, deleted_timestamp): "
                          "deletes them from the store, recorded and restorable; "
                          "deployments: a CSV or JSON of systems at origins over days (dated rings), not events; "
                          "sites: a CSV, Excel or GeoJSON table of sites, one ring each (a link names it sites=NAME)")
    imp.add_argument("--name", help="sites: the table's name (default: the file's name as a slug)")
    imp.add_argument("--skip-bad", action="store_true",
                     help="store the good rows and report the rest (default: all or nothing)")

    gaz = sub.add_parser("gazetteer", help="add places from a GeoNames dump (UA.zip, allCountries.txt), list, remove")
    gaz_sub = gaz.add_subparsers(dest="gazetteer_command", required=True, parser_class=_Parser)
    gaz_add = gaz_sub.add_parser("add", help="add the populated places of a GeoNames dump and rebuild the index")
    gaz_add.add_argument("file", metavar="FILE", help="GeoNames' XX.zip or XX.txt (or allCountries), as downloaded")
    gaz_sub.add_parser("list", help="the dumps added so far")
    gaz_rm = gaz_sub.add_parser("remove", help="take an added dump out again")
    gaz_rm.add_argument("name", metavar="NAME", help="as `gazetteer list` shows it, e.g. UA")

    store = sub.add_parser("store", help="move a whole store between a GeoPackage file and PostGIS")
    store_sub = store.add_subparsers(dest="store_command", required=True, parser_class=_Parser)
    copy = store_sub.add_parser("copy", help="copy every event and snapshot of SRC into a new or empty DST")
    copy.add_argument("source", metavar="SRC", help="a .gpkg file or a postgresql:// URL")
    copy.add_argument("target", metavar="DST", help="a new .gpkg file or an empty PostGIS database's URL")

    geo = sub.add_parser("geoparse", help="places, dates, systems and candidate events in an article's text")
    geo.add_argument("file", metavar="FILE|-", help="a text file, or - for standard input")
    geo.add_argument("--date", type=_date, metavar="YYYY-MM-DD", help="publication date (relative dates)")
    geo.add_argument("--json", action="store_true", help="print JSON (the only output format for now)")
    return parser


def _add_range_args(p: argparse.ArgumentParser) -> None:
    how_far = p.add_mutually_exclusive_group(required=True)
    how_far.add_argument("--km", type=float, help="radius in kilometres")
    how_far.add_argument("--system", metavar="ID", help="a catalogue system, e.g. iskander-m (its longest range)")
    p.add_argument("--min-km", type=float, help="minimum range in km: an annulus, nothing closer is in range "
                   "(default: the munition's declared one, if any)")
    p.add_argument("--places", choices=("capitals", "cities", "events", "none"), default="capitals",
                   help="what to list in range (default: capitals)")
    p.add_argument("--min-population", type=int, default=100_000, help="for --places cities")


def _date(text: str) -> date:
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date; write it YYYY-MM-DD, e.g. 2022-06-25") from None
    if not EARLIEST <= day <= LATEST:  # the same span as a permalink's from/to and the app's date fields
        raise argparse.ArgumentTypeError(f"{text!r} is outside {EARLIEST.isoformat()} to {LATEST.isoformat()}, "
                                         "the dates Reachmap shows; pick a date inside it")
    return day


def _days(text: str) -> int:
    """'7d' or '7' → 7 (1 to share.MAX_PLAY_DAYS), as a link's step= and window= read it."""
    digits = text.strip().lower().removesuffix("d")
    if digits.isascii() and digits.isdigit() and 1 <= int(digits) <= MAX_PLAY_DAYS:
        return int(digits)
    raise argparse.ArgumentTypeError(f"{text!r} is not a number of days from 1 to {MAX_PLAY_DAYS}; write e.g. 7d")


def _window(text: str) -> int:
    return 0 if text.strip().lower() == "all" else _days(text)


def main(argv: Sequence[str] | None = None, *, whole_process: bool = False) -> int:
    """Run one command; `whole_process`: this process runs nothing else (`python -m dashboard`)."""
    parser = build_parser()
    args = parser.parse_args(attach_values(points_last(sys.argv[1:] if argv is None else argv), parser))
    text_export = whole_process and args.command == "export" and args.format in ("geojson", "csv", "kml", "kmz")
    if text_export:
        gdal_without_pandas()
    try:
        if args.command == "events":
            return _events(args)
        if args.command == "export":
            return _ended(_export(args)) if text_export else _export(args)
        if args.command == "import":
            return _import(args)
        if args.command == "geoparse":
            return _geoparse(args)
        if args.command == "store":
            return _store_copy(args)
        if args.command == "gazetteer":
            return _gazetteer(args)
        if args.command == "measure":
            return _measure(args)
        if args.command == "bearing":
            return _bearing(args)
        if args.command == "launch-area":
            return _launch_area(args)
        return _range(args)
    except DashboardError as exc:
        say("error: ", exc)
        return 2
    except BrokenPipeError:  # `… | head` closed the pipe: not an error of ours
        sys.stderr.close()
        return 0


def _ended(code: int) -> int:
    """End the process that ran one text export, once its file is whole on disk (output.open_file has
    synced and renamed it), its exit functions have run (atexit: logging's flush and anything a caller
    registered) and what it printed is flushed, without tearing the interpreter down: freeing the table's
    200,000 strings, the mapped Arrow files and the modules one by one took 0.15-0.2 s of a 3 s export, for
    nothing the system does not do at once."""
    atexit._run_exitfuncs()  # what Python runs at exit before its teardown (CPython's own, kept since 2.x)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


class _Hidden:
    """A module finder that says these modules are not installed (ImportError), while it is on sys.meta_path."""

    def __init__(self, *names: str) -> None:
        self.names = names

    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in self.names:
            raise ModuleNotFoundError(f"{name} is not loaded by a text export", name=name)
        return None


def gdal_without_pandas() -> None:
    """Load Arrow and GDAL's bindings (pyogrio) with pandas and geopandas hidden, if none is loaded yet.

    Both ask once per process whether pandas (and pyogrio whether geopandas and pyproj) is installed, and
    import it to know: 0.6-0.8 s of a 3 s text export, which reads the store as Arrow and never builds a DataFrame. Told they
    are missing, Arrow converts without them and pyogrio will not make DataFrames in this process
    (`pyogrio.read_dataframe` refuses); they stay importable for anything else. Only for a process that
    runs one text export and ends (`python -m dashboard export … --format csv`).
    """
    hidden = _Hidden("pandas", "geopandas", "pyproj")  # pyogrio asks for pyproj too; geodesy loads it when needed
    if any(name in sys.modules for name in ("pyogrio", *hidden.names)):
        return
    sys.meta_path.insert(0, hidden)
    try:
        import pyarrow as pa
        import pyogrio  # noqa: F401

        pa.array([0])  # Arrow's first array is when it asks for pandas
    finally:
        sys.meta_path.remove(hidden)


def _store_copy(args: argparse.Namespace) -> int:
    from dashboard.store.copy import copy_store
    from dashboard.store.postgis import shown_url

    events, snapshots = copy_store(args.source, args.target)
    print(f"Copied {events:,} events and {snapshots:,} snapshots from {shown_url(args.source)} "
          f"to {shown_url(args.target)}.")
    return 0


def _range(args: argparse.Namespace) -> int:
    from dashboard.geoparse.regions import place_label, region_name  # the geoparser's modules: not for exports

    gazetteer = open_gazetteer()
    origin_text = args.at if args.command == "ring" else args.origin
    if args.command == "ring" and resolve_origin(origin_text, gazetteer).kind in ("country", "border"):
        raise ValidationError("--at", args.at, "is an area or line; use `reach --from` for its reach")
    ring = resolve_ring(origin_text, gazetteer, load_catalogue(), km=args.km, system=args.system or "",
                        reach=args.command == "reach", min_km=args.min_km)
    cited = {"system": ring.system, "munition": ring.munition, "range_source": ring.source.url} if ring.source else {}
    features = [_feature(ring.geometry, {"kind": ring.kind, "label": ring.label, "origin": ring.origin.name,
                                         "origin_label": place_label(ring.origin), "origin_kind": ring.origin.kind,
                                         "radius_km": ring.radius_km, "min_km": ring.min_km, **cited})]
    if args.places != "none":
        events: list | tuple = []
        if args.places == "events":
            with open_store(gazetteer=gazetteer) as store:
                path = location_of(store)
            table = EventTable.from_store(path)  # columns only: no Event object per stored event
            events = (table, np.arange(len(table)))
        kinds = {"capitals": ("capital",), "cities": ("city",), "events": ("event",)}[args.places]
        for row in in_range_rows(ring, gazetteer, events, args.min_population, kinds):
            region = region_name(row.country, row.admin1) if row.kind != "event" else row.admin1
            label = ", ".join(p for p in (row.name, region, row.country) if p) if row.kind != "event" else row.name
            features.append(_feature(Point(row.lon, row.lat), {
                "name": row.name, "label": label, "kind": row.kind, "admin1": region, "country": row.country,
                "distance_km": row.distance_km, "bearing_deg": row.bearing_deg}))
    dump_json({"type": "FeatureCollection", "features": features})
    return 0


def points_last(argv: Sequence[str]) -> list[str]:
    """`measure`'s points after "--", its flags before: argparse would take "-17.8,178.0" for an option."""
    args = list(argv)
    if not args or args[0] != "measure" or "--" in args:
        return args
    flags = [a for a in args[1:] if a.startswith("--")]
    return ["measure", *flags, "--", *(a for a in args[1:] if not a.startswith("--"))]


def _point_place(text: str, gazetteer, what: str):
    """A place or lat,lon point for measuring; an area or a border is refused (it has no one point)."""
    place = resolve_origin(text, gazetteer)
    if place.kind in ("country", "border") or place.geometry.geom_type != "Point":
        raise ValidationError(what, text, "is an area or a line; name a place or give a lat,lon point")
    return place


def _measure(args: argparse.Namespace) -> int:
    from dashboard.geodesy import NMI_KM, measure_path, split_antimeridian
    from dashboard.geoparse.regions import place_label

    gazetteer = open_gazetteer()
    places = [_point_place(text, gazetteer, "point") for text in args.points]
    legs = measure_path([p.lonlat for p in places])
    total = sum(leg.km for leg in legs)
    if args.geojson:
        features = []
        for i, (leg, a, b) in enumerate(zip(legs, places, places[1:]), 1):
            parts = split_antimeridian(leg.path)
            geometry = ({"type": "LineString", "coordinates": parts[0]} if len(parts) == 1
                        else {"type": "MultiLineString", "coordinates": parts})
            features.append({"type": "Feature", "geometry": geometry, "properties": {
                "kind": "measure", "segment": i, "from": a.name, "from_label": place_label(a), "to": b.name,
                "to_label": place_label(b), "distance_km": round(leg.km, 6), "distance_nmi": round(leg.nmi, 6),
                "bearing_deg": round(leg.bearing, 6)}})
        dump_json({"type": "FeatureCollection", "features": features, "total_km": round(total, 6),
                   "total_nmi": round(total / NMI_KM, 6)}, indent=1)
        return 0
    for i, (leg, a, b) in enumerate(zip(legs, places, places[1:]), 1):
        print(printable(f"{i}. {place_label(a)} → {place_label(b)}: {leg.km:.3f} km ({leg.nmi:.2f} nmi), "
                        f"initial bearing {leg.bearing:.1f}°"))
    print(f"Total: {total:.3f} km ({total / NMI_KM:.2f} nmi) over {len(legs)} segment{'s' * (len(legs) > 1)}")
    return 0


def _bearing(args: argparse.Namespace) -> int:
    from dashboard.export.records import bearing_geometry, bearing_record  # no folium: records is text only
    from dashboard.geoparse.regions import place_label
    from dashboard.rings import resolve_bearing

    line = resolve_bearing(args.origin, args.bearing, args.km, open_gazetteer(), args.label)
    dump_json({"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": bearing_geometry(line),
               "properties": {**bearing_record(line), "origin_label": place_label(line.origin)}}]})
    return 0
def _launch_area(args: argparse.Namespace) -> int:
    from dashboard.analysis.launch import reachers, resolve_launch, resolve_target

    gazetteer, catalogue = open_gazetteer(), load_catalogue()
    if args.list:
        listing = reachers(resolve_target(args.target, gazetteer), resolve_origin(args.territory, gazetteer),
                           catalogue)
        print(printable(listing.sentence()))
        for r in listing.rows:
            span = f"{r.min_km:g}–{r.range_km:g} km" if r.min_km else f"{r.range_km:g} km"
            print("\t".join(printable(v) for v in (r.verdict, r.system_id, r.system, r.munition, span)))
        return 0
    if args.km is None and not args.system:
        raise DashboardError("launch-area needs --km or --system (or --list, to see which systems could reach).")
    area = resolve_launch(args.target, args.territory, gazetteer, catalogue, km=args.km, min_km=args.min_km,
                          system=args.system or "", munition=args.munition)
    cited = {"system": area.system, "munition": area.munition, "range_source": area.source.url} if area.source else {}
    props = {"kind": "launch_area", "label": area.label, "target": area.target.name,
             "territory": area.territory.name, "radius_km": area.radius_km, "min_km": area.min_km,
             "area_km2": round(area.area_km2, 1), "share_of_territory": round(area.share, 4),
             "nearest_km": _km(area.nearest_km), "farthest_km": _km(area.farthest_km),
             "territory_nearest_km": _km(area.territory_nearest_km), "sentence": area.sentence(), **cited}
    features = [{"type": "Feature", "geometry": None if area.empty else mapping(area.geometry), "properties": props}]
    for kind, point, km in (("nearest_launch_point", area.nearest, area.nearest_km),
                            ("farthest_launch_point", area.farthest, area.farthest_km)):
        if point is not None:
            features.append(_feature(Point(point), {"kind": kind, "distance_km": _km(km)}))
    features.append(_feature(Point(area.target.lonlat), {"kind": "target", "name": area.target.name}))
    dump_json({"type": "FeatureCollection", "features": features})
    return 0


def _km(km: float | None) -> float | None:
    return None if km is None else round(km, 3)


def _gazetteer(args: argparse.Namespace) -> int:
    from dashboard import gazetteer

    if args.gazetteer_command == "add":
        print(printable(gazetteer.add_geonames(Path(args.file)).words))
    elif args.gazetteer_command == "remove":
        gazetteer.remove_addition(args.name)
        print(printable(f"Removed {args.name} from the gazetteer; the place index was rebuilt."))
    else:
        added = gazetteer.list_additions()
        for name, count in added:
            print(f"{name}\t{count:,} populated places")
        if not added:
            print("No GeoNames dumps added; add one with: python -m dashboard gazetteer add UA.zip")
    return 0


def _feature(geom: shapely.Geometry, properties: dict) -> dict:
    return {"type": "Feature", "geometry": mapping(geom), "properties": properties}


def _events(args: argparse.Namespace) -> int:
    from dashboard.geoparse.regions import place_label

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
        if near_km > MAX_KM:
            raise ValidationError("--near km", near_km, f"must be at most {MAX_KM:,.0f} km, as in a permalink's near")
        near = resolve_origin(name, gazetteer)
    if args.start and args.end and args.end < args.start:
        raise ValidationError("--to", args.end.isoformat(), f"is before --from {args.start.isoformat()}")
    flt = EventFilter(args.start, args.end, tuple(c.upper() for c in args.country), near, near_km)
    with open_store(gazetteer=gazetteer) as store:
        events = select_events(store, flt)
    if args.json:
        dump_json({"type": "FeatureCollection", "features": [_event_feature(e) for e in events]})
    else:
        for e in events:
            print(printable(f"{e.time.label:<34}  {e.title}  —  {place_label(e.place)}  [{e.source.publisher}]"))
            if e.source.quote:  # the sentence the event rests on, as the README promises
                print(printable(f"{'':<34}  “{e.source.quote}”"))
        print(f"{len(events)} event(s)", file=sys.stderr)
    return 0


def _event_feature(e: Event) -> dict:
    from dashboard.geoparse.regions import place_label, region_name

    return _feature(Point(e.place.lonlat), {
        "id": e.id, "title": e.title, "event_type": e.event_type, "start": e.time.start.isoformat(),
        "end": e.time.end.isoformat(), "precision": e.time.precision, "date_label": e.time.label,
        "place": e.place.name, "place_label": place_label(e.place), "place_kind": e.place.kind,
        "admin1": region_name(e.place.country, e.place.admin1) or e.place.admin1, "country": e.place.country,
        "geonameid": e.place.geonameid, "actors": list(e.actors), "description": e.description,
        "source_title": e.source.title, "source_publisher": e.source.publisher, "source_url": e.source.url,
        "source_published": e.source.published.isoformat() if e.source.published else None,
        "quote": e.source.quote,
    })


def _export(args: argparse.Namespace) -> int:
    from dashboard import export  # here, not at the top: HTML and PNG bring folium
    from dashboard.export.output import check_target

    if args.output == "-" and args.format not in export.TEXT_FORMATS:
        raise ValidationError("-o", "-", f"{args.format} is binary; give a file name")
    if args.output != "-":
        check_target(args.output)  # a FIFO, device, folder or link is refused before any work
    catalogue = load_catalogue()
    decoded = from_query(args.query, known_systems={s.id for s in catalogue.systems})
    for problem in decoded.problems:  # like the UI: say what was ignored, go on with the defaults
        say("warning: ", problem)
    if args.format == "png":
        from dashboard.export.png import start

        # Chromium comes up (its driver, the browser and a tab: about 1 s, on the other core) while the
        # gazetteer, the store's table, folium and the map load, instead of after any of them.
        with start(args.width or 1600, args.height or 1000) as ahead:
            return _export_view(args, catalogue, decoded, ahead)
    return _export_view(args, catalogue, decoded, None)


def _export_view(args: argparse.Namespace, catalogue, decoded, ahead) -> int:
    """The export of the decoded query's view from the store; `ahead`: Chromium started for a png."""
    from dashboard import export
    from dashboard.scene import names_places

    # Places are looked up for rings, a distance filter and a map's border; a text export of any other view
    # does not open the gazetteer (with the stories' places, about 0.5 s). A new store opens its own to seed.
    state = decoded.state
    gazetteer = open_gazetteer() if names_places(state) or args.format in export.PICTURES else None
    with open_store(gazetteer=gazetteer) as store:  # created and seeded if new
        path = location_of(store)
    return _export_table(args, catalogue, decoded, gazetteer, path, ahead)


def _export_table(args: argparse.Namespace, catalogue, decoded, gazetteer, path, ahead) -> int:
    """The export of the decoded query from the store at `path`; `ahead`: Chromium started for a png."""
    from dashboard import export
    from dashboard.export.output import open_file, write_file
    from dashboard.scene import load_basemap, table_scene
    from dashboard.table import EventTable

    def load(ids: list[str]):
        with open_store(path, gazetteer=gazetteer) as store:
            return store.events_by_id(ids)

    def rows(ids: list[str]):
        with open_store(path, gazetteer=gazetteer) as store:
            yield from store.record_rows(ids)

    def read_columns(ids: np.ndarray):
        with open_store(path, gazetteer=gazetteer) as store:
            yield from store.record_tables(ids)

    def columns(ids: np.ndarray):  # two parts read at once, each from its own thread's store
        from dashboard.export.records import read_in_threads

        return read_in_threads(ids, read_columns)

    # As columns, as the app reads the store: 100,000 events are not built one by one to be counted and mapped,
    # and the text formats encode the store's columns whole (StoredEvents.columns).
    scene = table_scene(decoded.state, EventTable.from_store(path), load, gazetteer, catalogue, rows)
    scene = replace(scene, events=scene.events.with_columns(columns))
    if scene.state.sites and gazetteer is not None:  # what lies in range of the site rings, for the exports
        from dashboard.scene import with_site_reach

        scene = with_site_reach(scene, gazetteer)
    for problem in scene.problems:
        say("warning: ", problem)
    if args.format in export.ANIMATIONS:  # --step/--window: the frames' days, as the link's step=/window=
        frame = scene.state.play or Frame(date(2000, 1, 1))
        frame = replace(frame, step=args.step or frame.step,
                        window=frame.window if args.window is None else args.window)
        scene = replace(scene, state=scene.state.with_(play=frame))
    elif args.step is not None or args.window is not None:
        say("warning: ", f"--step and --window are for animations (mp4, webm, gif), not {args.format}; ignored.")
    basemap = load_basemap(gazetteer) if args.format in export.PICTURES else None
    if args.format in export.PICTURES and decoded.state.base in ("osm", "satellite"):
        print(f"warning: base={decoded.state.base} is an online layer; the export opens on the offline "
              "map instead.", file=sys.stderr)
    progress = (lambda fraction, message: print(f"{fraction:4.0%}  {message}", file=sys.stderr)
                if args.format in ("png", *export.ANIMATIONS) else None)
    if args.format in export.STREAMED:  # written as it is made: 100,000 events are never one string
        if args.output == "-":
            sys.stdout.flush()
            export.stream(scene, args.format, sys.stdout.buffer, title=args.title)
            sys.stdout.buffer.flush()
        else:
            with open_file(args.output) as out:
                export.stream(scene, args.format, out, title=args.title)
    else:
        data = export.export(scene, basemap, args.format, title=args.title, width=args.width, height=args.height,
                             progress=progress, fps=args.fps, ahead=ahead)
        if args.output == "-":
            sys.stdout.buffer.write(data)
            sys.stdout.flush()
        else:
            write_file(args.output, data)
    if args.output != "-":
        launches = f", {len(scene.launches)} launch area(s)" if scene.launches else ""
        bearings = f", {len(scene.bearings)} line(s) of bearing" if scene.bearings else ""
        say("", f"{len(scene.events)} event(s), {len(scene.rings)} ring(s){launches}{bearings} written to "
                f"{args.output}")
    return 0


def _import(args: argparse.Namespace) -> int:
    from dashboard.ingest.importer import import_file

    if args.format == "deployments":
        from dashboard import settings
        from dashboard.ingest.deployments import read_deployments, save_deployments

        found = read_deployments(Path(args.file), load_catalogue())
        saved = save_deployments(found, settings.deployments_dir(), Path(args.file).stem)
        for d in found:
            print(f"{d.id}: {d.system} from {d.origin}, {d.valid.label} ({d.valid.source.publisher})")
        print(f"{len(found)} deployment(s) saved to {saved}; the rings panel offers them.")
        return 0

    if args.format == "sites":
        return _import_sites(args)
    if args.format == "acled-deletions":
        from dashboard.ingest.acled_deletions import import_deletions

        with open_store() as store:
            print(printable(import_deletions(Path(args.file), store)))
        return 0
    gazetteer = open_gazetteer()
    try:
        with open_store(gazetteer=gazetteer) as store:
            report = import_file(Path(args.file), store, gazetteer, format=args.format, skip_bad=args.skip_bad,
                                 progress=_progress_bar)
    finally:
        sys.stderr.write("\n")  # end the progress line, whatever happened
    for warning in report.warnings:
        say("warning: ", warning)
    for r in report.rejected[:50]:
        say("rejected: ", f"line {r.line}, {r.field} {r.value!r}: {r.reason}")
    if len(report.rejected) > 50:
        print(f"rejected: … and {len(report.rejected) - 50:,} more", file=sys.stderr)
    print(printable(report))
    if not report.stored and report.rejected:
        print("error: nothing was stored because some rows were rejected; fix them, or use --skip-bad to "
              "store the good rows", file=sys.stderr)
        return 2
    return 0


def _import_sites(args: argparse.Namespace) -> int:
    import time

    from dashboard import settings
    from dashboard.ingest.sites import read_sites, save_sites, table_name

    started = time.perf_counter()
    name = table_name(args.name or Path(args.file).stem)  # a bad --name is refused before the file is read
    found = read_sites(Path(args.file), open_gazetteer(), load_catalogue())
    saved = save_sites(found, settings.sites_dir(), name)
    for s in found:
        what = f"{s.km:g} km" if s.km is not None else s.system
        days = f", {s.valid.label}" if s.valid else ""
        print(printable(f"{s.name}: {what} at {s.lat:.4f},{s.lon:.4f} ({s.located}){days} [{s.source.publisher}]"))
    print(f"{len(found)} site(s) saved as the table {name} to {saved} in {time.perf_counter() - started:.1f} s; "
          f"show them with the link sites={name}.")
    return 0


def _progress_bar(fraction: float, message: str) -> None:
    done = int(max(0.0, min(fraction, 1.0)) * 30)
    sys.stderr.write(f"\r[{'#' * done}{'.' * (30 - done)}] {fraction:4.0%} {message[:60]:<60}")
    sys.stderr.flush()


def _geoparse(args: argparse.Namespace) -> int:
    from dashboard.geoparse import Geoparser

    if args.file == "-":
        raw = sys.stdin.buffer.read()
    else:
        try:
            raw = Path(args.file).read_bytes()
        except OSError as exc:
            raise DashboardError(f"Cannot read {args.file}: {exc.strerror}.") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationError("text", args.file, "is not UTF-8 text; save the article as plain UTF-8 text") from None
    result = Geoparser(open_gazetteer(), load_catalogue()).parse(text, args.date)
    dump_json(result.to_json(), indent=1)
    return 0
