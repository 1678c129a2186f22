"""Import event files (ACLED, CSV, Excel, GeoJSON, KML) into the store: all checked first, then one transaction.

    >>> preview = preview_file(path, gazetteer)                   # doctest: +SKIP
    >>> report = import_file(path, store, gazetteer, skip_bad=True)  # doctest: +SKIP
    >>> print(report)                                             # doctest: +SKIP
    acled.csv (acled): 3 rows, 2 added, 0 updated, 1 rejected

With rejected rows and skip_bad False nothing is written; with skip_bad True the good rows are written and
the rest reported. A failed or cancelled import (an exception, KeyboardInterrupt, or an exception raised by
the progress callback) leaves the store exactly as it was.

ACLED files go through columns end to end (acled.AcledFile): a CSV is read by Arrow's streaming reader in
blocks, each block checked with the same vectorised checks and rejections as a whole table, its places
deduplicated by key and its rows written as the tables' rows (no Event per row), all in one transaction
that is rolled back when a row is rejected without skip_bad. Memory stays flat with the number of rows
(but for one small entry per distinct place). Generic CSV, Excel, GeoJSON and KML keep the whole-table path
(`Parsed`): every row an Event, then one put_events.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from dashboard.errors import DashboardError, ValidationError
from dashboard.gazetteer import Gazetteer
from dashboard.ingest.acled import AcledFile, is_acled
from dashboard.ingest.acled_deletions import FORMAT as DELETIONS, is_deletions
from dashboard.ingest.geofile import KML_IGNORED, read_geofile
from dashboard.ingest.rows import Parsed, PlaceMatch, Rejection, clean_table, shown
from dashboard.ingest.table import (XLSX_ERRORS, ArrowUnusable, Table, check_size, container, first_record, head_text,
                                    header_key, read_csv, read_head, read_xlsx, sniff_delimiter, stream_csv,
                                    text_encoding)
from dashboard.ingest.tabular import parse_tabular
from dashboard.model import Event
from dashboard.store import EventStore

__all__ = ["FORMATS", "ImportReport", "PlaceMatch", "Preview", "Rejection", "detect_format", "import_file",
           "preview_file"]

FORMATS = ("acled", "csv", "xlsx", "geojson", "kml")
WRITE_BATCH = 1000  # event rows per executemany of a chunked import (and per progress report)
Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class ImportReport:
    """What an import did; `stored` is False when nothing was written (rejections without skip_bad)."""

    format: str
    source: str
    rows: int
    added: int
    updated: int
    rejected: tuple[Rejection, ...]
    stored: bool
    date_order: str = ""
    warnings: tuple[str, ...] = ()
    unchanged: int = 0  # rows equal to the stored events: left alone, no new version
    skipped: int = 0    # ACLED rows older than the stored revision of their event (its `timestamp`)

    @property
    def rejected_rows(self) -> int:
        """Rows left out (a row with two bad fields has two rejections)."""
        return len({r.line for r in self.rejected})

    def __str__(self) -> str:
        text = f"{self.source} ({self.format}): {self.rows:,} rows, {self.added:,} added, {self.updated:,} updated, "
        if self.unchanged:
            text += f"{self.unchanged:,} unchanged, "
        if self.skipped:
            text += f"{self.skipped:,} skipped (older than the stored revision), "
        text += f"{self.rejected_rows:,} rejected"
        return text if self.stored else text + "; nothing was stored"


@dataclass(frozen=True)
class Preview:
    """The first rows of a file exactly as they would be stored, every problem found, names to review."""

    format: str
    events: tuple[Event, ...]
    rejected: tuple[Rejection, ...]
    matches: tuple[PlaceMatch, ...]
    date_order: str
    rows: int = 0
    warnings: tuple[str, ...] = ()
    columns: tuple[tuple[str, str], ...] = ()  # (model field, the file's column used for it), for the preview


def detect_format(path: Path) -> str:
    """'acled', 'csv', 'xlsx', 'geojson' or 'kml', judged by the content (ACLED by its columns, any case);
    'acled-deletions' for ACLED's table of deleted events (which import_file refuses: see acled_deletions)."""
    path = Path(path)
    check_size(path)
    head = read_head(path)
    kind = container(head, path)
    if kind == "kmz":
        return "kml"
    if kind == "xlsx":
        keys = _xlsx_header_keys(path)
        return "acled" if is_acled(keys) else DELETIONS if is_deletions(keys) else "xlsx"
    encoding = text_encoding(head, path)
    text = head_text(head, encoding).lstrip("\ufeff \t\r\n")
    if text.startswith(("{", "[")):
        if '"type"' in text and ('"Feature' in text or '"coordinates"' in text or '"geometry"' in text):
            return "geojson"
        raise DashboardError(f"The file {path.name} is JSON but not GeoJSON (no features); export it as GeoJSON "
                             f"or CSV.")
    if text.startswith("<"):
        if "<kml" in text[:4096].lower():
            return "kml"
        raise DashboardError(f"The file {path.name} is XML or HTML but not KML; export it as KML, GeoJSON or CSV.")
    first_line = text.split("\n", 1)[0]
    header = first_record(text, sniff_delimiter(first_line))
    keys = {header_key(h) for h in header}
    return "acled" if is_acled(keys) else DELETIONS if is_deletions(keys) else "csv"


