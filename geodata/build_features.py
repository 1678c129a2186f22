"""Build geodata/features.geojson: seas, straits, peninsulas, macro-regions and continents for the gazetteer.

    python geodata/build_features.py [--ne-repo PATH]

News names places that are not settlements, admin regions or countries: "the Black Sea", "the Sea of
Azov", "the Crimean Peninsula", "the Baltic states", "Eastern Europe", "Europe". Each feature gets a kind
(`physical`, `region`, `continent`), its names, a representative point and, where one exists, a polygon:

* Natural Earth 1:10m marine areas (seas, gulfs, bays, straits, lagoons, channels, sounds, oceans) and
  geography regions (continents, peninsulas, and the few areas listed in NE_AREAS), public domain, from
  martynafford/natural-earth-geojson at the commit geodata/build_basemap.py pins (CC0 repackaging).
  Polygons simplified to 0.02° (continents 0.05°); the point is the polygon's representative point.
* Macro-regions news uses, defined here by their member countries (MACRO_REGIONS, UN geoscheme where it
  has one): the union of those countries' outlines in geodata/countries.geojson, pointed at its centroid
  unless POINTS says otherwise (and why). A few without an outline here (POINT_ONLY) are points only.

Names that are also a country's (NE's "INDIA", "KOREA", "AUSTRALIA" as land masses) are left out so that
a country is never shadowed. Deterministic: the same inputs give the same file.
"""

from __future__ import annotations

import argparse
import io
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import shapely
from shapely.geometry import mapping, shape

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "geodata"))
from build_basemap import NE_COMMIT, NE_DEFAULT_GIT, NE_REPO  # noqa: E402

OUT = ROOT / "geodata" / "features.geojson"
NE_FILES = {"10m/physical/ne_10m_geography_marine_polys.7z": "marine",
            "10m/physical/ne_10m_geography_regions_polys.7z": "regions"}
MARINE = {"sea", "gulf", "bay", "strait", "lagoon", "channel", "sound", "ocean"}
NE_AREAS = {"LAPLAND", "SIBERIA", "ANATOLIA", "MESOPOTAMIA", "JUTLAND", "SCANDINAVIA", "BALKAN PEN.", "CRIMEA",
            "KOLA PENINSULA", "YAMAL PENINSULA", "KAMCHATKA PENINSULA", "ARABIAN PENINSULA"}
RENAME = {"CRIMEA": "Crimean Peninsula", "BALKAN PEN.": "Balkan Peninsula", "SCANDINAVIA": "Scandinavia"}
EXTRA_NAMES = {  # other names news uses for the same feature
    "Crimean Peninsula": ["Crimean peninsula"], "Balkan Peninsula": ["the Balkans", "Balkans"],
    "Sea of Azov": ["Azov Sea"], "Scandinavia": ["Scandinavian Peninsula"],
}
COUNTRY_NAMES = {"INDIA", "KOREA", "AUSTRALIA"}
MACRO_REGIONS = {  # name: (member countries, other names)
    "Baltic states": (("EE", "LV", "LT"), ["Baltic countries", "the Baltics", "Baltics", "Baltic region",
                                           "Baltic nations", "Baltic republics"]),
    "Eastern Europe": (("BY", "BG", "CZ", "HU", "MD", "PL", "RO", "RU", "SK", "UA"), []),
    "Central Europe": (("AT", "CZ", "DE", "HU", "PL", "SK", "SI", "CH", "LI"), []),
    "Western Europe": (("AT", "BE", "FR", "DE", "LI", "LU", "MC", "NL", "CH"), []),
    "Northern Europe": (("DK", "EE", "FI", "IS", "IE", "LV", "LT", "NO", "SE", "GB"), []),
    "Nordic countries": (("DK", "FI", "IS", "NO", "SE"), ["the Nordics", "Nordics"]),
    "Middle East": (("BH", "CY", "EG", "IR", "IQ", "IL", "JO", "KW", "LB", "OM", "PS", "QA", "SA", "SY", "TR",
                     "AE", "YE"), ["Mideast"]),
    "South Caucasus": (("AM", "AZ", "GE"), ["Transcaucasia", "the Caucasus", "Caucasus"]),
    "Central Asia": (("KZ", "KG", "TJ", "TM", "UZ"), []),
    "Western Balkans": (("AL", "BA", "XK", "ME", "MK", "RS"), []),
}
POINTS = {  # name: (lon, lat, why) where the centroid of the members' outlines would mislead
    "Eastern Europe": (28.0, 51.0, "Russia's outline puts the centroid in Siberia; this is the middle of the "
                                   "European members (Belarus–Ukraine–Poland)"),
}
POINT_ONLY = {  # name: (kind, lon, lat, other names, why)
    "Donbas": ("region", 38.5, 48.3, ["Donbass", "Donets Basin"], "Donetsk and Luhansk oblasts; no admin-1 outlines here"),
    "Transnistria": ("region", 29.4, 47.2, ["Pridnestrovie", "Transdniestria"], "left bank of the Dniester, "
                     "around Tiraspol; no outline here"),
    "Suwałki Gap": ("physical", 23.2, 54.1, ["Suwalki Gap", "Suwałki corridor", "Suwalki corridor"],
                    "the Poland–Lithuania border between Belarus and Kaliningrad"),
    "Kerch Strait": ("physical", 36.6, 45.3, ["Strait of Kerch"], "the strait's middle, at the Crimean bridge"),
}


