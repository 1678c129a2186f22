"""How fast an ACLED export is imported, against a plain pandas.read_csv of the same file.

    python benchmarks/import_benchmark.py                 # 10,000 and 100,000 rows
    python benchmarks/import_benchmark.py --rows 20000    # other sizes
    python benchmarks/import_benchmark.py --rows 1000000 --repeat 3   # the same file three times

Writes a deterministic (random.Random(42)) ACLED-like CSV in a temporary folder — events clustered around
cities of Ukraine, Belarus and Russia over three years, with realistic notes, actors and sources, and (as in
real exports) a village of its own for every row outside a city (`--shared-locations`: 3,150 reused) — then,
each in a fresh Python process so that peak memory (ru_maxrss) belongs to that one step:

- baseline: `pandas.read_csv(path)` of the file;
- baseline GPKG: `pandas.read_csv(path)`, a GeoDataFrame of its points (`points_from_xy`, EPSG:4326) and
  `GeoDataFrame.to_file(…, driver="GPKG")`: what a plain geopandas script does to put the same rows in a
  GeoPackage (no validation, no places, no upserts);
- import: `import_file(path, store, gazetteer)` into a new GeoPackage store (one transaction).

Peak memory is the process's peak resident set size (getrusage ru_maxrss), interpreter and imports included.

Target (issue 15): 100,000 rows imported in <= 10 s, 1,000,000 in <= 90 s with a peak RSS <= 1.5 GB, on the
2-core development machine. Wall time swings with whatever
else the machine runs; CPU time (process_time, which counts Arrow's reader threads too) is steadier.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_S = 10.0          # per 100,000 rows
TARGET_1M_S = 90.0       # 1,000,000 rows
TARGET_PEAK_MB = 1536.0  # 1,000,000 rows

COLUMNS = ("event_id_cnty,event_date,year,time_precision,disorder_type,event_type,sub_event_type,actor1,assoc_actor_1,"
           "inter1,actor2,assoc_actor_2,inter2,interaction,civilian_targeting,iso,region,country,admin1,admin2,admin3,"
           "location,latitude,longitude,geo_precision,source,source_scale,notes,fatalities,tags,timestamp").split(",")

# (city, admin1, country, iso numeric, ISO3 prefix, lat, lon, weight)
CITIES = [
    ("Kharkiv", "Kharkiv", "Ukraine", 804, "UKR", 49.9935, 36.2304, 12),
    ("Donetsk", "Donetsk", "Ukraine", 804, "UKR", 48.0159, 37.8028, 14),
    ("Bakhmut", "Donetsk", "Ukraine", 804, "UKR", 48.5956, 38.0003, 10),
    ("Avdiivka", "Donetsk", "Ukraine", 804, "UKR", 48.1394, 37.7497, 8),
    ("Kherson", "Kherson", "Ukraine", 804, "UKR", 46.6354, 32.6169, 9),
    ("Zaporizhzhia", "Zaporizhia", "Ukraine", 804, "UKR", 47.8388, 35.1396, 7),
    ("Mykolaiv", "Mykolaiv", "Ukraine", 804, "UKR", 46.9750, 31.9946, 5),
    ("Chernihiv", "Chernihiv", "Ukraine", 804, "UKR", 51.4982, 31.2893, 4),
    ("Sumy", "Sumy", "Ukraine", 804, "UKR", 50.9077, 34.7981, 6),
    ("Kyiv", "Kyiv City", "Ukraine", 804, "UKR", 50.4501, 30.5234, 4),
    ("Odesa", "Odesa", "Ukraine", 804, "UKR", 46.4825, 30.7233, 3),
    ("Dnipro", "Dnipropetrovsk", "Ukraine", 804, "UKR", 48.4647, 35.0462, 3),
    ("Luhansk", "Luhansk", "Ukraine", 804, "UKR", 48.5740, 39.3078, 5),
    ("Minsk", "Minsk City", "Belarus", 112, "BLR", 53.9006, 27.5590, 2),
    ("Homiel", "Homiel", "Belarus", 112, "BLR", 52.4345, 30.9754, 1),
    ("Mazyr", "Homiel", "Belarus", 112, "BLR", 52.0495, 29.2456, 1),
    ("Belgorod", "Belgorod", "Russia", 643, "RUS", 50.5997, 36.5983, 5),
    ("Kursk", "Kursk", "Russia", 643, "RUS", 51.7304, 36.1926, 3),
    ("Bryansk", "Bryansk", "Russia", 643, "RUS", 53.2521, 34.3717, 2),
    ("Moscow", "Moscow", "Russia", 643, "RUS", 55.7558, 37.6173, 2),
    ("Rostov-on-Don", "Rostov", "Russia", 643, "RUS", 47.2357, 39.7015, 1),
]
TYPES = [
    ("Political violence", "Explosions/Remote violence", "Shelling/artillery/missile attack", 40),
    ("Political violence", "Explosions/Remote violence", "Air/drone strike", 18),
    ("Political violence", "Explosions/Remote violence", "Remote explosive/landmine/IED", 3),
    ("Political violence", "Battles", "Armed clash", 20),
    ("Political violence", "Battles", "Government regains territory", 1),
    ("Political violence", "Violence against civilians", "Attack", 3),
    ("Demonstrations", "Protests", "Peaceful protest", 8),
    ("Strategic developments", "Strategic developments", "Disrupted weapons use", 5),
    ("Strategic developments", "Strategic developments", "Arrests", 2),
]
FORCES = {"Ukraine": "Military Forces of Ukraine (2019-)", "Russia": "Military Forces of Russia (2000-)",
          "Belarus": "Military Forces of Belarus (1994-)"}
SOURCES = ["Ukrainska Pravda", "Suspilne", "Kyiv Independent", "Ministry of Defence of Ukraine", "UNIAN",
           "Ukrinform", "Telegram", "Belaruski Hajun", "Meduza", "RIA Novosti", "Regional Military Administration"]
SYLLABLES = ["no", "vo", "ka", "mi", "ro", "lo", "pe", "tro", "dub", "hor", "ly", "sha", "ivk", "an", "ske", "ne"]


def village(rng: random.Random) -> str:
    name = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3)))
    return name.capitalize() + rng.choice(["ka", "ivka", "ove", "ne", "e", "yi", "sk"])


def write_acled(path: Path, rows: int, seed: int = 42, shared_locations: bool = False) -> None:
    """A deterministic ACLED-like export with `rows` events.

    Every row outside a city has a village of its own (name and point), as in real exports (one village,
    one row); `shared_locations` draws them from 150 villages per city instead, which flatters the
    importer (a few thousand places for any number of rows)."""
    rng = random.Random(seed)
    weights = [c[-1] for c in CITIES]
    type_weights = [t[-1] for t in TYPES]
    # ACLED codes a named location at one point: each village keeps its coordinates across events.
    villages = {c[0]: [(village(rng), c[5] + rng.gauss(0, 0.25), c[6] + rng.gauss(0, 0.35)) for _ in range(150)]
                for c in CITIES}
    first = date(2021, 1, 1)
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(COLUMNS)
        for n in range(rows):
            city, admin1, country, iso, prefix, lat, lon, _ = rng.choices(CITIES, weights)[0]
            disorder, event_type, sub_type, _ = rng.choices(TYPES, type_weights)[0]
            day = first + timedelta(days=rng.randrange(3 * 365))
            precision = rng.choices((1, 2, 3), (85, 10, 5))[0]
            in_city = rng.random() < 0.3
            if in_city:
                location, y, x = city, lat, lon
            elif shared_locations:
                location, y, x = rng.choice(villages[city])
            else:
                location, y, x = f"{village(rng)} {n}", lat + rng.gauss(0, 0.25), lon + rng.gauss(0, 0.35)
            attacker = FORCES["Russia"] if country != "Russia" or rng.random() < 0.2 else FORCES["Ukraine"]
            target = FORCES["Ukraine"] if attacker == FORCES["Russia"] else FORCES["Russia"]
            if event_type == "Protests":
                actor1, actor2 = f"Protesters ({country})", ""
            else:
                actor1, actor2 = attacker, (target if rng.random() < 0.6 else f"Civilians ({country})")
            assoc = "Wagner Group" if attacker == FORCES["Russia"] and rng.random() < 0.05 else ""
            sources = "; ".join(rng.sample(SOURCES, rng.randint(1, 3)))
            fatalities = rng.choices((0, 1, 2, 5, 12), (70, 12, 8, 7, 3))[0]
            when = f"{day.day} {day:%B} {day.year}" if precision == 1 else f"the week of {day.day} {day:%B} {day.year}"
            notes = (f"On {when}, {actor1.split(' (')[0]} carried out {sub_type.lower()} on {location} ({admin1}). "
                     f"{fatalities} people were reported killed." + (
                         " Damage to residential buildings and a school was reported; \"no military targets\", "
                         "according to local officials." if rng.random() < 0.4 else ""))
            writer.writerow([
                f"{prefix}{100000 + n}", day.isoformat(), day.year, precision, disorder, event_type, sub_type, actor1,
                assoc, 8 if actor1 == FORCES["Russia"] else 1, actor2, "", 1, 18, "Civilians targeted" if
                "Civilians" in actor2 else "", iso, "Europe", country, admin1, f"{city}ska", "", location,
                f"{y:.4f}", f"{x:.4f}", 1 if in_city else rng.choice((1, 2, 2, 3)), sources,
                rng.choice(("National", "Subnational", "New media", "Other-National")), notes, fatalities,
                "crowd size=no report" if event_type == "Protests" else "",
                int(time.mktime((day + timedelta(days=rng.randint(3, 12))).timetuple())),
            ])


STEP = """
import json, resource, sys, time
t0 = time.perf_counter()
c0 = time.process_time()
mode, path, store_path = sys.argv[1], sys.argv[2], sys.argv[3]
if mode == "baseline":
    import pandas as pd
    t1, c1 = time.perf_counter(), time.process_time()
    frame = pd.read_csv(path)
    rows, extra = len(frame), {}
