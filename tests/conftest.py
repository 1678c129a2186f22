"""Shared fixtures: the real gazetteer index (built once per machine), stores in temporary folders."""

from __future__ import annotations

import importlib.util
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path

import pytest
from shapely.geometry import LineString, Point

from dashboard import settings
from dashboard.gazetteer import Gazetteer
from dashboard.model import Event, Place, Source, TimeSpan
from dashboard.store import EventStore, GeoPackageStore


@pytest.fixture(scope="session")
def gazetteer() -> Gazetteer:
    return Gazetteer.open()


@pytest.fixture(scope="session")
def chromium_path() -> str:
    """The system Chromium with playwright, or a skip saying what is missing.

    With REACHMAP_REQUIRE_BROWSER=1 (set by .ci/run) a missing browser fails instead, so CI can never
    pass by skipping the tests that need one.
    """
    path = settings.get("chromium_path")
    missing = []
    if not (Path(path).exists() or shutil.which(path)):
        missing.append(f"no Chromium at {path} (apt-get install chromium, or set REACHMAP_CHROMIUM_PATH)")
    if importlib.util.find_spec("playwright") is None:
        missing.append("the playwright package is missing (pip install playwright; never `playwright install`)")
    if missing:
        reason = "needs a browser: " + "; ".join(missing)
        if os.environ.get("REACHMAP_REQUIRE_BROWSER") == "1":
            pytest.fail(f"REACHMAP_REQUIRE_BROWSER=1 but this test {reason}")
        pytest.skip(reason)
    return path


CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]


@pytest.fixture(scope="module")
def browser(chromium_path):
    """One headless Chromium per test module, driven by Playwright's sync API.

    Module scope, not session: sync Playwright runs an asyncio loop in this thread while it is open, and
    tests that drive their own Playwright (asyncio.run, another sync_playwright) need it closed.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def store_path(tmp_path, monkeypatch):
    """The app's store is a GeoPackage file in tmp_path, not made yet: for tests about the file itself.

    A test about what the store does takes `store_location` instead, and runs on both backends."""
    path = tmp_path / "store.gpkg"
    monkeypatch.setenv("REACHMAP_STORE_PATH", str(path))
    return path


BACKENDS = ("geopackage", "postgis")


def postgres_url(reason_if_missing: str = "") -> str:
    """The test server's URL (REACHMAP_TEST_POSTGRES_URL), or a skip saying how to get one (a failure when
    REACHMAP_REQUIRE_POSTGIS=1, set by .ci/run, so CI never passes by skipping the PostGIS tests)."""
    url = os.environ.get("REACHMAP_TEST_POSTGRES_URL", "").strip()
    missing = []
    if not url:
        missing.append("REACHMAP_TEST_POSTGRES_URL is not set (eval \"$(.ci/postgres.sh start)\" starts a server)")
    if importlib.util.find_spec("psycopg") is None:
        missing.append("the psycopg package is missing (pip install 'psycopg[binary]')")
    if missing:
        reason = "needs a PostgreSQL server with PostGIS: " + "; ".join(missing)
        if os.environ.get("REACHMAP_REQUIRE_POSTGIS") == "1":
            pytest.fail(f"REACHMAP_REQUIRE_POSTGIS=1 but this test {reason}")
        pytest.skip(reason)
    return url


class PostgresServer:
    """The test server: makes fresh databases from its template (which has the postgis extension), drops them."""

    TEMPLATE = os.environ.get("REACHMAP_TEST_POSTGRES_TEMPLATE", "reachmap_template")

    def __init__(self, url: str) -> None:
        self.url = url
        self.made: list[str] = []

    def database_url(self, name: str) -> str:
        """The server's URL with another database name (the URL's path, or its dbname parameter)."""
        from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

        parts = urlsplit(self.url)
        query = [(k, v) for k, v in parse_qsl(parts.query) if k != "dbname"]
        return urlunsplit(parts._replace(path="/" + name, query=urlencode(query)))

    def create(self, template: str | None = None) -> str:
        """A new empty database (a copy of the template, or of `template`); its URL."""
        import uuid

        import psycopg
        from psycopg import sql

        name = f"reachmap_test_{uuid.uuid4().hex[:12]}"
        create = sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name),
                                                                 sql.Identifier(template or self.TEMPLATE))
        with psycopg.connect(self.url, autocommit=True) as conn:
            try:  # FILE_COPY (PostgreSQL 15+): half the default WAL_LOG's time for a small template, on every test
                conn.execute(create + sql.SQL(" STRATEGY FILE_COPY"))
            except psycopg.errors.SyntaxError:  # an older server: its only way
                conn.execute(create)
        self.made.append(name)
        return self.database_url(name)

    def drop_all(self) -> None:
        import psycopg
        from psycopg import sql

        import time

        with psycopg.connect(self.url, autocommit=True) as conn:
            for name in self.made:
                drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
                # An autovacuum worker in the database (after a big write) belongs to the superuser, which
                # FORCE may not terminate for this role: it ends on its own, so try again for up to 30 s.
                for attempt in range(150):
                    try:
                        conn.execute(drop)
                        break
                    except psycopg.errors.InsufficientPrivilege:
                        if attempt == 149:
                            raise
                        time.sleep(0.2)
        self.made.clear()


@pytest.fixture
def postgres():
    """The test server, to make fresh databases on; each one made is dropped after the test."""
    server = PostgresServer(postgres_url())
    yield server
    server.drop_all()


@pytest.fixture(params=BACKENDS)
def any_store(request, tmp_path):
    """An empty store of each backend: the same test runs on the GeoPackage and on PostGIS (issue 18).

    The PostGIS one is a fresh database on the test server (REACHMAP_TEST_POSTGRES_URL), copied from a template
    that has the postgis extension; without a server that test skips with the reason (REACHMAP_REQUIRE_POSTGIS=1,
    set by .ci/run, makes it fail instead)."""
    with backend_store(request.param, tmp_path, "any.gpkg") as (location, _), open_unseeded(location) as store:
        yield store


@contextmanager
def backend_store(backend: str, folder: Path, name: str = "store.gpkg") -> Iterator[tuple[Path | str, dict[str, str]]]:
    """A store of `backend` not made yet, and the settings that point open_store(), the app and the CLI at it.

    The GeoPackage: the file `name` in `folder` (REACHMAP_STORE_PATH). PostGIS: a fresh database on the test server
    (REACHMAP_STORE_URL; skips or fails as `postgres_url` says without one), dropped after; its kept table
    goes under `folder` (data_dir), and REACHMAP_STORE_PATH names a file that must never be made, so code
    that opens the GeoPackage behind the setting's back fails the test."""
    if backend == "geopackage":
        path = folder / name
        yield path, {"REACHMAP_STORE_PATH": str(path), "REACHMAP_STORE_URL": ""}
        return
    from dashboard.gazetteer import default_index_path

    server = PostgresServer(postgres_url())
    decoy = folder / "not-this.gpkg"
    try:
        url = server.create()
        yield url, {"REACHMAP_STORE_URL": url, "REACHMAP_STORE_PATH": str(decoy),
                    "REACHMAP_DATA_DIR": str(folder / "data"), "REACHMAP_GAZETTEER_INDEX": str(default_index_path())}
    finally:
        server.drop_all()
    assert not decoy.exists(), "the store_url setting was set, yet a GeoPackage was made at store_path"


