"""Tables of sites from a file of one's own: one ring per row, as ArcGIS's "range rings from features".

    python -m dashboard import sites-belarus.csv --format sites [--name belarus-bases]

A CSV, an Excel workbook (.xlsx, its first sheet with a header) or a GeoJSON file of Point features, one
site a row. Columns are found by their normalised header (case, spaces and hyphens ignored):

    name          name, site, site_name                                           required
    where         lat + lon (lat, latitude / lon, lng, longitude), a GeoJSON Point, or a place name
                  (place, location, town, city, base, airfield) looked up in the gazetteer, in the
                  row's country (country, country_code) when there is one           required
    how far       system (a catalogue id or alias: iskander-m, S-400) or radius_km (km, range_km)
                  or both (the radius wins; the system names the ring)             required
    min_km        the minimum range (min_range_km, minimum_km), less than the radius
    from, until   the days the site is reported (YYYY-MM-DD, either open); approximate 1/true for vague words
    source        source_title (article_title), source_publisher (publisher, outlet), source_url (url),
                  source_published (published), quote: title, publisher and quote are required, as for events
    note          how the row was made (note, notes)

Every row is checked (coordinates, the place in the gazetteer, the system against the catalogue, numbers,
days, the source and its quote); one bad row refuses the whole file with one sentence naming its line,
field and value and what to do, and nothing is saved. A table is kept as a GeoJSON file of its sites in the
data folder's `sites/` (settings.sites_dir) under a name (the file's name as a slug, or `--name`);
importing a table of the same name again replaces it whole. A link names it: `sites=NAME` (share.py).
GeoJSON is read by GDAL with the importers' guards (ingest.limits: no links, no network, no sidecars).
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from dashboard.errors import DashboardError, ValidationError
from dashboard.gazetteer import Gazetteer
from dashboard.ingest.geofile import read_geofile
from dashboard.ingest.rows import clean_table
from dashboard.ingest.story import parse_date
from dashboard.ingest.table import Table, check_size, container, read_csv, read_head, read_xlsx
from dashboard.model import Catalogue, Site, Source, Validity

NAME = ("name", "site", "site_name")
LAT = ("lat", "latitude", "y")
LON = ("lon", "lng", "long", "longitude", "x")
PLACE = ("place", "location", "town", "city", "base", "airfield", "place_name")
COUNTRY = ("country", "country_code", "iso2")
SYSTEM = ("system", "system_id", "weapon")
RADIUS = ("radius_km", "km", "range_km", "radius")
MIN_KM = ("min_km", "min_range_km", "minimum_km", "minimum_range_km")
FROM = ("from", "since", "valid_from", "start")
UNTIL = ("until", "to", "valid_until", "end")
APPROXIMATE = ("approximate",)
SOURCE_TITLE = ("source_title", "article_title")
PUBLISHER = ("source_publisher", "publisher", "outlet")
URL = ("source_url", "url", "link")
PUBLISHED = ("source_published", "published", "publication_date")
QUOTE = ("quote", "excerpt", "citation")
NOTE = ("note", "notes")

MAX_SITES = 500  # rows of one table: each is a ring on the map
SLUG = re.compile(r"[a-z0-9](?:[a-z0-9-]{0,58}[a-z0-9])?", re.ASCII)
_TRUE, _FALSE = ("1", "true", "yes"), ("", "0", "false", "no")
_NUMBER = re.compile(r"\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)\s*", re.ASCII)
SUFFIX = ".geojson"


@dataclass(frozen=True)
class SiteTable:
    """A stored table of sites under its name (a slug), in the order of its file."""

    name: str
    sites: tuple[Site, ...]

    def systems(self) -> tuple[str, ...]:
        """The catalogue ids its sites name, sorted."""
        return tuple(sorted({s.system for s in self.sites if s.system}))


def table_name(text: str) -> str:
    """A table's name from a file name or a typed one: 'Sites Belarus (2023).csv' stem → 'sites-belarus-2023'."""
    slug = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60].strip("-")
    if not slug:
        raise DashboardError(f"The name {text[:60]!r} has no letter or digit; give the table a name such as "
                             "belarus-bases.")
    return slug


