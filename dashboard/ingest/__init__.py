"""Turning outside data (story files, later ACLED, CSV, GeoJSON, KML, article text) into stored events."""

from __future__ import annotations

from pathlib import Path

from dashboard import settings
from dashboard.gazetteer import Gazetteer
from dashboard.ingest.story import load_stories
from dashboard.store import EventStore, GeoPackageStore


def open_gazetteer(*, background: bool = False) -> Gazetteer:
    """The gazetteer with the stories' places added, so 'Desna' means the story's Desna (710071).

    `background`: see Gazetteer.open (the app's first start does not wait for the names).
    """
    gazetteer = Gazetteer.open(background=background)
    for story in load_stories(settings.story_dir(), gazetteer):
        gazetteer.add_places(story.places)
    return gazetteer


def open_store(path: Path | str | None = None, gazetteer: Gazetteer | None = None) -> EventStore:
    """The store at `path` — a GeoPackage file, or a postgresql:// URL — created and seeded with the stories
    if new. Default: the store_url setting when set (PostGIS), else the store_path setting (GeoPackage)."""

    def seed():
        gaz = gazetteer or Gazetteer.open()
        for story in load_stories(settings.story_dir(), gaz):
            yield story.events, story.origin

    location = path if path is not None else (settings.store_url() or settings.store_path())
    if is_url(location):
        from dashboard.store.postgis import PostGISStore  # psycopg: imported only for a PostGIS store

        return PostGISStore.open(str(location), seed=seed)
    return GeoPackageStore.open(Path(location), seed=seed)


def store_location() -> Path | str:
    """Where the store is: the store_url setting (a URL) when set, else the GeoPackage path of store_path."""
    return settings.store_url() or settings.store_path()


def location_of(store: EventStore) -> Path | str:
    """The location an open store was opened at (its file, or its URL), to open it again elsewhere."""
    return getattr(store, "url", None) or store.path


def is_url(location: Path | str) -> bool:
    """Whether a store location names a PostgreSQL server rather than a GeoPackage file."""
    return isinstance(location, str) and location.startswith(("postgresql://", "postgres://"))