def open_unseeded(location: Path | str) -> EventStore:
    """The store at a location of either backend, made empty if new (open_store would seed the stories)."""
    if isinstance(location, Path):
        return GeoPackageStore.open(location)
    from dashboard.store.postgis import PostGISStore

    return PostGISStore.open(location)


@pytest.fixture(params=BACKENDS)
def store_location(request, tmp_path, monkeypatch):
    """The app's store on each backend, not made yet: a GeoPackage path or a fresh PostGIS database's URL,
    set as the settings say (open_store(), the pages and `python -m dashboard` in or out of process find it).
    The same test runs on both (issue 18); see `backend_store`."""
    with backend_store(request.param, tmp_path) as (location, env):
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        yield location


@pytest.fixture
def other_editor(any_store):
    """A second, independent handle on the same store as any_store: another editor's session or process.

    A backend adds its own way of opening a second connection here (the PostGIS one: the same URL)."""
    if isinstance(any_store, GeoPackageStore):
        with GeoPackageStore.open(any_store.path) as other:
            yield other
        return
    from dashboard.store.postgis import PostGISStore

    with PostGISStore.open(any_store.url) as other:  # its own connection: another server's, as far as it knows
        yield other


def make_event(event_id: str = "e1", title: str = "A strike", day: date = date(2022, 6, 25),
               place: Place | None = None, **kw) -> Event:
    place = place or Place.at("geonames:710071", "Desna", "village", 30.76678, 50.92744, country="UA",
                              admin1="Chernihiv Oblast", geonameid=710071)
    source = Source("A report", "A publisher", "https://example.org/report", date(2022, 6, 25), "The quoted sentence.")
    return Event(id=event_id, title=title, event_type=kw.pop("event_type", "missile strike"),
                 time=kw.pop("time", TimeSpan.day(day)), place=place, source=source, **kw)


BORDER = Place("border:BY-UA", "Belarus–Ukraine border", "border", LineString([(23.6, 51.5), (31.7, 52.1)]))
POINT = Place("point", "somewhere", "point", Point(27.5, 53.9))
