"""The PostGIS store's schema: versioned migrations, each one transaction under an advisory lock.

Geometry is `geometry(…, 4326)`, not `geography`: every spatial filter of Reachmap (table.select, shapely)
treats lon/lat as a plane, so geometry gives the same answers as the GeoPackage; distances on the spheroid
use the expression index on `geom::geography` (ST_DWithin), and rings are still built by pyproj (PostGIS's
geography buffer is planar in a UTM zone, wrong at 500 km). Ids, keys and the sorted source columns are
COLLATE "C": byte order, as SQLite compares them, so `events()` and the source groups come in the same order.

A database is refused, untouched, when it is not empty and holds no reachmap_meta (someone else's data), or
when its schema_version is newer than MIGRATIONS knows.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, timezone

import psycopg

from dashboard.errors import StoreError

SCHEMA_LOCK = 0x5245_4143_4801  # pg_advisory_xact_lock keys: schema changes, and bulk writes of events
WRITE_LOCK = 0x5245_4143_4802

_V1 = (
    "CREATE EXTENSION IF NOT EXISTS postgis",
    "CREATE TABLE reachmap_meta (key text PRIMARY KEY, value text NOT NULL)",
    # One row: bumped by every write transaction that touches events or places, read by caches.
    "CREATE TABLE reachmap_changes (one boolean PRIMARY KEY DEFAULT true CHECK (one), counter bigint NOT NULL)",
    "INSERT INTO reachmap_changes (counter) VALUES (0)",
    """CREATE TABLE places (
         key text COLLATE "C" PRIMARY KEY, geom geometry(Geometry, 4326) NOT NULL, name text NOT NULL,
         kind text NOT NULL, country text NOT NULL DEFAULT '', admin1 text NOT NULL DEFAULT '',
         geonameid bigint, population bigint, pin_lon double precision, pin_lat double precision)""",
    "CREATE INDEX places_geom ON places USING gist (geom)",
    """CREATE TABLE events (
         event_id text COLLATE "C" PRIMARY KEY, geom geometry(Point, 4326) NOT NULL, title text NOT NULL,
         description text NOT NULL DEFAULT '', event_type text NOT NULL, t_start date NOT NULL,
         t_end date NOT NULL, t_precision text NOT NULL, t_text text NOT NULL DEFAULT '',
         t_note text NOT NULL DEFAULT '', place_key text COLLATE "C" NOT NULL REFERENCES places (key),
         place_name text NOT NULL, countries text NOT NULL DEFAULT '', lon double precision NOT NULL,
         lat double precision NOT NULL, actors text NOT NULL DEFAULT '[]', attributes text NOT NULL DEFAULT '[]',
         source_title text COLLATE "C" NOT NULL, source_publisher text COLLATE "C" NOT NULL,
         source_url text COLLATE "C" NOT NULL DEFAULT '', source_published date,
         quote text NOT NULL DEFAULT '', origin text COLLATE "C" NOT NULL, updated_at timestamptz NOT NULL)""",
    "CREATE INDEX events_t_start ON events (t_start, event_id)",
    "CREATE INDEX events_t_end ON events (t_end)",
    "CREATE INDEX events_place_key ON events (place_key)",
    "CREATE INDEX events_geom ON events USING gist (geom)",
    "CREATE INDEX events_geog ON events USING gist ((geom::geography))",
    """CREATE TABLE snapshots (
         seq bigserial PRIMARY KEY, id text NOT NULL UNIQUE, title text NOT NULL, created_at timestamptz NOT NULL,
         query text NOT NULL, events text NOT NULL, event_count integer NOT NULL, thumbnail bytea,
         owner text NOT NULL DEFAULT '')""",
    "CREATE INDEX snapshots_created_at ON snapshots (created_at)",
)

# Every change of an event recorded (issue 18), as the GeoPackage's schema 2 (store.history): the row's version
# and who wrote it, and one history row per change with the state it replaced (jsonb of pg_rows.STATE_SQL; NULL
# when there was no row before it). `at` is the change's time, `seq` the order of changes made at one time.
_V2 = (
    "ALTER TABLE events ADD COLUMN version integer NOT NULL DEFAULT 1, "
    "ADD COLUMN updated_by text NOT NULL DEFAULT ''",
    """CREATE TABLE history (
         seq bigserial PRIMARY KEY, event_id text COLLATE "C" NOT NULL, version integer NOT NULL,
         action text NOT NULL CHECK (action IN ('created', 'updated', 'deleted', 'restored')),
         "user" text NOT NULL, at timestamptz NOT NULL, origin text NOT NULL, state jsonb,
         UNIQUE (event_id, version))""",
    "CREATE INDEX history_action_at ON history (action, at)",
)

# (version, statements): a database at version n gets every later migration, each in its own transaction; a new
# database gets them all in one (and its seed), so it is never left at an older version.
MIGRATIONS: tuple[tuple[int, tuple[str, ...]], ...] = ((1, _V1), (2, _V2))
SCHEMA_VERSION = MIGRATIONS[-1][0]

_FOREIGN_OBJECTS = """
SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'v', 'm', 'p', 'f')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg_toast%'
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                  AND d.deptype = 'e')
ORDER BY c.relname LIMIT 3"""


def schema_version(conn: psycopg.Connection) -> int | None:
    """The store's schema version; None when the database has no reachmap_meta."""
    # A query of pg_class, not to_regclass: the latter answers from this backend's catalog cache, which may
    # not yet know of a table another server committed while this one waited for the lock.
    if not conn.execute("SELECT EXISTS (SELECT 1 FROM pg_class WHERE relname = 'reachmap_meta' "
                        "AND relnamespace = current_schema()::regnamespace)").fetchone()[0]:
        return None
    row = conn.execute("SELECT value FROM reachmap_meta WHERE key = 'schema_version'").fetchone()
    return int(row[0]) if row else 0


