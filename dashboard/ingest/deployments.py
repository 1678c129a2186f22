"""Deployments from a file of one's own: where a system is reported, since when, until when, and who says so.

    python -m dashboard import deployments.csv --format deployments

A CSV with a header row, one deployment a row:

    system       a catalogue id (iskander-m)                        required
    origin       as a ring's origin: a place, BY, BY-UA, 53.9,27.57  required
    reach        1/true: everything in range of a territory or border (a country or border origin always is)
    from, until  YYYY-MM-DD, either may be empty (open), not both
    approximate  1/true when the days are read from vague words ("in the coming months")
    title        the deployment's name, shown on its button ("Iskander-M in Belarus")
    source_title, source_publisher, source_url, source_published (YYYY-MM-DD), quote   the source: title,
                 publisher and the quote that dates it are required
    note         how the words became days

or a JSON file shaped like a story file's "sources" and "deployments" (geodata/stories). Every row is
checked (the system against the catalogue, dates, the source); one bad row refuses the file with its line,
field, value and what to do, and nothing is saved. The deployments are kept as a JSON file of that shape in
the data folder's `deployments/` (settings.deployments_dir), which the catalogue reads beside the stories:
the rings panel offers each one, and a ring of exactly that system, origin and days carries its source and
quote.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import tempfile
from pathlib import Path

from dashboard.errors import DashboardError, ValidationError
from dashboard.ingest.story import _deployments, _source, parse_date
from dashboard.model import Catalogue, Deployment

COLUMNS = ("system", "origin", "reach", "from", "until", "approximate", "title", "source_title",
           "source_publisher", "source_url", "source_published", "quote", "note")
REQUIRED = ("system", "origin", "source_title", "source_publisher", "quote")
MAX_BYTES = 5_000_000
_TRUE, _FALSE = ("1", "true", "yes"), ("", "0", "false", "no")


def read_deployments(path: Path, catalogue: Catalogue) -> tuple[Deployment, ...]:
    """The deployments of a CSV or JSON file, every one checked; DashboardError naming the line and field."""
    path = Path(path)
    try:
        if path.stat().st_size > MAX_BYTES:
            raise DashboardError(f"The deployments file {path.name} is over {MAX_BYTES / 1e6:.0f} MB; split it.")
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise DashboardError(f"Cannot read the deployments file {path}: {exc.strerror or exc}.") from None
    except UnicodeDecodeError:
        raise DashboardError(f"The deployments file {path.name} is not UTF-8 text; save it as UTF-8.") from None
    data = _json(text, path.name) if path.suffix.lower() == ".json" else _csv(text, path.name)
    stem = re.sub(r"[^a-z0-9]+", "-", path.stem.lower()).strip("-") or "deployments"
    for i, raw in enumerate(data["deployments"]):
        if not isinstance(raw, dict):
            raise DashboardError(f"In the deployments file {path.name}, deployment {i + 1} is not an object.")
        # A CSV row is named by its line, so that an error says where: minsk-line-3.
        raw.setdefault("id", f"{stem}-line-{raw.pop('line')}" if "line" in raw else f"{stem}-{i + 1}")
    try:
        found = _deployments(data, {key: _source(raw) for key, raw in data["sources"].items()})
    except KeyError as exc:
        raise DashboardError(f"The deployments file {path.name} lacks the field {exc.args[0]!r}.") from None
    except ValidationError as exc:
        raise DashboardError(f"In the deployments file {path.name}: {exc}") from None
    for deployment in found:
        try:
            catalogue.get(deployment.system)
        except ValidationError as exc:
            raise DashboardError(f"In the deployments file {path.name}, {deployment.id}: {exc}") from None
    if not found:
        raise DashboardError(f"The deployments file {path.name} holds no deployment.")
    return found


def _json(text: str, name: str) -> dict:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DashboardError(f"The deployments file {name} is not JSON: {exc.msg} at line {exc.lineno}.") from None
    if not isinstance(data, dict) or not isinstance(data.get("deployments"), list) \
            or not isinstance(data.get("sources", {}), dict):
        raise DashboardError(f"The deployments file {name} must be an object with \"sources\" and a list of "
                             "\"deployments\", as in a story file.")
    data.setdefault("sources", {})
    return data


def _csv(text: str, name: str) -> dict:
    rows = csv.DictReader(io.StringIO(text))
    header = [h.strip().lower() for h in rows.fieldnames or ()]
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        optional = ", ".join(c for c in COLUMNS if c not in REQUIRED)
        raise DashboardError(f"The deployments file {name} has no column {', '.join(missing)}; its header must name "
                             f"{', '.join(REQUIRED)} (and may name {optional}).")
    sources: dict[str, dict] = {}
    deployments = []
    for line, raw in enumerate(rows, start=2):
        row = {(k or "").strip().lower(): (v or "").strip() for k, v in raw.items() if k is not None}
        where = f"line {line}"
        for column in REQUIRED:
            if not row.get(column):
                raise DashboardError(f"In the deployments file {name}, {where}: {column} is empty; every row needs "
                                     f"{', '.join(REQUIRED)}.")
        flags = {}
        for column in ("reach", "approximate"):
            value = row.get(column, "").lower()
            if value not in _TRUE + _FALSE:
                raise DashboardError(f"In the deployments file {name}, {where}: {column} {row[column]!r} must be "
                                     "1 or 0 (true or false).")
            flags[column] = value in _TRUE
        for column in ("from", "until", "source_published"):
            try:
                parse_date(row.get(column), column)
            except ValidationError as exc:
                raise DashboardError(f"In the deployments file {name}, {where}: {exc}") from None
        key = f"row-{line}"
        sources[key] = {"title": row["source_title"], "publisher": row["source_publisher"],
                        "url": row.get("source_url", ""), "published": row.get("source_published") or None}
        deployments.append({"line": line, "system": row["system"], "origin": row["origin"], "reach": flags["reach"],
                            "from": row.get("from") or None, "until": row.get("until") or None,
                            "approximate": flags["approximate"], "title": row.get("title", ""), "source": key,
                            "quote": row["quote"], "note": row.get("note", "")})
    return {"sources": sources, "deployments": deployments}


def save_deployments(deployments: tuple[Deployment, ...], folder: Path, name: str) -> Path:
    """Write the deployments as `<folder>/<name>.json` (a story file's shape), whole or not at all."""
    folder.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "deployments"
    sources, rows = {}, []
    for i, d in enumerate(deployments):
        src = d.valid.source
        key = f"s{i + 1}"
        sources[key] = {"title": src.title, "publisher": src.publisher, "url": src.url,
                        "published": src.published.isoformat() if src.published else None}
        rows.append({"id": d.id, "title": d.title, "system": d.system, "origin": d.origin, "reach": d.reach,
                     "from": d.valid.start.isoformat() if d.valid.start else None,
                     "until": d.valid.end.isoformat() if d.valid.end else None, "approximate": d.valid.approximate,
                     "source": key, "quote": src.quote, "note": d.valid.note})
    target = folder / f"{stem}.json"
    fd, tmp = tempfile.mkstemp(prefix=target.name + ".", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump({"sources": sources, "deployments": rows}, f, ensure_ascii=False, indent=2)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
