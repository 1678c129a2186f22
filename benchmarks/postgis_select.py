"""Whether the map's filters would be faster as SQL: table.select in memory against PostGIS (issue 18).

    eval "$(.ci/postgres.sh start)"                      # a throwaway server (or any REACHMAP_TEST_POSTGRES_URL)
    python benchmarks/postgis_select.py                  # 100,000 events
    python benchmarks/postgis_select.py --rows 1000000 --keep /tmp/select-1m   # stores kept for the next run

Writes the deterministic ACLED-like CSV of import_benchmark and imports it with `python -m dashboard import` into
a new GeoPackage and a new PostGIS database (`--keep DIR`: all three kept there and reused by the next run with
the same --rows). Then, in this one process, for each typical filter: (a) `select(table, flt)`, the app's path,
the EventTable loaded once before (its load reported apart); (b) the same filter as SQL on PostGIS returning the
matching event ids (psycopg, the server's indexes; the plan's top node and execution time from EXPLAIN ANALYZE),
and what the app would then pay to find those ids' rows in its table; (c) the same SQL on the GeoPackage through
sqlite3 where SQLite can say it (dates, countries, a box on the lon/lat columns). Every SQL answer is checked
against select's (the same id set): the mismatches are counted, and for the distance (pyproj's geodesic against
ST_DWithin on geography, both on the spheroid) the distances of the differing events shown. Medians of --runs
repeats after one warm-up. Prints numbers; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.import_benchmark import write_acled  # noqa: E402
from benchmarks.postgis_table import timed  # noqa: E402

MINSK = (27.5667, 53.9)
RADIUS_KM = 500.0
KYIV_REGION = (29.25, 49.2, 32.2, 51.55)  # lon/lat box around Kyiv oblast
WAR = (date(2022, 2, 24), date(2022, 12, 31))


def filters():
    """(name, EventFilter, PostGIS SQL, its args, GeoPackage SQL or None, its args): the same question thrice,
    each SQL giving the matching event ids.

    Dates overlap the window (t_end >= start, t_start <= end), countries are ',UA,' inside the countries column,
    and area and distance leave out events located only by a coarse place (COARSE_KINDS), as select does."""
    import shapely
    from shapely.geometry import Point

    from dashboard.model import Place
    from dashboard.query import EventFilter
    from dashboard.table import COARSE_KINDS

    def ids(where: str, first: str = "events e JOIN places p ON p.key = e.place_key") -> str:
        return f"SELECT e.event_id FROM {first if 'p.' in where else 'events e'} WHERE {where}"

    coarse = sorted(COARSE_KINDS)
    fine_pg, fine_gpkg = "p.kind <> ALL(%s)", f"p.kind NOT IN ({','.join('?' * len(coarse))})"
    start, end = WAR
    w, s, e, n = KYIV_REGION
    env = "ST_MakeEnvelope(%s, %s, %s, %s, 4326)"

    def box(dates: str = "", args: tuple = ()) -> tuple[str, tuple]:
        # The pins in the box (the GiST index on geom), then the events of places that are not their pins (an
        # area, a line, a pinned place) whose outline touches it (table._in_area).
        return (ids(f"{dates}{fine_pg} AND ST_Intersects(e.geom, {env})") + " UNION ALL "
                + ids(f"{dates}{fine_pg} AND (p.pin_lon IS NOT NULL OR GeometryType(p.geom) <> 'POINT') AND "
                      f"ST_Intersects(p.geom, {env}) AND NOT ST_Intersects(e.geom, {env})",
                      "places p JOIN events e ON e.place_key = p.key"),
                (*args, coarse, w, s, e, n, *args, coarse, w, s, e, n, w, s, e, n))

    def box_gpkg(dates: str = "", args: tuple = ()) -> tuple[str, tuple]:
        # SQLite cannot read the places' outlines (no SpatiaLite): the pins' part only.
        return (ids(f"{dates}{fine_gpkg} AND e.lon BETWEEN ? AND ? AND e.lat BETWEEN ? AND ?"),
                (*args, *coarse, w, e, s, n))

    def near(dates: str = "", args: tuple = ()) -> tuple[str, tuple]:
        return (ids(f"{dates}{fine_pg} AND ST_DWithin(e.geom::geography, "
                    "ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography, %s)"),
                (*args, coarse, *MINSK, RADIUS_KM * 1000))

    dates, days = "e.t_end >= %s AND e.t_start <= %s", (start, end)
    dates_gpkg, days_gpkg = "e.t_end >= ? AND e.t_start <= ?", (start.isoformat(), end.isoformat())
    ua, ua_gpkg = "strpos(e.countries, %s) > 0", "instr(e.countries, ?) > 0"
    window = {"start": start, "end": end}
    area = {"area": shapely.box(*KYIV_REGION)}
    ring = {"near": Place("bench:minsk", "Minsk", "city", Point(*MINSK), "BY"), "near_km": RADIUS_KM}
    return [
        ("dates 2022-02-24..12-31", EventFilter(**window), ids(dates), days, ids(dates_gpkg), days_gpkg),
        ("country UA", EventFilter(countries=("UA",)), ids(ua), (",UA,",), ids(ua_gpkg), (",UA,",)),
        ("dates + UA", EventFilter(**window, countries=("UA",)), ids(f"{dates} AND {ua}"), (*days, ",UA,"),
         ids(f"{dates_gpkg} AND {ua_gpkg}"), (*days_gpkg, ",UA,")),
        ("box Kyiv region", EventFilter(**area), *box(), *box_gpkg()),
        ("dates + box", EventFilter(**window, **area), *box(dates + " AND ", days),
         *box_gpkg(dates_gpkg + " AND ", days_gpkg)),
        ("500 km of Minsk", EventFilter(**ring), *near(), None, ()),
        ("dates + 500 km", EventFilter(**window, **ring), *near(dates + " AND ", days), None, ()),
    ]


def median_time(run, runs: int, cpu=time.process_time) -> tuple[float, float, object]:
    """Median wall seconds of `runs` calls after one warm-up, their mean CPU seconds (`cpu()`: a clock of this
    process, or of this process and the server's backend), and the last call's answer."""
    answer = run()
    seconds = []
    c = cpu()
    for _ in range(runs):
        t = time.perf_counter()
        answer = run()
        seconds.append(time.perf_counter() - t)
    return statistics.median(seconds), (cpu() - c) / runs, answer


def backend_cpu(conn):
    """A clock of this process's CPU and that of the connection's server process (same machine: /proc)."""
    stat, tick = Path(f"/proc/{conn.info.backend_pid}/stat"), os.sysconf("SC_CLK_TCK")

    def clock() -> float:
        fields = stat.read_text().rsplit(")", 1)[1].split()
        return time.process_time() + (int(fields[11]) + int(fields[12])) / tick  # utime + stime

    return clock


def prepare(folder: Path, rows: int, server: str) -> tuple[Path, str, dict, bool]:
    """The CSV, the GeoPackage and the PostGIS database of `rows` events in folder, made unless kept there;
    (GeoPackage, PostGIS URL, environment, whether the database is new)."""
    import psycopg

    from dashboard.gazetteer import default_index_path
    from tests.conftest import PostgresServer

    env = {**os.environ, "REACHMAP_DATA_DIR": str(folder / "data"), "REACHMAP_STORE_URL": "",
           "REACHMAP_GAZETTEER_INDEX": str(default_index_path())}  # the index built once, not again here
    csv_path, gpkg = folder / f"acled-{rows}.csv", folder / f"store-{rows}.gpkg"
    url_file = folder / f"postgis-{rows}.url"
    if not csv_path.exists():
        write_acled(csv_path, rows)
    if not gpkg.exists():
        seconds = timed([sys.executable, "-m", "dashboard", "import", str(csv_path)],
                        {**env, "REACHMAP_STORE_PATH": str(gpkg)})
        print(f"import into GeoPackage: {seconds:.1f} s")
    url = url_file.read_text().strip() if url_file.exists() else ""
    if url:
        try:
            with psycopg.connect(url) as conn:
                # the CSV's events (the store's seed events are there too)
                if conn.execute("SELECT count(*) FROM events WHERE event_id LIKE 'acled:%'").fetchone()[0] == rows:
                    return gpkg, url, env, False
        except psycopg.Error:
            pass
    url = PostgresServer(server).create()
    seconds = timed([sys.executable, "-m", "dashboard", "import", str(csv_path)], {**env, "REACHMAP_STORE_URL": url})
    print(f"import into PostGIS: {seconds:.1f} s")
    url_file.write_text(url + "\n")
    return gpkg, url, env, True


def explain(conn, sql: str, args: tuple) -> tuple[str, float]:
    """The plan's scan nodes (outermost first) and the server's execution time (ms) of one run."""
    plan = conn.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, args).fetchone()[0][0]
    nodes: list[str] = []

    def walk(node: dict) -> None:
        if "Scan" in node["Node Type"]:
            nodes.append(f"{node['Node Type']}" + (f" {node['Index Name']}" if "Index Name" in node else "")
                         + (f" on {node['Alias']}" if "Alias" in node else ""))
        for child in node.get("Plans", ()):
            walk(child)

    walk(plan["Plan"])
    return "; ".join(nodes), plan["Execution Time"]


def distance_report(conn, table, want: set[str], got: set[str]) -> None:
    """How close pyproj's and PostGIS's spheroid distances come at the edge: for the events nearest the circle,
    the two distances' difference; and any event one side takes and the other not."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from dashboard.geodesy import distances_bearings

    km, _ = distances_bearings(MINSK, table.lon, table.lat)
    off = np.abs(km - RADIUS_KM) * 1000  # metres from the circle
    edge = np.argsort(off)[:200]
    ids = table.ids.take(pa.array(edge)).to_pylist()
    pg = dict(conn.execute(
        "SELECT event_id, ST_Distance(geom::geography, ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography) "
        "FROM events WHERE event_id = ANY(%s)", (*MINSK, ids)).fetchall())
    gap = np.array([pg[i] for i in ids]) - km[edge] * 1000
    print(f"      the {len(edge)} events nearest the {RADIUS_KM:.0f} km circle ({off[edge[0]]:.2f} to "
          f"{off[edge[-1]]:.0f} m from it): PostGIS's distance minus pyproj's {gap.min():+.1e} .. {gap.max():+.1e} m")
    for side, differing in (("select only", want - got), ("SQL only", got - want)):
        rows = np.flatnonzero(pc.is_in(table.ids, value_set=pa.array(sorted(differing), pa.string()))
                              .to_numpy(zero_copy_only=False))
        for r in rows[:5].tolist():
            event_id = table.ids[r].as_py()
            metres = conn.execute("SELECT ST_Distance(geom::geography, ST_SetSRID(ST_MakePoint(%s, %s), 4326)"
                                  "::geography) FROM events WHERE event_id = %s", (*MINSK, event_id)).fetchone()[0]
            print(f"      {side}: {event_id} at {table.lon[r]}, {table.lat[r]}: pyproj {km[r] * 1000:.4f} m, "
                  f"PostGIS {metres:.4f} m")


def ms(wall: float, cpu: float) -> str:
    return f"{wall * 1000:.1f} ({cpu * 1000:.1f})"


def measure(conn, lite, table, case: tuple, runs: int) -> None:
    """One filter three ways: print the times, the answer's size and how many ids differ from select's."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from dashboard.table import select

    name, flt, sql, args_pg, lite_sql, args_gpkg = case
    t_select, c_select, rows = median_time(lambda: select(table, flt), runs)
    want = set(table.selected_ids(rows).to_pylist())
    t_pg, c_pg, got = median_time(lambda: [r[0] for r in conn.execute(sql, args_pg)], runs, backend_cpu(conn))
    # what the app would do next with SQL's answer: find those ids' rows in its table
    t_rows, _, _ = median_time(lambda: np.flatnonzero(pc.is_in(
        table.ids, value_set=pa.array(got, pa.string())).to_numpy(zero_copy_only=False)), runs)
    plan, server_ms = explain(conn, sql, args_pg)
    lite_text = "-"
    if lite_sql is not None:
        t_lite, c_lite, lite_got = median_time(lambda: [r[0] for r in lite.execute(lite_sql, args_gpkg)], runs)
        lite_differ = len(want ^ set(lite_got))
        lite_text = f"{ms(t_lite, c_lite)}" + (f" ({lite_differ} differ)" if lite_differ else "")
    print(f"  {name:24} {len(want):9,} {ms(t_select, c_select):>15} {ms(t_pg, c_pg):>15} {t_rows * 1000:7.1f} "
          f"{server_ms:7.1f}  {lite_text:>15}  {len(want ^ set(got)):6}  {plan}")
    if flt.near is not None and flt.start is None:
        distance_report(conn, table, want, set(got))


def load(location: Path | str, kept: bool) -> object:
    """EventTable.from_store(location), its time printed."""
    from dashboard.table import EventTable

    t, c = time.perf_counter(), time.process_time()
    table = EventTable.from_store(location)
    shown = "PostGIS" if isinstance(location, str) else "GeoPackage"
    print(f"  EventTable.from_store({shown}), {'kept' if kept else 'cold'}: {time.perf_counter() - t:.2f} s "
          f"({time.process_time() - c:.2f} s CPU)")
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="events (default 100000)")
    parser.add_argument("--runs", type=int, default=5, help="timed repeats of each query, after one warm-up")
    parser.add_argument("--keep", type=Path, help="a folder to keep the CSV and both stores in, and reuse them from")
    args = parser.parse_args(argv)
    server = os.environ.get("REACHMAP_TEST_POSTGRES_URL")
    if not server:
        print("set REACHMAP_TEST_POSTGRES_URL (eval \"$(.ci/postgres.sh start)\")", file=sys.stderr)
        return 2
    import psycopg

    from tests.conftest import PostgresServer

    with tempfile.TemporaryDirectory() as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        gpkg, url, env, new = prepare(folder, args.rows, server)
        os.environ["REACHMAP_DATA_DIR"] = env["REACHMAP_DATA_DIR"]  # where EventTable keeps PostGIS's table
        try:
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute("ANALYZE events")  # as autovacuum would have by now on a server in use
                conn.execute("ANALYZE places")
                settings = conn.execute("SELECT current_setting('shared_buffers'), current_setting('work_mem'), "
                                        "pg_size_pretty(pg_total_relation_size('events'))").fetchone()
                print(f"{args.rows:,} events; load {os.getloadavg()[0]:.1f}; PostGIS shared_buffers {settings[0]}, "
                      f"work_mem {settings[1]}, events with indexes {settings[2]}; medians of {args.runs} runs")
                load(gpkg, bool(list(gpkg.parent.glob(f"{gpkg.name}.*.arrow"))))  # its time only: the same rows
                store_id = conn.execute("SELECT value FROM reachmap_meta WHERE key = 'store_id'").fetchone()[0]
                table = load(url, bool(list((folder / "data" / "postgis-cache").glob(f"{store_id}.*.arrow"))))
                lite = sqlite3.connect(f"{gpkg.resolve().as_uri()}?mode=ro", uri=True)
                print(f"  {'filter':24} {'events':>9} {'select ms (CPU)':>15} {'PostGIS ms (CPU)':>15} "
                      f"{'+rows ms':>7} {'server ms':>7}  {'GPKG sql ms (CPU)':>15}  differ  plan")
                for case in filters():
                    measure(conn, lite, table, case, args.runs)
                lite.close()
                print(f"  (wall median and mean CPU; select: table.select on the loaded table; PostGIS: the ids "
                      f"fetched by psycopg, CPU of this process and the server's; +rows: those ids' rows in the "
                      f"table; server: one EXPLAIN ANALYZE's execution time; GPKG sql: sqlite3 on the file, the box on "
                      f"pins only; load now {os.getloadavg()[0]:.1f})")
        finally:
            if new and args.keep is None:
                pg = PostgresServer(server)
                pg.made.append(urlsplit(url).path.lstrip("/"))
                pg.drop_all()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