elif mode == "baseline_gpkg":
    import geopandas as gpd
    import pandas as pd
    t1, c1 = time.perf_counter(), time.process_time()
    frame = pd.read_csv(path)
    gdf = gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(frame["longitude"], frame["latitude"]), crs=4326)
    gdf.to_file(store_path, driver="GPKG", layer="events")
    rows, extra = len(gdf), {}
else:
    from pathlib import Path
    from dashboard.gazetteer import Gazetteer
    from dashboard.ingest.importer import import_file
    from dashboard.store import GeoPackageStore
    gazetteer = Gazetteer.open()
    t1, c1 = time.perf_counter(), time.process_time()
    with GeoPackageStore.open(Path(store_path)) as store:
        report = import_file(Path(path), store, gazetteer)
        count = store.count()
    assert report.stored and count == report.added == report.rows, (str(report), count)
    rows, extra = report.rows, {"report": str(report)}
seconds = time.perf_counter() - t1
print(json.dumps({"rows": rows, "seconds": seconds, "cpu": time.process_time() - c1, "startup": t1 - t0,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, **extra}))
"""


def run_step(mode: str, path: Path, store_path: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-c", STEP, mode, str(path), str(store_path)], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"{mode} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="*", default=[10_000, 100_000])
    parser.add_argument("--shared-locations", action="store_true",
                        help="draw villages from 150 per city (the earlier, flattering data) instead of one per row")
    parser.add_argument("--repeat", type=int, default=1,
                        help="run the baselines and the import this many times on the same file (timings are noisy)")
    args = parser.parse_args()
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    with tempfile.TemporaryDirectory(prefix="reachmap-import-bench-") as tmp:
        for rows in args.rows:
            path = Path(tmp) / f"acled_{rows}.csv"
            write_acled(path, rows, shared_locations=args.shared_locations)
            size_mb = path.stat().st_size / 1024 / 1024
            kind = "from 3,150 shared villages" if args.shared_locations else "one village per row outside cities"
            print(f"\n{rows:,} ACLED rows ({size_mb:.1f} MB CSV, locations {kind})")
            for run in range(1, args.repeat + 1):
                if args.repeat > 1:
                    print(f" run {run} of {args.repeat}")
                for stale in Path(tmp).glob("*.gpkg"):
                    stale.unlink()
                base = run_step("baseline", path, Path(tmp) / "unused.gpkg")
                base_gpkg = run_step("baseline_gpkg", path, Path(tmp) / f"baseline_{rows}.gpkg")
                done = run_step("import", path, Path(tmp) / f"store_{rows}.gpkg")
                report(rows, base, base_gpkg, done)


def report(rows: int, base: dict, base_gpkg: dict, done: dict) -> None:
    def line(label: str, step: dict, note: str = "") -> None:
        print(f"  {label:<26}{step['seconds']:6.2f} s wall {step['cpu']:6.2f} s CPU  {rows / step['seconds']:>9,.0f} "
              f"rows/s  peak RSS {step['peak_mb']:5.0f} MB{note}")

    line("baseline pandas.read_csv:", base)
    line("baseline read_csv+to_file:", base_gpkg, "  (GeoDataFrame.to_file, GPKG)")
    line("import_file:", done, f"  (+{done['startup']:.1f} s to import modules and open the gazetteer)")
    print(f"  {done['report']}")
    print(f"  ratios: import / read_csv {done['seconds'] / base['seconds']:.1f}×, import / (read_csv + to_file) "
          f"{done['seconds'] / base_gpkg['seconds']:.2f}×")
    if rows >= 1_000_000:
        seconds = TARGET_1M_S * rows / 1_000_000
        fast, small = done["seconds"] <= seconds, done["peak_mb"] <= TARGET_PEAK_MB
        print(f"  {'meets' if fast else 'MISSES'} the target of {seconds:.0f} s, {'meets' if small else 'MISSES'} "
              f"the peak RSS target of {TARGET_PEAK_MB:.0f} MB")
    elif rows >= 100_000:
        verdict = "meets" if done["seconds"] <= TARGET_S * rows / 100_000 else "MISSES"
        print(f"  {verdict} the target of {TARGET_S:.0f} s per 100,000 rows")


if __name__ == "__main__":
    main()
