"""Read the weapon systems catalogue (geodata/systems.json) into model objects.

Each munition carries, besides the model's fields, the words of its quote that state the range
(`range_text`) and notes on conversions, dates and titles (`range_note`, `date_note`, `title_note`);
the loader checks that `range_text` is in the quote, and tests/test_catalogue.py that it says `range_km`.
An optional minimum range (`min_range_km`) comes with `min_range_text`, checked the same way against the
quote of `min_source` (by default the range's own source).
"""

from __future__ import annotations

import json
from pathlib import Path

from dashboard.errors import DashboardError, ValidationError
from dashboard import settings
from dashboard.ingest.story import load_deployments, parse_date
from dashboard.model import Catalogue, Munition, Source, WeaponSystem
from dashboard.settings import GEODATA_DIR

CATALOGUE_PATH = GEODATA_DIR / "systems.json"


def load_catalogue(path: Path = CATALOGUE_PATH, story_dir: Path | None = None) -> Catalogue:
    """Every system with its munitions, each range cited; errors name the system and field. With the
    deployments the story files declare (`story_dir`; by default the story_dir setting's, and those imported
    into the deployments_dir setting's folder), each checked to name a system of the catalogue."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise DashboardError(f"Cannot read the systems catalogue {path}: {exc}.") from exc
    systems = []
    for raw in data.get("systems", []):
        try:
            systems.append(_system(raw))
        except (KeyError, TypeError) as exc:
            raise ValidationError(f"systems[{raw.get('id', '?')}]", exc.args[0] if exc.args else raw,
                                  "missing or malformed field") from exc
    deployments = load_deployments(story_dir if story_dir is not None else settings.story_dir())
    if story_dir is None:  # and those imported (ingest.deployments)
        deployments += load_deployments(settings.deployments_dir())
    catalogue = Catalogue(tuple(systems))
    for deployment in deployments:
        catalogue.get(deployment.system)  # raises, naming the known ones, for a system the catalogue lacks
    return Catalogue(tuple(systems), deployments)


def _source(src: dict) -> Source:
    return Source(src["title"], src["publisher"], src.get("url", ""),
                  parse_date(src.get("published"), "source.published"), src.get("quote", ""))


def _system(raw: dict) -> WeaponSystem:
    munitions = []
    for m in raw.get("munitions", []):
        src = m["source"]
        # Each range is cited: the words that state it ("500 km", "48 miles") are copied from the quote.
        if "range_text" in m and m["range_text"] not in src.get("quote", ""):
            raise ValidationError(f"systems[{raw['id']}] munition {m['name']!r} range_text", m["range_text"],
                                  "must be copied verbatim from source.quote")
        # A minimum range is cited like the range: its words (min_range_text) copied from the quote of its own
        # source, or of the range's source when the same sentence states both ("20-70 km").
        minimum = m.get("min_source", src if "min_range_km" in m else None)
        if "min_range_km" in m and m.get("min_range_text", "\0") not in minimum.get("quote", ""):
            raise ValidationError(f"systems[{raw['id']}] munition {m['name']!r} min_range_text",
                                  m.get("min_range_text"), "must be given, copied verbatim from its source's quote")
        munitions.append(Munition(
            name=m["name"], kind=m["kind"], range_km=m["range_km"], designation=m.get("designation", ""),
            source=_source(src), min_range_km=m.get("min_range_km", 0.0),
            min_source=_source(minimum) if minimum else None,
        ))
    return WeaponSystem(id=raw["id"], name=raw["name"], category=raw.get("category", ""),
                        aliases=tuple(raw.get("aliases", ())), munitions=tuple(munitions))