def preview_file(path: Path, gazetteer: Gazetteer, format: str = "auto", limit: int = 20,
                 place_choices: dict[str, str] | None = None, source_name: str | None = None) -> Preview:
    """Read and check the whole file; build the first `limit` good rows as events (nothing is stored)."""
    parsed = _parse(Path(path), gazetteer, format, source_name or Path(path).name, place_choices)
    if isinstance(parsed, AcledFile):
        try:
            return _preview_acled(parsed, limit)
        except ArrowUnusable:
            name = source_name or Path(path).name
            return _preview_acled(AcledFile.from_table(_read_table(Path(path), name, "text"), gazetteer, name), limit)
    events: list[Event] = []
    late: list[Rejection] = []
    if limit > 0:
        for i, item in parsed.build():
            if isinstance(item, ValidationError):
                late.append(_rejection(parsed, i, item))
                continue
            events.append(item)
            if len(events) >= limit:
                break
    return Preview(parsed.format, tuple(events), _sorted(parsed.rejected + late), parsed.matches,
                   parsed.date_order, parsed.rows, parsed.warnings, parsed.columns)


def import_file(path: Path, store: EventStore, gazetteer: Gazetteer, format: str = "auto", skip_bad: bool = False,
                progress: Progress | None = None, place_choices: dict[str, str] | None = None,
                source_name: str | None = None, user: str | None = None) -> ImportReport:
    """Import a file into the store in one transaction; see the module doc for what is written when.

    `source_name` is the name shown and recorded as the origin ("import:<name>"), e.g. an uploaded file's
    own name when `path` is a temporary copy. `place_choices` maps PlaceMatch.key → Candidate.key. `user`: who
    the changes are recorded as (None: the `user` setting).
    """
    path = Path(path)
    name = source_name or path.name
    tell = _monotone(progress)
    tell(0.0, f"Reading {name}")
    parsed = _parse(path, gazetteer, format, name, place_choices)
    if isinstance(parsed, AcledFile):
        try:
            return _import_acled(parsed, store, name, skip_bad, tell, user)
        except ArrowUnusable:  # a file Arrow read at first but not to the end: read it whole, then the same
            return _import_acled(AcledFile.from_table(_read_table(path, name, "text"), gazetteer, name), store,
                                 name, skip_bad, tell, user)
    good = int((~parsed.bad).sum())
    tell(0.3, f"Checked {parsed.rows:,} rows: {good:,} good, {parsed.rows - good:,} rejected")

    def report(added: int, updated: int, rejected: list[Rejection], stored: bool, unchanged: int = 0) -> ImportReport:
        return ImportReport(parsed.format, name, parsed.rows, added, updated, _sorted(rejected), stored,
                            parsed.date_order, parsed.warnings, unchanged)

    if parsed.rejected and not skip_bad:
        return report(0, 0, parsed.rejected, stored=False)
    late: list[Rejection] = []
    events = _stream(parsed, late, skip_bad, good, tell)
    try:
        summary = store.put_events(events, origin=f"import:{name}", user=user)
    except _Refused:
        return report(0, 0, parsed.rejected + late, stored=False)
    tell(1.0, f"Stored {summary.added + summary.updated:,} events")
    return report(summary.added, summary.updated, parsed.rejected + late, stored=True, unchanged=summary.unchanged)