def read_sites(path: Path, gazetteer: Gazetteer, catalogue: Catalogue) -> tuple[Site, ...]:
    """Every site of a CSV, Excel or GeoJSON file, each row checked; DashboardError naming line, field, value."""
    path = Path(path)
    name = path.name
    check_size(path)
    kind = container(read_head(path), path)
    geometries = None
    if kind == "xlsx":
        table = read_xlsx(path, name)
    elif kind == "kmz":
        raise DashboardError(f"The sites file {name} is KMZ; export the sites as CSV, Excel or GeoJSON.")
    elif path.suffix.lower() in (".geojson", ".json"):
        table, geometries = read_geofile(path, name, "geojson")
    else:
        table = read_csv(path, name)
    table = clean_table(table)
    if table.problems:  # rows the reader could not use (a NUL inside a GeoJSON text)
        i, (field, value, reason) = min(table.problems.items())
        raise DashboardError(f"In the sites file {name}, {_where(table, i, geometries)}: {field} {value!r}: {reason}.")
    if len(table) == 0:
        raise DashboardError(f"The sites file {name} holds no rows; give one site a row under a header.")
    if len(table) > MAX_SITES:
        raise DashboardError(f"The sites file {name} holds {len(table):,} rows, more than the {MAX_SITES} one "
                             "table may draw; split it into tables of fewer sites.")
    columns = _columns(table, name, geometries is not None)
    return tuple(_site(table, i, columns, geometries, gazetteer, catalogue) for i in range(len(table)))


def _columns(table: Table, name: str, has_geometry: bool) -> dict[str, str | None]:
    found = {key: table.find(*keys) for key, keys in (
        ("name", NAME), ("lat", LAT), ("lon", LON), ("place", PLACE), ("country", COUNTRY), ("system", SYSTEM),
        ("km", RADIUS), ("min_km", MIN_KM), ("from", FROM), ("until", UNTIL), ("approximate", APPROXIMATE),
        ("source_title", SOURCE_TITLE), ("publisher", PUBLISHER), ("url", URL), ("published", PUBLISHED),
        ("quote", QUOTE), ("note", NOTE))}
    missing = [words for words, ok in (
        ("name", found["name"]), ("lat and lon, or place", has_geometry or found["place"] or (found["lat"] and found["lon"])),
        ("system or radius_km", found["system"] or found["km"]), ("source_title", found["source_title"]),
        ("source_publisher", found["publisher"]), ("quote", found["quote"])) if not ok]
    if missing:
        raise DashboardError(f"The sites file {name} has no column {', '.join(missing)}; its header must name name, "
                             "lat and lon (or place), system (or radius_km), source_title, source_publisher and "
                             "quote, and may name country, min_km, from, until, approximate, source_url, "
                             "source_published and note.")
    return found


def _where(table: Table, i: int, geometries) -> str:
    return f"{'feature' if geometries is not None else 'line'} {int(table.lines[i])}"