def _title(name: str) -> str:
    name = re.sub(r"\bPen\.$", "Peninsula", name.strip())
    return name.title() if name.isupper() else name


def _slug(name: str) -> str:
    from dashboard.gazetteer import normalize

    return normalize(name).replace(" ", "-")


def _feature(name: str, kind: str, geom, lon: float, lat: float, names: list[str], source: str) -> dict:
    return {"type": "Feature", "geometry": mapping(geom) if geom is not None else None,
            "properties": {"key": f"feature:{_slug(name)}", "name": name, "kind": kind,
                           "names": sorted(set(names) - {name}), "lon": round(lon, 4), "lat": round(lat, 4),
                           "source": source}}


def read_ne(git_dir: Path) -> dict[str, list[dict]]:
    import py7zr

    layers = {}
    with tempfile.TemporaryDirectory() as tmp:
        for path, name in NE_FILES.items():
            blob = subprocess.run(["git", "--git-dir", str(git_dir), "show", f"{NE_COMMIT}:{path}"],
                                  check=True, capture_output=True).stdout
            with py7zr.SevenZipFile(io.BytesIO(blob)) as z:
                z.extractall(Path(tmp) / name)
            member = next((Path(tmp) / name).rglob("*.json"))
            layers[name] = json.loads(member.read_text(encoding="utf-8"))["features"]
    return layers


def _simplified(geom, tolerance: float):
    geom = shapely.make_valid(shapely.simplify(geom, tolerance, preserve_topology=True))
    return shapely.set_precision(geom, 0.001)


def build(git_dir: Path) -> list[dict]:
    layers = read_ne(git_dir)
    grouped: dict[tuple[str, str], list] = {}
    names: dict[tuple[str, str], set[str]] = {}
    for f in layers["marine"]:
        p = f["properties"]
        if p.get("featurecla") in MARINE and p.get("name") and f.get("geometry"):
            key = (_title(p["name"]), "physical")
            grouped.setdefault(key, []).append(shape(f["geometry"]))
            names.setdefault(key, set()).update(n for n in (p.get("namealt") or "").split("/") if n.strip())
    for f in layers["regions"]:
        p = f["properties"]
        raw = (p.get("name") or "").strip()
        cla = p.get("featurecla")
        if not raw or not f.get("geometry") or raw in COUNTRY_NAMES:
            continue
        if cla == "Continent":
            kind = "continent"
        elif cla == "Peninsula" or raw in NE_AREAS:
            kind = "physical"
        else:
            continue
        key = (RENAME.get(raw, _title(raw)), kind)
        grouped.setdefault(key, []).append(shape(f["geometry"]))
    out = []
    for (name, kind), parts in sorted(grouped.items()):
        geom = _simplified(shapely.union_all(parts), 0.05 if kind == "continent" else 0.02)
        if geom.is_empty:
            continue
        point = geom.representative_point()
        out.append(_feature(name, kind, geom, point.x, point.y, [*names.get((name, kind), ()), *EXTRA_NAMES.get(name, [])],
                            f"Natural Earth 1:10m {'marine areas' if kind == 'physical' and (name, kind) in names else 'geography regions'}"))
    outlines = {}
    for f in json.loads((ROOT / "geodata" / "countries.geojson").read_text(encoding="utf-8"))["features"]:
        iso2 = str(f["properties"].get("iso2") or "").upper()
        if iso2 and f.get("geometry"):
            outlines.setdefault(iso2, []).append(shape(f["geometry"]))
    for name, (members, other) in sorted(MACRO_REGIONS.items()):
        missing = [m for m in members if m not in outlines]
        if missing:
            raise SystemExit(f"{name}: no outline for {missing} in geodata/countries.geojson")
        geom = _simplified(shapely.union_all([g for m in members for g in outlines[m]]), 0.02)
        lon, lat, _ = POINTS.get(name, (geom.centroid.x, geom.centroid.y, ""))
        out.append(_feature(name, "region", geom, lon, lat, other,
                            f"member countries {', '.join(members)}; outlines from geodata/countries.geojson"))
    for name, (kind, lon, lat, other, why) in sorted(POINT_ONLY.items()):
        out.append(_feature(name, kind, None, lon, lat, other, f"point only: {why}"))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--ne-repo", type=Path, default=NE_DEFAULT_GIT,
                    help=f"git directory of {NE_REPO} containing commit {NE_COMMIT[:10]}")
    args = ap.parse_args(argv)
    features = build(args.ne_repo)
    doc = {"type": "FeatureCollection",
           "provenance": {"repository": NE_REPO, "commit": NE_COMMIT,
                          "files": sorted(NE_FILES), "licence": "Natural Earth: public domain; repackaging CC0 1.0",
                          "script": "geodata/build_features.py"},
           "features": features}
    OUT.write_text(json.dumps(doc, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"{OUT.relative_to(ROOT)}: {len(features)} features, {OUT.stat().st_size:,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
