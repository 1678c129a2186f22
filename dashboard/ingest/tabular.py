"""Generic event tables — CSV, Excel, and the properties of GeoJSON/KML features — mapped by column names.

Columns are found by their normalised header (case, spaces and hyphens ignored), first name listed wins:

    latitude    lat, latitude, y            longitude  lon, lng, long, longitude, x
    place name  place, location, city, town, village, place_name, locality, settlement (else name)
    date        date, event_date, day, when, start, start_date, date_start, from, begin, timestamp
    end date    end, end_date, date_end, to, until
    title       title, headline, event, event_title, summary (else name)
    type        type, event_type, category, kind       description  description, notes, note, details, text
    publisher   publisher, source, outlet, source_name  source title source_title, article_title
    url         url, link, source_url, href             quote        quote, excerpt, citation
    published   published, publication_date, source_date, date_published
    actors      actors, actor, actor1, actor2, assoc_actor_1, assoc_actor_2 (';'-separated)
    country     country, country_code, iso2, cc         admin1       admin1, region, province, oblast, state
    id          id, event_id, uid

Rows with coordinates (or a geometry) are placed there; rows with only a place name are resolved through
the gazetteer (restricted to the row's country if there is a country column), and every distinct name is
returned as a PlaceMatch for review. Without an id column, an event's id is "row:" + a hash of the row's
content (dates and coordinates in canonical form, so re-saving the file changes nothing): re-importing the
same rows updates them in place. Columns not used above are kept in the event's attributes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from datetime import date
from itertools import compress
from urllib.parse import urlparse

import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from dashboard.errors import DashboardError, ValidationError
from dashboard.gazetteer import Candidate, Gazetteer
from dashboard.ingest.dates import ParsedDates
from dashboard.ingest.rows import (Built, Checks, Parsed, PlaceMatch, check_coordinates, check_dates, check_table,
                                   chunked_rows, split_names, stripped)
from dashboard.ingest.table import Table, header_key
from dashboard.model import Event, Place, Source, TimeSpan

LAT = ("lat", "latitude", "y")
LON = ("lon", "lng", "long", "longitude", "x")
PLACE = ("place", "location", "city", "town", "village", "place_name", "locality", "settlement")
DATE = ("date", "event_date", "day", "when", "start", "start_date", "date_start", "from", "begin", "timestamp")
END = ("end", "end_date", "date_end", "to", "until")
TITLE = ("title", "headline", "event", "event_title", "summary")
TYPE = ("type", "event_type", "category", "kind")
DESCRIPTION = ("description", "notes", "note", "details", "text")
PUBLISHER = ("publisher", "source", "outlet", "source_name")
SOURCE_TITLE = ("source_title", "article_title")
URL = ("url", "link", "source_url", "href")
QUOTE = ("quote", "excerpt", "citation")
PUBLISHED = ("published", "publication_date", "source_date", "date_published")
ACTORS = ("actors", "actor", "actor1", "actor2", "assoc_actor_1", "assoc_actor_2")
COUNTRY = ("country", "country_code", "iso2", "cc")
ADMIN1 = ("admin1", "region", "province", "oblast", "state")
ID = ("id", "event_id", "uid")
DEFAULT_TYPE = "event"
MAX_ALTERNATIVES = 4


def parse_tabular(table: Table, gazetteer: Gazetteer, name: str, fmt: str,
                  place_choices: dict[str, str] | None = None,
                  geometries: Sequence[BaseGeometry | None] | None = None,
                  ignored: frozenset[str] = frozenset()) -> Parsed:
    """Check every row of a generic table and return how to build its events.

    `geometries` (GeoJSON/KML) replaces latitude/longitude columns; `ignored` are normalised column names
    that are neither mapped nor kept (KML styling fields).
    """
    frame, n = table.frame, len(table)
    col, has_coords = _find_columns(table, geometries is not None)
    _check_usable(table, name, col, has_coords)
    actor_columns = [c for c in (table.find(k) for k in ACTORS) if c is not None]
    used = {c for c in col.values() if c is not None} | set(actor_columns)
    extra_columns = [c for c in frame.columns if c not in used and header_key(c) not in ignored]

    text = {key: stripped(frame, column) for key, column in col.items()}
    text["description"] = text["description"].str.replace("\r\n", "\n", regex=False)
    checks = Checks(table.lines)
    place_text = text["place"]
    unusable = check_table(checks, table)
    lat, lon, needs_name = _check_locations(checks, text, col, has_coords, geometries)
    starts = check_dates(checks, text["date"], col["date"])
    ends = _check_end(checks, text["end"], col["end"], starts) if col["end"] else None
    if col["title"]:
        checks.reject((text["title"] == "").to_numpy(), col["title"], text["title"].tolist(), "missing title")
    if col["url"]:
        urls = text["url"]
        bad_url = ~urls.str.match(r"(?i)^https?://[^\s/]+").to_numpy() & (urls != "").to_numpy()
        checks.reject(bad_url, col["url"], urls.tolist(), "must be an http(s) link, like https://example.org/report")
    published = _check_published(checks, text["published"], col["published"]) if col["published"] else None
    countries = _check_countries(checks, text["country"], col["country"], gazetteer)

    matches, resolved = _resolve_names(checks, place_text, countries, needs_name & ~unusable, col, gazetteer,
                                       place_choices or {}, bool(col["country"]))
    canonical = {c for c in (col["date"], col["end"], col["lat"], col["lon"]) if c}  # hashed in canonical form
    ids = _event_ids(frame, text["id"], starts, ends, lat, lon, geometries, checks.bad, canonical)
    checks.duplicates(ids, col["id"] or "id", "the same id" if col["id"] else "the same content")

    date_order = starts.order
    warnings = list(table.warnings)
    if date_order == "ambiguous":
        warnings.append(f"Every date in {col['date']} reads both day-first and month-first (like 03/04/2022); "
                        "they were read day-first (3 April). If they are month-first, rewrite them as YYYY-MM-DD.")
    bad = checks.bad

    def build() -> Iterator[Built]:
        places: dict[str, Place] = {}
        spans: dict[tuple, TimeSpan] = {}
        nothing = [None] * n
        columns = [ids, table.lines, lat, lon, place_text, countries, text["admin1"], starts.start, starts.end,
                   starts.precision, ends.start if ends is not None else nothing,
                   ends.end if ends is not None else nothing, text["title"], text["type"], text["description"],
                   text["publisher"], text["source_title"], text["url"], text["quote"], published or nothing,
                   resolved, geometries if geometries is not None else nothing,
                   *(stripped(frame, c) for c in actor_columns), *(stripped(frame, c) for c in extra_columns)]
        for i, (event_id, line, y, x, place_name, country, admin1, start, start_end, precision, end_start, end,
                title, kind, description, publisher, source_title, url, quote, published_on, candidate, geometry,
                *rest) in chunked_rows(n, columns):
            actors, extra = rest[:len(actor_columns)], rest[len(actor_columns):]
            if bad[i]:
                continue
            try:
                place = _place(places, gazetteer, candidate, geometry, y, x, place_name, country, admin1, line)
                if end is not None and end_start is not None:
                    span_key = (start, end, "span" if end != start else precision)
                else:
                    span_key = (start, start_end, precision)
                span = spans.get(span_key) or spans.setdefault(span_key, TimeSpan(*span_key))
                kind = kind or DEFAULT_TYPE
                domain = (urlparse(url).hostname or "") if url else ""
                where = "feature" if fmt in ("geojson", "kml") else "line"
                yield i, Event(
                    id=event_id, title=title or f"{kind[:1].upper()}{kind[1:]} in {place.name}", event_type=kind,
                    time=span, place=place,
                    source=Source(source_title or f"{name}, {where} {line}", publisher or domain or name, url,
                                  published_on, quote),
                    description=description, actors=split_names(*actors),
                    attributes=tuple(compress(zip(extra_columns, extra), extra)),
                )
            except ValidationError as exc:
                yield i, exc

    return Parsed(fmt, n, table.lines, checks.bad, checks.rejected, build, matches=matches,
                  date_order=date_order, warnings=tuple(warnings),
                  columns=tuple((k, v) for k, v in col.items() if v)
                  + ((("actors", ", ".join(actor_columns)),) if actor_columns else ()))


def _find_columns(table: Table, has_geometry: bool) -> tuple[dict[str, str | None], bool]:
    """The file's column for each field (None where absent), and whether rows carry coordinates."""
    def found(keys: tuple[str, ...]) -> str | None:
        return table.find(*keys)

    col: dict[str, str | None] = {
        "lat": found(LAT), "lon": found(LON), "place": found(PLACE), "date": found(DATE), "end": found(END),
        "title": found(TITLE), "type": found(TYPE), "description": found(DESCRIPTION),
        "publisher": found(PUBLISHER), "source_title": found(SOURCE_TITLE), "url": found(URL),
        "quote": found(QUOTE), "published": found(PUBLISHED), "country": found(COUNTRY), "admin1": found(ADMIN1),
        "id": found(ID),
    }
    has_coords = has_geometry or (col["lat"] is not None and col["lon"] is not None)
    if has_geometry:
        col["lat"] = col["lon"] = None
    name_column = table.find("name")
    if name_column is not None and name_column not in col.values():
        if not has_coords and col["place"] is None:
            col["place"] = name_column  # a list of names without coordinates: names of places
        elif col["title"] is None:
            col["title"] = name_column  # a KML placemark's or a feature's name
    return col, has_coords