def _site(table: Table, i: int, col: dict[str, str | None], geometries, gazetteer: Gazetteer,
          catalogue: Catalogue) -> Site:
    where = _where(table, i, geometries)
    row = {key: (str(table.frame.at[i, column]).strip() if column is not None else "") for key, column in col.items()}

    def refuse(field: str, value: str, what: str) -> DashboardError:
        shown = value if len(value) <= 60 else value[:57] + "..."
        return DashboardError(f"In the sites file {table.name}, {where}: {field} {shown!r} {what}.")

    for key, words in (("name", "name"), ("source_title", "source_title"), ("publisher", "source_publisher"),
                       ("quote", "quote")):
        if not row[key]:
            raise refuse(col[key] or words, "", "is empty; every site needs its name, source title, publisher and "
                                                "the quote that places it")
    lon, lat, located = _location(row, col, i, geometries, gazetteer, refuse)
    system = ""
    if row["system"]:
        try:
            system = catalogue.get(row["system"]).id
        except ValidationError as exc:
            raise refuse(col["system"], row["system"], f"is not in the catalogue ({exc.reason}); write a catalogue "
                                                        "id, or give radius_km instead") from None
    km = _km(row, col, "km", refuse)
    min_km = _km(row, col, "min_km", refuse, zero=True)
    if km is None and not system:
        raise refuse(col["km"] or col["system"] or "system", "", "is empty; give each site a system or a radius_km")
    outer = km
    if outer is None:
        ranges = [m.range_km for m in catalogue.get(system).munitions]
        if not ranges:
            raise refuse(col["system"], row["system"], "has no declared range in the catalogue; give radius_km")
        outer = max(ranges)
    if min_km is not None and min_km >= outer:
        raise refuse(col["min_km"], row["min_km"], f"is not less than the ring's radius {outer:g} km; the minimum "
                                                    "range must be shorter than the range")
    days = {}
    for key in ("from", "until", "published"):
        try:
            days[key] = parse_date(row[key] or None, key)
        except ValidationError:
            raise refuse(col[key], row[key], "is not a date; write it YYYY-MM-DD, e.g. 2023-03-01") from None
    approximate = row["approximate"].lower()
    if approximate not in _TRUE + _FALSE:
        raise refuse(col["approximate"], row["approximate"], "must be 1 or 0 (true or false)")
    try:
        source = Source(row["source_title"], row["publisher"], row["url"], days["published"], row["quote"])
        valid = (Validity(days["from"], days["until"], approximate in _TRUE, source, row["note"])
                 if days["from"] or days["until"] else None)
        return Site(row["name"], lon, lat, located, source, system, km, min_km, valid, row["note"])
    except ValidationError as exc:
        field = {"source.url": col["url"], "valid.end": col["until"]}.get(exc.field, exc.field)
        raise refuse(field, str(exc.value), exc.reason) from None


def _location(row: dict, col: dict, i: int, geometries, gazetteer: Gazetteer, refuse) -> tuple[float, float, str]:
    """(lon, lat, how it was found): the row's point, its coordinates, or its place in the gazetteer."""
    if geometries is not None and geometries[i] is not None:
        geom = geometries[i]
        if geom.geom_type != "Point":
            raise refuse("geometry", geom.geom_type, "is not a Point; a site is one point (give its centre)")
        return float(geom.x), float(geom.y), "source coordinates"
    if row["lat"] or row["lon"]:
        values = []
        for key, limit in (("lat", 90), ("lon", 180)):
            text = row[key]
            number = float(text) if _NUMBER.fullmatch(text) else math.nan
            if not -limit <= number <= limit:
                raise refuse(col[key] or key, text, f"is not a {'latitude' if key == 'lat' else 'longitude'}; write "
                                                    f"decimal degrees from -{limit} to {limit}, e.g. 53.30")
            values.append(number)
        return values[1], values[0], "source coordinates"
    if not row["place"]:
        raise refuse(col["place"] or "place", "", "is empty; give the site's lat and lon or a place name")
    country = None
    if row["country"]:
        found = gazetteer.lookup(row["country"], kinds=("country",), limit=1)
        if not found:
            raise refuse(col["country"], row["country"], "is not a country; write an ISO code like BY or a name like "
                                                          "Belarus")
        country = found[0].country
    candidates = gazetteer.lookup(row["place"], country=country, kinds=("city",), limit=1)
    if not candidates:
        suggestions = gazetteer.suggest(row["place"], country=country)
        hint = f"did you mean {', '.join(suggestions)}?" if suggestions else "check the spelling, or give lat and lon"
        where = f" in {country}" if country else ""
        raise refuse(col["place"], row["place"], f"is not a place{where} in the gazetteer; {hint}")
    c = candidates[0]
    return float(c.lon), float(c.lat), f"gazetteer: {c.name}, {c.country} ({c.key})"


