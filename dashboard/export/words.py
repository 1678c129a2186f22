"""What an export says about its view: the selection in words, the days, the credits, the file name."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import TYPE_CHECKING

from dashboard.model import Event
from dashboard.share import describe
from dashboard.table import date_bounds as table_date_bounds
from dashboard.table import publishers_of

if TYPE_CHECKING:
    from dashboard.scene import Scene

# Media type and file extension per format, for download buttons and `-o` names.
FORMATS: dict[str, tuple[str, str]] = {
    "png": ("image/png", ".png"),
    "html": ("text/html", ".html"),
    "geojson": ("application/geo+json", ".geojson"),
    "kml": ("application/vnd.google-earth.kml+xml", ".kml"),
    "kmz": ("application/vnd.google-earth.kmz", ".kmz"),
    "csv": ("text/csv", ".csv"),
    "mp4": ("video/mp4", ".mp4"),      # the playback, frame by frame (export.animation)
    "webm": ("video/webm", ".webm"),
    "gif": ("image/gif", ".gif"),
}
TEXT_FORMATS: tuple[str, ...] = ("html", "geojson", "kml", "csv")


def date_bounds(events: Iterable[Event]) -> tuple[date, date] | None:
    """First and last day of the events, or None when there are none."""
    events = list(events)
    if not events:
        return None
    return min(e.time.start for e in events), max(e.time.end for e in events)


def selection_days(scene: Scene) -> tuple[date, date] | None:
    """First and last day of the scene's events. The app's scenes carry the events' rows of the columnar
    table: the days are read there, not from every event."""
    if scene.table is not None and scene.rows is not None:
        return table_date_bounds(scene.table, scene.rows)
    return date_bounds(scene.events)


def _publishers(scene: Scene) -> set[str]:
    if scene.table is not None and scene.rows is not None:
        return publishers_of(scene.table, scene.rows)
    return {e.source.publisher for e in scene.events}


def summary(scene: Scene) -> str:
    """The selection in words ('1 event between 1 Jun and 30 Jun 2022 in UA'), plain text."""
    return describe(scene.state, len(scene.events), selection_days(scene))


def date_span(scene: Scene) -> str:
    """The days the view covers: the date filter, its open sides filled from the events shown."""
    bounds = selection_days(scene)
    start = scene.state.start or (bounds[0] if bounds else None)
    end = scene.state.end or (bounds[1] if bounds else None)
    if start is None and end is None:
        return "All dates"
    if start is None or end is None:
        return f"until {_day(end)}" if start is None else f"from {_day(start)}"  # type: ignore[arg-type]
    return _day(start) if start == end else f"{_day(start)} – {_day(end)}"


def _day(d: date) -> str:
    # Not strftime: %b follows the process locale and %-d is glibc-only.
    return f"{d.day} {'JanFebMarAprMayJunJulAugSepOctNovDec'[3 * d.month - 3:3 * d.month]} {d.year}"


def not_drawn(scene: Scene) -> str:
    """'Not drawn, outside these dates: Iskander-M, 500 km from Belarus, from 25 Jun 2022 (approximate).' or ""."""
    if not scene.dormant:
        return ""
    return "Not drawn, outside these dates: " + "; ".join(r.label for r in scene.dormant) + "."


def bearing_words(scene: Scene) -> str:
    """'Lines of bearing: Bearing 315° for 200 km from Desna (to 52.2531, 28.7290).' or ""."""
    if not scene.bearings:
        return ""
    lines = [f"{b.label} (to {b.end[1]:.4f}, {b.end[0]:.4f})" for b in scene.bearings]
    return f"Line{'s' * (len(lines) > 1)} of bearing: " + "; ".join(lines) + "."
def launch_lines(scene: Scene, limit: int = 8) -> list[str]:
    """Each launch area in one sentence, then what could reach its target from its territory (once per pair):
    'Iskander-M could reach Desna from 82.1% of Belarus …', 'Could reach Desna from Belarus (…): …'."""
    lines: list[str] = []
    for area in scene.launches:
        lines.append(area.sentence() + ".")
        if area.listing is not None and (listing := area.listing.sentence(limit) + ".") not in lines:
            lines.append(listing)
    return lines


def attribution(scene: Scene, limit: int = 8) -> str:
    """'Natural Earth; events: AFP, Reuters; ranges: CSIS Missile Threat', for the picture's corner."""
    parts = ["Natural Earth"]
    for what, names in (("events", _publishers(scene)),
                        ("ranges", {r.source.publisher for r in (*scene.rings, *scene.launches) if r.source}),
                        ("sites", {r.site.source.publisher for r in scene.rings if r.site})):
        if names:
            parts.append(f"{what}: {_credits(names, limit)}")
    return "; ".join(parts)


def _credits(names: set[str], limit: int) -> str:
    """Publishers in order, those citing others once each: "ACLED, citing Reuters" and "ACLED, citing AFP"
    (one per outlet in an ACLED import) are "ACLED (citing AFP, Reuters)", not the same name twice; ACLED's
    "Belaruski Hajun; Kyiv Independent" (an event from two outlets) counts each outlet once."""
    citing: dict[str, list[str]] = {}
    for name in names:
        who, sep, cited = name.partition(", citing ")
        citing.setdefault(who if sep else name, [])
        if sep:
            citing[who].extend(part.strip() for part in cited.split(";") if part.strip())
    shown = []
    for who in sorted(citing, key=str.casefold):
        cited = sorted(set(citing[who]), key=str.casefold)
        more = f" and {len(cited) - limit} more" if len(cited) > limit else ""
        shown.append(f"{who} (citing {', '.join(cited[:limit])}{more})" if cited else who)
    more = f" and {len(shown) - limit} more" if len(shown) > limit else ""
    return ", ".join(shown[:limit]) + more


def filename(scene: Scene, fmt: str) -> str:
    """A download name such as 'reachmap-2022-06-01_2022-06-30.png'."""
    state = scene.state
    days = "_".join(d.isoformat() for d in (state.start, state.end) if d is not None)
    return f"reachmap{'-' + days if days else ''}{FORMATS[fmt][1]}"