def _check_locations(checks: Checks, text: dict[str, pd.Series], col: dict[str, str | None], has_coords: bool,
                     geometries: Sequence[BaseGeometry | None] | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Latitudes, longitudes (NaN where absent) and the rows to place by name; bad locations rejected."""
    place_text = text["place"]
    n = len(place_text)
    no_coords = np.full(n, geometries is None)
    if geometries is not None:
        _check_geometries(checks, geometries)
    elif has_coords:
        lat, lon = check_coordinates(checks, text["lat"], text["lon"], col["lat"], col["lon"],
                                     required=np.zeros(n, dtype=bool))
        lat_empty, lon_empty = (text["lat"] == "").to_numpy(), (text["lon"] == "").to_numpy()
        checks.reject(lat_empty & ~lon_empty, col["lat"], text["lat"].tolist(), "missing latitude")
        checks.reject(lon_empty & ~lat_empty, col["lon"], text["lon"].tolist(), "missing longitude")
        no_coords = lat_empty & lon_empty
        no_place = no_coords & (place_text == "").to_numpy()
        checks.reject(no_place, col["place"] or col["lat"], place_text.tolist(),
                      "missing location: no coordinates" + (" and no place name" if col["place"] else ""))
        return lat, lon, no_coords & ~no_place
    else:
        checks.reject((place_text == "").to_numpy(), col["place"], place_text.tolist(), "missing place name")
    nothing = np.full(n, np.nan)
    return nothing, nothing.copy(), no_coords & (place_text != "").to_numpy()


def _check_usable(table: Table, name: str, col: dict[str, str | None], has_coords: bool) -> None:
    shown = ", ".join(_short(str(c)) for c in table.frame.columns[:12]) or "none"
    if not has_coords and col["place"] is None:
        raise DashboardError(
            f"The file {name} has no usable location columns (found: {shown}); add latitude and longitude "
            f"columns (lat/latitude, lon/lng/longitude) or a place-name column (place, location, city).")
    if col["date"] is None:
        raise DashboardError(f"The file {name} has no date column (found: {shown}); add one named date or "
                             f"event_date, with dates like 2022-06-25.")


def _short(text: str, limit: int = 40) -> str:
    """A column name as a message shows it: at most `limit` characters, no direction overrides."""
    text = "".join(c for c in text if c not in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _check_geometries(checks: Checks, geometries: Sequence[BaseGeometry | None]) -> None:
    for i, geometry in enumerate(geometries):
        if checks.bad[i]:
            continue  # the reader said why already
        if geometry is None or geometry.is_empty:
            checks.reject_row(i, "geometry", "", "missing geometry")
            continue
        minx, miny, maxx, maxy = geometry.bounds
        if not (-180 <= minx <= maxx <= 180 and -90 <= miny <= maxy <= 90):
            checks.reject_row(i, "geometry", f"{geometry.geom_type} with bounds {minx:g}, {miny:g}, {maxx:g}, "
                              f"{maxy:g}", "coordinates out of range: longitude must be within ±180 and "
                              "latitude within ±90 (is the file in another projection?)")


def _check_end(checks: Checks, text: pd.Series, column: str, starts: ParsedDates) -> ParsedDates:
    ends = check_dates(checks, text, column, required=False)
    before = ends.ok & starts.ok & (ends.end < starts.start)
    start_text = [str(d) for d in starts.start]
    values = text.tolist()
    for i in np.flatnonzero(before):
        checks.reject_row(int(i), column, values[i], f"end is before the start {start_text[i]}")
    return ends


def _check_published(checks: Checks, text: pd.Series, column: str) -> list[date | None]:
    parsed = check_dates(checks, text, column, required=False)
    return [d if p == "day" else None for d, p in zip(parsed.start.tolist(), parsed.precision.tolist())]


def _check_countries(checks: Checks, text: pd.Series, column: str | None, gazetteer: Gazetteer) -> list[str]:
    """ISO2 codes from a country column of codes or names; unknown countries are rejected."""
    if column is None:
        return [""] * len(text)
    codes: dict[str, str | None] = {}
    for value in dict.fromkeys(text.tolist()):
        if not value:
            codes[value] = ""
            continue
        found = gazetteer.lookup(value, kinds=("country",), limit=1)
        codes[value] = found[0].country if found else None
    values = text.tolist()
    unknown = np.array([codes[v] is None for v in values], dtype=bool)
    checks.reject(unknown, column, values, "unknown country: write an ISO code like UA or a name like Ukraine")
    return [codes[v] or "" for v in values]


def _resolve_names(checks: Checks, place_text: pd.Series, countries: list[str], needs_name: np.ndarray,
                   col: dict[str, str | None], gazetteer: Gazetteer, choices: dict[str, str],
                   by_country: bool) -> tuple[tuple[PlaceMatch, ...], list[Candidate | None]]:
    """Look each distinct (name, country) up once; reject rows whose name is unknown or was left out."""
    names = place_text.tolist()
    rows_of: dict[tuple[str, str], list[int]] = {}
    for i in np.flatnonzero(needs_name):
        rows_of.setdefault((names[i], countries[i]), []).append(int(i))
    resolved: list[Candidate | None] = [None] * len(names)
    matches = []
    field_name = col["place"] or "place"
    for (place_name, country), rows in rows_of.items():
        key = f"{place_name} ({country})" if by_country and country else place_name
        found = gazetteer.lookup(place_name, country=country or None, limit=1 + MAX_ALTERNATIVES + 5)
        match = PlaceMatch(key, place_name, country, len(rows), found[0] if found else None,
                           tuple(found[1:1 + MAX_ALTERNATIVES]), _confidence(found))
        matches.append(match)
        chosen = match.chosen
        if key in choices or place_name in choices:
            wanted = choices.get(key, choices.get(place_name))
            chosen = _chosen(wanted, found, gazetteer, key) if wanted else None
            if chosen is None:
                for i in rows:
                    checks.reject_row(i, field_name, place_name, "left out in the review of place names")
                continue
        if chosen is None:
            where = f" in {country}" if country else ""
            suggestions = gazetteer.suggest(place_name, country=country or None)
            hint = (f"did you mean {', '.join(suggestions)}?" if suggestions
                    else "check the spelling, or give coordinates")
            for i in rows:
                checks.reject_row(i, field_name, place_name, f"unknown place: no place of that name{where} in the "
                                                             f"gazetteer; {hint}")
            continue
        for i in rows:
            resolved[i] = chosen
    return tuple(matches), resolved


def _chosen(wanted: str, found: list[Candidate], gazetteer: Gazetteer, key: str) -> Candidate:
    for candidate in found:
        if candidate.key == wanted:
            return candidate
    if wanted.startswith("geonames:") and wanted.removeprefix("geonames:").isdigit():
        candidate = gazetteer.get(int(wanted.removeprefix("geonames:")))
        if candidate is not None:
            return candidate
    raise DashboardError(f"The place chosen for {key!r} ({wanted!r}) is not a gazetteer key; choose one of the "
                         f"candidates shown in the preview, like {found[0].key if found else 'geonames:710071'}.")


def _confidence(found: list[Candidate]) -> float:
    """1.0 when one candidate stands out; lower as the runner-up's score comes close (0 with none)."""
    if not found:
        return 0.0
    if len(found) == 1:
        return 1.0
    gap = found[0].score - found[1].score
    return round(min(1.0, max(0.05, gap / 2.0)), 2)


def _place(cache: dict[str, Place], gazetteer: Gazetteer, candidate: Candidate | None,
           geometry: BaseGeometry | None, lat: float, lon: float, name: str, country: str, admin1: str,
           line: int) -> Place:
    if candidate is not None:
        place = cache.get(candidate.key)
        if place is None:
            place = cache[candidate.key] = gazetteer.place_for(candidate)
        return place
    if geometry is not None:
        if geometry.geom_type == "Point":
            lon, lat = geometry.x, geometry.y
        else:
            digest = hashlib.sha256(shapely.to_wkb(geometry, byte_order=1, flavor="iso")).hexdigest()[:16]
            label = name or f"{geometry.geom_type} of feature {line}"
            key = f"import:{label}#{digest}"
            place = cache.get(key)
            if place is None:
                place = cache[key] = Place(key, label, "point", geometry, country=country, admin1=admin1)
            return place
    label = name or f"{lat:.5f}, {lon:.5f}"
    key = f"import:{name}@{lat:.5f},{lon:.5f}"
    place = cache.get(key)
    if place is None:
        place = cache[key] = Place.at(key, label, "point", lon, lat, country=country, admin1=admin1)
    return place


def _event_ids(frame: pd.DataFrame, given: pd.Series, starts: ParsedDates, ends: ParsedDates | None,
               lat: np.ndarray, lon: np.ndarray, geometries: Sequence[BaseGeometry | None] | None,
               bad: np.ndarray, canonical_columns: set[str]) -> list[str]:
    """The id column's value, else "row:" + sha256 of the row's cells in canonical form (24 hex digits)."""
    given_ids = given.tolist()
    if all(given_ids):
        return given_ids
    keys = [header_key(c) for c in frame.columns]
    order = sorted((j for j, c in enumerate(frame.columns) if c not in canonical_columns), key=keys.__getitem__)
    cells = [frame[frame.columns[j]].astype(str).str.strip().tolist() for j in order]
    canonical = [f"{s}/{e}" for s, e in zip(starts.start.tolist(), starts.end.tolist())]
    if ends is not None:
        canonical = [f"{c}/{e}" for c, e in zip(canonical, ends.end.tolist())]
    ids = []
    for i, given_id in enumerate(given_ids):
        if given_id or bad[i]:
            ids.append(given_id)
            continue
        parts = [canonical[i], f"{lat[i]:.6f},{lon[i]:.6f}"]
        if geometries is not None and geometries[i] is not None:
            parts.append(shapely.to_wkb(geometries[i], hex=True, byte_order=1, flavor="iso"))
        parts.extend(f"{keys[j]}={column[i]}" for j, column in zip(order, cells) if column[i])
        ids.append("row:" + hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:24])
    return ids