def migrate(conn: psycopg.Connection, shown: str, seed: Callable[[psycopg.Connection], None] | None = None) -> bool:
    """Bring the database to SCHEMA_VERSION; True if it was created now (and seeded, in the same transaction).

    Each migration runs in one transaction holding SCHEMA_LOCK, and reads the version again once it holds
    it: two servers starting at once apply each migration once, the second sees it done."""
    hint = "point REACHMAP_STORE_URL at another database, or an empty one"
    created = False
    current = schema_version(conn)
    if current is not None and current >= SCHEMA_VERSION:
        _refuse_newer(current, shown)
        return False
    for version, statements in MIGRATIONS:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (SCHEMA_LOCK,))
            current = schema_version(conn)
            if current is None:
                foreign = [r[0] for r in conn.execute(_FOREIGN_OBJECTS)]
                if foreign:
                    raise StoreError(f"The database {shown} is not empty (it holds {', '.join(foreign)}) and is "
                                     f"not a Reachmap store; {hint}.")
                current = 0
            _refuse_newer(current, shown)
            if current >= version:
                continue
            if current == 0:  # a new store: every migration in this one transaction
                statements = tuple(s for _, part in MIGRATIONS for s in part)
                version = SCHEMA_VERSION
            for statement in statements:
                conn.execute(statement)
            meta = {"schema_version": str(version)}
            if current == 0:
                meta |= {"created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                         "store_id": uuid.uuid4().hex}
                created = True
                if seed is not None:
                    seed(conn)
            conn.cursor().executemany(
                "INSERT INTO reachmap_meta (key, value) VALUES (%s, %s) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value", list(meta.items()))
    return created


def _refuse_newer(current: int, shown: str) -> None:
    if current > SCHEMA_VERSION:
        raise StoreError(f"The store {shown} has schema version {current}, newer than this Reachmap understands "
                         f"({SCHEMA_VERSION}); upgrade Reachmap.")
