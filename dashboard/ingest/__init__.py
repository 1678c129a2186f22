"""Turning outside data (story files, later ACLED, CSV, GeoJSON, KML, article text) into stored events."""

from __future__ import annotations

from pathlib import Path

from dashboard import settings
from dashboard.gazetteer import Gazetteer
from dashboard.ingest.story import load_stories
from dashboard.store import GeoPackageStore


def open_gazetteer(*, background: bool = False) -> Gazetteer:
    """The gazetteer with the stories' places added, so 'Desna' means the story's Desna (710071).

    `background`: see Gazetteer.open (the app's first start does not wait for the names).
    """
    gazetteer = Gazetteer.open(background=background)
    for story in load_stories(settings.story_dir(), gazetteer):
        gazetteer.add_places(story.places)
    return gazetteer


def open_store(path: Path | None = None, gazetteer: Gazetteer | None = None) -> GeoPackageStore:
    """The store at `path` (default: the store_path setting), created and seeded with the stories if new."""

    def seed():
        gaz = gazetteer or Gazetteer.open()
        for story in load_stories(settings.story_dir(), gaz):
            yield story.events, story.origin

    return GeoPackageStore.open(path or settings.store_path(), seed=seed)