def _import_acled(parsed: AcledFile, store: EventStore, name: str, skip_bad: bool, tell: Progress,
                  user: str | None = None) -> ImportReport:
    """Check, build and write an ACLED file chunk by chunk in one transaction (see the module doc for when
    it is kept): the same rejections as a file checked whole, in a fraction of the time and memory."""
    early: list[Rejection] = []  # what the column checks reject
    late: list[Rejection] = []   # rows the checks passed and the model refused
    known: dict[str, tuple[float, float, str]] = {}
    pending: dict[str, tuple] = {}
    checked = written = 0
    total = max(parsed.rows, 1)

    def report(added: int, updated: int, rejected: list[Rejection], stored: bool, unchanged: int = 0,
               skipped: int = 0) -> ImportReport:
        return ImportReport("acled", name, parsed.rows, added, updated, _sorted(rejected), stored,
                            parsed.date_order, tuple(parsed.warnings), unchanged, skipped)

    try:
        # ACLED's timestamp is the event's last revision: an older export does not overwrite a newer one.
        with store.bulk_writer(f"import:{name}", user=user, revision="timestamp") as writer:
            for chunk in parsed.chunks():
                early.extend(chunk.rejected)
                checked += len(chunk.table)
                tell(0.3 * checked / total, f"Checked {checked:,} of {parsed.rows:,} rows: {len(early):,} rejected")
                if not skip_bad and early:
                    continue  # nothing will be stored: the model's view of the rest is not asked
                places, events, refused = chunk.rows(known, pending, writer.origin, writer.now)
                late.extend(Rejection(int(chunk.table.lines[i]), exc.field, shown(exc.value), exc.reason)
                            for i, exc in refused)
                if late and not skip_bad:
                    continue
                for at in range(0, len(events), WRITE_BATCH):  # in batches, so progress moves while it writes
                    writer.write(places if at == 0 else (), events[at:at + WRITE_BATCH])
                    written += len(events[at:at + WRITE_BATCH])
                    tell(0.3 + 0.7 * written / total, f"Writing {written:,} of {parsed.rows:,} events")
            if (early or late) and not skip_bad:
                raise _Refused()  # roll back what was written before the first rejection
    except _Refused:
        return report(0, 0, early or late, stored=False)
    tell(1.0, f"Stored {writer.added + writer.updated:,} events")
    return report(writer.added, writer.updated, early + late, stored=True, unchanged=writer.unchanged,
                  skipped=writer.skipped)


def _preview_acled(parsed: AcledFile, limit: int) -> Preview:
    events: list[Event] = []
    rejected: list[Rejection] = []
    places: dict = {}
    for chunk in parsed.chunks():
        rejected.extend(chunk.rejected)
        if len(events) >= limit:
            continue
        for i, item in chunk.events(places):
            if isinstance(item, ValidationError):
                rejected.append(Rejection(int(chunk.table.lines[i]), item.field, shown(item.value), item.reason))
                continue
            events.append(item)
            if len(events) >= limit:
                break
    return Preview("acled", tuple(events), _sorted(rejected), (), parsed.date_order, parsed.rows,
                   tuple(parsed.warnings), parsed.columns)


class _Refused(Exception):
    """Raised inside the write to roll it back: a row the checks passed was refused by the model."""