def _km(row: dict, col: dict, key: str, refuse, zero: bool = False) -> float | None:
    text = row[key]
    if not text:
        return None
    number = float(text) if _NUMBER.fullmatch(text) else math.nan
    if not (number >= 0 if zero else number > 0) or number > 19_950:
        low = "0 or more" if zero else "greater than 0"
        raise refuse(col[key], text, f"is not a distance; write kilometres {low} and at most 19,950, e.g. 500")
    return round(number, 2)


# -- storage ------------------------------------------------------------------------------------------

def save_sites(sites: tuple[Site, ...], folder: Path, name: str) -> Path:
    """Write the sites as `<folder>/<name>.geojson` (a FeatureCollection of Points), whole or not at all:
    a table of the same name is replaced in one step (os.replace)."""
    name = table_name(name)
    folder.mkdir(parents=True, exist_ok=True)
    features = [{"type": "Feature", "geometry": {"type": "Point", "coordinates": [s.lon, s.lat]},
                 "properties": site_record(s)} for s in sites]
    target = folder / f"{name}{SUFFIX}"
    fd, tmp = tempfile.mkstemp(prefix=target.name + ".", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump({"type": "FeatureCollection", "name": name, "features": features}, f, ensure_ascii=False,
                      indent=1)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def site_record(s: Site) -> dict:
    """A site's fields as JSON-ready values: what a stored table holds and what exports carry."""
    src, valid = s.source, s.valid
    return {"name": s.name, "system": s.system, "radius_km": s.km, "min_km": s.min_km, "located": s.located,
            "from": valid.start.isoformat() if valid and valid.start else None,
            "until": valid.end.isoformat() if valid and valid.end else None,
            "approximate": bool(valid and valid.approximate), "source_title": src.title,
            "source_publisher": src.publisher, "source_url": src.url,
            "source_published": src.published.isoformat() if src.published else None, "quote": src.quote,
            "note": s.note}


def site_tables(folder: Path) -> tuple[str, ...]:
    """The names of the tables stored in `folder`, sorted (none when it does not exist)."""
    try:
        return tuple(sorted(p.name.removesuffix(SUFFIX) for p in folder.glob(f"*{SUFFIX}")
                            if SLUG.fullmatch(p.name.removesuffix(SUFFIX))))
    except OSError:
        return ()


def load_sites(folder: Path, name: str) -> SiteTable:
    """The stored table `name`; DashboardError naming the stored ones when there is none of that name."""
    path = folder / f"{name}{SUFFIX}"
    if not SLUG.fullmatch(name) or not path.is_file():
        stored = site_tables(folder)
        known = f"stored tables: {', '.join(stored)}" if stored else "none is stored yet"
        raise DashboardError(f"No site table called {name[:60]!r} ({known}); import one with "
                             "python -m dashboard import FILE --format sites.")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return SiteTable(name, tuple(_stored_site(f["geometry"]["coordinates"], f["properties"])
                                     for f in data["features"]))
    except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
        raise DashboardError(f"The stored site table {name} ({path}) cannot be read ({type(exc).__name__}: "
                             f"{str(exc)[:120]}); import its file again.") from None


def _stored_site(coordinates: list, p: dict) -> Site:
    day = date.fromisoformat
    source = Source(p["source_title"], p["source_publisher"], p.get("source_url") or "",
                    day(p["source_published"]) if p.get("source_published") else None, p["quote"])
    start, end = (day(p[k]) if p.get(k) else None for k in ("from", "until"))
    valid = Validity(start, end, bool(p.get("approximate")), source, p.get("note") or "") if start or end else None
    return Site(p["name"], float(coordinates[0]), float(coordinates[1]), p.get("located") or "", source,
                p.get("system") or "", p.get("radius_km"), p.get("min_km"), valid, p.get("note") or "")