def _stream(parsed: Parsed, late: list[Rejection], skip_bad: bool, good: int, tell: Progress) -> Iterator[Event]:
    """The good rows' events for the store; a row the model refuses stops the write unless skip_bad."""
    done = 0
    step = max(1000, good // 100)
    for i, item in parsed.build():
        done += 1
        if done % step == 0:
            tell(0.3 + 0.7 * done / good, f"Writing {done:,} of {good:,} events")
        if isinstance(item, ValidationError):
            late.append(_rejection(parsed, i, item))
            continue
        if not late or skip_bad:
            yield item
    if late and not skip_bad:
        raise _Refused()  # after every row was built, so the report lists all of them


def _parse(path: Path, gazetteer: Gazetteer, fmt: str, name: str,
           place_choices: dict[str, str] | None) -> Parsed | AcledFile:
    if fmt != "auto" and fmt not in FORMATS:
        raise DashboardError(f"Unknown import format {fmt!r}; use auto, {', '.join(FORMATS)}.")
    detected = detect_format(path)
    if detected == DELETIONS:  # deleting is never a side effect of "auto": the user asks for it by name
        raise DashboardError(f"The file {name} is an ACLED deletions file (event_id_cnty, deleted_timestamp), not "
                             f"events; import it with format {DELETIONS} to delete the events it lists.")
    fmt = detected if fmt == "auto" else fmt
    kind = container(read_head(path), path)
    if fmt in ("geojson", "kml"):
        if detected != fmt:
            raise DashboardError(f"The file {name} is not {fmt.upper()} (it reads as {detected}); import it with "
                                 f"format auto or {detected}.")
        table, geometries = read_geofile(path, name, fmt)
        return parse_tabular(clean_table(table), gazetteer, name, fmt, place_choices, geometries,
                             KML_IGNORED if fmt == "kml" else frozenset())
    if kind == "kmz" or detected in ("geojson", "kml"):
        raise DashboardError(f"The file {name} is {detected.upper()}, not a table; import it with format auto or "
                             f"{detected}.")
    if fmt == "xlsx" and kind != "xlsx":
        raise DashboardError(f"The file {name} is not an Excel workbook (it reads as {detected}); import it with "
                             f"format auto or csv.")
    if fmt == "acled" and kind != "xlsx":
        stream = stream_csv(path, name)
        if stream is not None:
            try:
                return AcledFile.from_stream(stream, gazetteer, name)
            except ArrowUnusable:
                pass  # read whole below, by the reader that falls back to pandas
    table = _read_table(path, name, kind)
    if fmt == "acled":
        return AcledFile.from_table(table, gazetteer, name)
    return parse_tabular(table, gazetteer, name, "xlsx" if kind == "xlsx" else "csv", place_choices)


def _read_table(path: Path, name: str, kind: str) -> Table:
    return clean_table(read_xlsx(path, name) if kind == "xlsx" else read_csv(path, name))


def _xlsx_header_keys(path: Path) -> set[str]:
    """The normalised header of the first sheet with one (reads one row, not the workbook)."""
    import openpyxl
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, *XLSX_ERRORS):
        return set()  # read_xlsx reports it, with the reason, when the workbook is read for real
    try:
        for sheet in workbook.worksheets:
            for values in sheet.iter_rows(values_only=True):
                cells = [str(v) for v in values if v not in (None, "")]
                if cells:
                    return {header_key(c) for c in cells}
        return set()
    except XLSX_ERRORS:
        return set()
    finally:
        workbook.close()


def _rejection(parsed: Parsed, i: int, exc: ValidationError) -> Rejection:
    return Rejection(int(parsed.lines[i]), exc.field, shown(exc.value), exc.reason)


def _sorted(rejected: list[Rejection]) -> tuple[Rejection, ...]:
    return tuple(sorted(rejected, key=lambda r: r.line))


def _monotone(progress: Progress | None) -> Progress:
    """The caller's progress callback, never called with a smaller fraction than before."""
    last = [0.0]

    def tell(fraction: float, message: str) -> None:
        last[0] = min(1.0, max(last[0], fraction))
        if progress is not None:
            progress(last[0], message)

    return tell
