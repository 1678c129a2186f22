"""Files as tables of text: CSV (any delimiter, BOM, CRLF, multi-line quoted cells) and Excel .xlsx.

Every cell becomes a `str` ("" when empty) and every row keeps the line number a text editor shows for it
(Excel: the sheet's row number), so a rejected row can be found in the file.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv

from dashboard import settings
from dashboard.errors import DashboardError
from dashboard.ingest.limits import MAX_COLUMNS, check_zip, clean_text

SNIFF_BYTES = 64 * 1024
_DELIMITERS = (",", ";", "\t", "|")
_UNNAMED = re.compile(r"^Unnamed: \d+(_level_\d+)?$")  # what pandas calls a column with an empty header


def header_key(name: str) -> str:
    """The form column names are compared in: 'Event Date ' → 'event_date', 'EVENT_ID_CNTY' → 'event_id_cnty'."""
    return re.sub(r"[\s\-./]+", "_", str(name).strip().lstrip("\ufeff").casefold()).strip("_")


@dataclass(eq=False)
class Table:
    """Rows of text cells with their line numbers; `frame` columns are the file's own header names."""

    name: str
    frame: pd.DataFrame
    lines: np.ndarray  # int64, one per row
    # Rows the reader already knows are unusable, by row index: (field, value, reason); and notes for the report.
    problems: dict[int, tuple[str, str, str]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._by_key: dict[str, str] = {}
        for column in self.frame.columns:
            self._by_key.setdefault(header_key(column), column)

    def __len__(self) -> int:
        return len(self.frame)

    def find(self, *keys: str) -> str | None:
        """The file's name of the first column whose normalised header is one of `keys`, or None."""
        for key in keys:
            if key in self._by_key:
                return self._by_key[key]
        return None

    def keys(self) -> set[str]:
        return set(self._by_key)


# ------------------------------------------------------------------------------------------- sniffing

def check_size(path: Path) -> int:
    """The file's size in bytes; DashboardError if it is missing, not a file, empty or over the limit."""
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise DashboardError(f"Cannot read the file {path}: {exc.strerror}; check the path.") from exc
    if not path.is_file():
        raise DashboardError(f"{path} is not a file; give the path of a CSV, Excel, GeoJSON or KML file.")
    limit_mb = settings.import_max_mb()
    if size > limit_mb * 1024 * 1024:
        raise DashboardError(
            f"The file {path.name} is {size / 1024 / 1024:,.0f} MB, more than the import limit of {limit_mb:g} MB "
            f"(setting import_max_mb); split it into smaller files or raise REACHMAP_IMPORT_MAX_MB.")
    if size == 0:
        raise DashboardError(f"The file {path.name} is empty; export the data again.")
    return size


def read_head(path: Path) -> bytes:
    try:
        with open(path, "rb") as fh:
            return fh.read(SNIFF_BYTES)
    except OSError as exc:
        raise DashboardError(f"Cannot read the file {path}: {exc.strerror}; check the path.") from exc


def container(head: bytes, path: Path) -> str:
    """What the bytes are: 'xlsx', 'kmz', 'text' (with its encoding decided by `text_encoding`)."""
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(path) as archive:
                names = archive.namelist()
        except (zipfile.BadZipFile, OSError) as exc:
            raise DashboardError(f"The file {path.name} looks like a ZIP archive but cannot be opened ({exc}); "
                                 "export it again.") from exc
        if "xl/workbook.xml" in names:
            check_xlsx_parts(path, path.name)
            return "xlsx"
        if any(n.lower().endswith(".kml") for n in names):
            with zipfile.ZipFile(path) as archive:
                check_zip(archive, path.name, "KMZ")
            return "kmz"
        raise DashboardError(f"The file {path.name} is a ZIP archive that holds neither an Excel workbook nor KML; "
                             "unpack it and import the CSV, GeoJSON or KML file inside.")
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise DashboardError(f"The file {path.name} is an old Excel .xls workbook, which Reachmap does not read; "
                             "save it as .xlsx or CSV and import that.")
    text_encoding(head, path)  # raises on binary content
    return "text"


def text_encoding(head: bytes, path: Path) -> str:
    """The encoding of a text file (UTF-8 with or without BOM, UTF-16, or Windows-1252); refuses binary."""
    if head.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"  # Excel's "Unicode text": tab-separated UTF-16
    else:
        encoding = "utf-8"
    if head.count(b"\x00") > max(2, len(head) // 1000):
        raise _binary(path)  # UTF-16 without a BOM, or binary; a stray NUL in text is removed with a warning
    for candidate in (encoding, "cp1252"):
        try:
            text = codecs.getincrementaldecoder(candidate)().decode(head, final=len(head) < SNIFF_BYTES)
        except UnicodeDecodeError:
            continue
        controls = sum(1 for c in text if c < " " and c not in "\t\r\n\f\x00")
        if controls > max(2, len(text) // 100):
            raise _binary(path)
        return candidate
    raise _binary(path)


def _binary(path: Path) -> DashboardError:
    return DashboardError(f"The file {path.name} is not text (binary content) and not an Excel workbook; "
                          "import a CSV, .xlsx, GeoJSON or KML file.")


def head_text(head: bytes, encoding: str) -> str:
    return codecs.getincrementaldecoder(encoding)(errors="replace").decode(head, final=False)


def sniff_delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in _DELIMITERS}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def first_record(text: str, delimiter: str) -> list[str]:
    """The header row of a CSV text (it may span lines when a header cell is quoted)."""
    try:
        return next(csv.reader(text.splitlines(), delimiter=delimiter), [])
    except csv.Error:
        return []


# -------------------------------------------------------------------------------------------------- CSV

def read_csv(path: Path, name: str) -> Table:
    """A CSV file as a Table; DashboardError with one sentence when it cannot be read as one.

    A file that ends without a line break in the middle of a row (fewer cells than the header, or inside a
    quoted cell) was cut off: that row is kept as a rejected row, never stored. A last row with every cell
    but no line break after it may be cut in its last cell, which no reader can tell: the report warns.
    """
    encoding, delimiter, header = _sniff(path, name)
    last = _last_record(path, encoding, delimiter, len(header)) if header else None
    end = last.offset if last is not None and last.cut else None
    frame = _read_arrow(path, encoding, delimiter, header, end)
    if frame is None:
        frame, encoding = _read_frame(path, name, encoding, delimiter, end)
    frame.columns = [str(c).strip().lstrip("\ufeff") for c in frame.columns]
    lines = _record_lines(path, encoding, delimiter, len(frame), end)
    table = Table(name, frame, lines)
    if last is not None:
        table = _with_last_record(table, last)
    table = _drop_empty(_without_unnamed_table(table))
    return table


class ArrowUnusable(Exception):
    """Arrow's reader cannot read this file (read it with read_csv, whose fallback can)."""


@dataclass(eq=False)
class CsvStream:
    """A CSV file read in record batches by Arrow's streaming reader, so memory does not grow with the file.

    `columns` are the names a Table of the file would have (unnamed columns left out, names cleaned);
    `lines` the line of every record Arrow yields (blank-cell rows included, as read_csv counts them);
    `last` a cut last record, which Arrow never sees and which becomes the last row, rejected.
    """

    name: str
    path: Path
    encoding: str
    delimiter: str
    names: list[str]      # Arrow's column names (unique), one per header cell
    kept: list[str]       # the names of the columns a Table keeps …
    columns: list[str]    # … and what the Table calls them
    rows: int             # records Arrow reads (the cut last record not counted); -1 until column_texts
    lines: np.ndarray
    end: int | None
    last: _LastRecord | None
    warnings: list[str]

    BLOCK_BYTES = 1 << 22  # Arrow's unit of work (~9,000 ACLED rows); a longer record sends the file to read_csv

    def _options(self, include: list[str] | None = None) -> dict:
        encoding = "utf8" if self.encoding.startswith("utf-8") else self.encoding
        return dict(
            read_options=pa_csv.ReadOptions(column_names=self.names, skip_rows=1, encoding=encoding,
                                            block_size=self.BLOCK_BYTES),
            parse_options=pa_csv.ParseOptions(delimiter=self.delimiter, newlines_in_values=True),
            convert_options=pa_csv.ConvertOptions(column_types={n: pa.string() for n in self.names},
                                                  include_columns=include, strings_can_be_null=False,
                                                  quoted_strings_can_be_null=False))

    def column_texts(self, columns: list[str]) -> dict[str, pa.ChunkedArray]:
        """Whole columns (by Table name) as Arrow text, the cut last record's cells left out; the first pass
        over the file, which counts its records and finds their lines (`batches` needs them)."""
        arrow_names = [self.kept[self.columns.index(c)] for c in columns]
        try:
            table = pa_csv.read_csv(_source(self.path, self.end), **self._options(list(dict.fromkeys(arrow_names))))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError, UnicodeDecodeError) as exc:
            raise ArrowUnusable(str(exc)) from None
        self.rows = table.num_rows
        try:
            self.lines = _record_lines(self.path, self.encoding, self.delimiter, self.rows, self.end)
        except UnicodeDecodeError as exc:  # bytes that are not UTF-8 in a column not read yet: read_csv's job
            raise ArrowUnusable(str(exc)) from None
        return {c: table.column(a) for c, a in zip(columns, arrow_names)}

    def batches(self) -> Iterator[Table]:
        """The file as Tables of a few thousand rows each, exactly as read_csv would give them (not cleaned)."""
        done = 0
        try:
            reader = pa_csv.open_csv(_source(self.path, self.end), **self._options())
            for batch in reader:
                n = batch.num_rows
                if n == 0:
                    continue
                frame = pa.Table.from_batches([batch]).select(self.kept).to_pandas(
                    types_mapper={pa.string(): pd.StringDtype("pyarrow")}.get)
                frame.columns = self.columns
                lines = self.lines[done:done + n]
                done += n
                yield _drop_empty(Table(self.name, frame, lines))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError, UnicodeDecodeError) as exc:
            raise ArrowUnusable(str(exc)) from None
        if done != self.rows:
            raise ArrowUnusable("the record count changed")
        if self.last is not None and self.last.cut:
            empty = Table(self.name, pd.DataFrame({c: pd.Series([], dtype=object) for c in self.names}),
                          np.zeros(0, dtype=np.int64))
            table = _with_last_record(empty, self.last)
            frame = table.frame[self.kept]
            frame.columns = self.columns
            yield Table(self.name, frame.reset_index(drop=True), table.lines, table.problems)


def _sniff(path: Path, name: str) -> tuple[str, str, list[str]]:
    """The file's encoding, delimiter and header row, from its first bytes; DashboardError when its columns
    cannot be read there."""
    head = read_head(path)
    encoding = text_encoding(head, path)
    text = head_text(head, encoding).lstrip("\ufeff")
    delimiter = sniff_delimiter(text.split("\n", 1)[0])
    header = first_record(text, delimiter)
    check_columns(len(header), name, complete=len(head) < SNIFF_BYTES or "\n" in text)
    return encoding, delimiter, header


def stream_csv(path: Path, name: str) -> CsvStream | None:
    """The CSV file as a CsvStream, or None when only read_csv's fallback reader can read it (see _read_arrow)."""
    encoding, delimiter, header = _sniff(path, name)
    if not header or encoding not in ("utf-8", "utf-8-sig", "cp1252") or any("\n" in h or "\r" in h for h in header):
        return None
    last = _last_record(path, encoding, delimiter, len(header))
    end = last.offset if last is not None and last.cut else None
    names = _unique(header)
    stream = CsvStream(name, path, encoding, delimiter, names, [], [], -1, np.zeros(0, dtype=np.int64), end, last, [])
    # The names a Table of this file has: read_csv's, then _without_unnamed's, then clean_table's.
    stripped_names = [str(c).strip().lstrip("\ufeff") for c in names]
    frame = _without_unnamed(pd.DataFrame(columns=stripped_names))
    kept_at = [stripped_names.index(c) for c in frame.columns]
    stream.kept = [names[i] for i in kept_at]
    stream.columns = list(frame.columns)
    if last is not None and not last.cut:
        stream.warnings = _with_last_record(Table(name, frame, np.zeros(0, dtype=np.int64)), last).warnings
    return stream


def check_columns(count: int, name: str, complete: bool = True) -> None:
    """Refuse a table wider than MAX_COLUMNS before its rows are read (100,000 columns took minutes)."""
    if count > MAX_COLUMNS:
        more = "" if complete else " or more"
        raise DashboardError(f"The file {name} has {count:,}{more} columns, more than the {MAX_COLUMNS:,} Reachmap "
                             f"reads; keep the columns you need (location, date, title, source) and import that.")


@dataclass(frozen=True)
class _LastRecord:
    """The file's last record when the file does not end with a line break."""

    offset: int         # where the record starts (bytes)
    line: int           # its first line (header = 1)
    cells: list[str]
    cut: bool           # fewer cells than the header, or the file ends inside a quoted cell
    unterminated: bool


_TAIL_LIMIT = 64 * 1024 * 1024


def _last_record(path: Path, encoding: str, delimiter: str, width: int) -> _LastRecord | None:
    """The last record of a file that does not end with a line break; None if it does (or is UTF-16).

    A line break ends a record when an even number of quote characters comes before it (quotes in a
    quoted cell are doubled), so the last record is found from the end without parsing the whole file.
    """
    if encoding == "utf-16":
        return None
    size = path.stat().st_size
    with open(path, "rb") as fh:
        fh.seek(max(0, size - 1))
        if fh.read(1) in (b"\n", b"\r"):
            return None
        fh.seek(0)
        quotes = newlines = 0
        while chunk := fh.read(1 << 22):
            quotes += chunk.count(b'"')
            newlines += chunk.count(b"\n")
        position, after_quotes, after_newlines = size, 0, 0
        start = None
        while position > 0 and size - position < _TAIL_LIMIT and start is None:
            step = min(1 << 20, position)
            fh.seek(position - step)
            chunk = fh.read(step)
            right = len(chunk)
            while (i := chunk.rfind(b"\n", 0, right)) >= 0:
                after_quotes += chunk.count(b'"', i + 1, right)
                if (quotes - after_quotes) % 2 == 0:
                    start = position - step + i + 1
                    break
                after_newlines += 1
                right = i
            else:
                after_quotes += chunk.count(b'"', 0, right)
            position -= step
        if start is None:
            if position > 0:
                return None  # a last record over 64 MB: the cell limit rejects it
            start = 0
        fh.seek(start)
        raw = fh.read()
    if start == 0:
        return None  # only a header: nothing to judge
    line = newlines - after_newlines + 1
    text = raw.decode(encoding, errors="replace")
    try:
        records = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True))
        unterminated = False
    except csv.Error:
        try:
            records = list(csv.reader(io.StringIO(text + '"', newline=""), delimiter=delimiter))
        except csv.Error:
            return None  # a cell over the csv module's 128 KiB: the cell limit rejects that row
        unterminated = True
    cells = records[0] if records else []
    if not any(c.strip() for c in cells):
        return None
    return _LastRecord(start, line, cells, unterminated or len(cells) < width, unterminated)


def _with_last_record(table: Table, last: _LastRecord) -> Table:
    """The table with a cut last record added as a rejected row, or with a warning about a complete one."""
    columns = list(table.frame.columns)
    if not last.cut:
        shown_cell = last.cells[-1][:60] if last.cells else ""
        table.warnings.append(f"The file does not end with a line break, so its last row (line {last.line}) may "
                              f"have been cut off; check that its last cell ({shown_cell!r}) is complete.")
        return table
    k = max(0, min(len(last.cells), len(columns)) - 1)
    cells = (last.cells + [""] * len(columns))[:len(columns)]
    frame = pd.concat([table.frame, pd.DataFrame([cells], columns=columns, dtype=object)], ignore_index=True)
    lines = np.append(table.lines, np.int64(last.line))
    if last.unterminated:
        reason = ("the file ends inside this quoted cell (no closing quote, no line break at the end): it looks "
                  "cut off; download or export it again")
    else:
        reason = (f"the file ends in the middle of this row ({len(last.cells)} of {len(columns)} cells, no line "
                  f"break at the end): it looks cut off; download or export it again")
    problems = dict(table.problems)
    problems[len(frame) - 1] = (str(columns[k]) if columns else "row", cells[k] if cells else "", reason)
    return Table(table.name, frame, lines, problems, table.warnings)


class _Prefix(io.RawIOBase):
    """The first `end` bytes of a file, for a reader that must not see a cut last record."""

    def __init__(self, path: Path, end: int) -> None:
        self._fh = open(path, "rb")
        self._left = end

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self._left <= 0:
            return 0
        view = memoryview(buffer)[:self._left]
        count = self._fh.readinto(view)
        self._left -= count
        return count

    def close(self) -> None:
        self._fh.close()
        super().close()


def _source(path: Path, end: int | None):
    return path if end is None else io.BufferedReader(_Prefix(path, end))


def _read_arrow(path: Path, encoding: str, delimiter: str, header: list[str],
                end: int | None = None) -> pd.DataFrame | None:
    """The fast path: Arrow's multi-threaded CSV reader, every column as text; None if it cannot be used.

    Anything unusual (a header cell with a line break, UTF-16, a row with too many or too few cells, bytes
    that are not UTF-8) falls back to pandas' reader, which pads short rows and names the bad line.
    """
    if not header or encoding not in ("utf-8", "utf-8-sig", "cp1252") or any("\n" in h or "\r" in h for h in header):
        return None
    names = _unique(header)
    try:
        table = pa_csv.read_csv(
            _source(path, end),
            read_options=pa_csv.ReadOptions(column_names=names, skip_rows=1,
                                            encoding="utf8" if encoding.startswith("utf-8") else encoding),
            parse_options=pa_csv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
            convert_options=pa_csv.ConvertOptions(column_types={n: pa.string() for n in names},
                                                  strings_can_be_null=False, quoted_strings_can_be_null=False))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError, UnicodeDecodeError):
        return None
    return table.to_pandas(types_mapper={pa.string(): pd.StringDtype("pyarrow")}.get)


def _unique(header: list[str]) -> list[str]:
    """Header names made unique the way pandas does it ('a', 'a.1'), and empty ones 'Unnamed: i'."""
    names: list[str] = []
    for i, raw in enumerate(header):
        name = raw.strip().lstrip("\ufeff") or f"Unnamed: {i}"
        base, k = name, 0
        while name in names:
            k += 1
            name = f"{base}.{k}"
        names.append(name)
    return names


def _read_frame(path: Path, name: str, encoding: str, delimiter: str,
                end: int | None = None) -> tuple[pd.DataFrame, str]:
    options = dict(sep=delimiter, dtype=str, keep_default_na=False, na_filter=False, engine="c")
    try:
        try:
            return pd.read_csv(_source(path, end), encoding=encoding, **options), encoding
        except UnicodeDecodeError:
            if encoding not in ("utf-8", "utf-8-sig"):
                raise
            # UTF-8 at the start, something else later: a file re-saved by an old Windows program.
            return pd.read_csv(_source(path, end), encoding="cp1252", **options), "cp1252"
    except pd.errors.EmptyDataError as exc:
        raise DashboardError(f"The file {name} has no header row; the first line must name the columns.") from exc
    except pd.errors.ParserError as exc:
        detail = str(exc).strip().splitlines()[-1] if str(exc).strip() else "malformed CSV"
        raise DashboardError(f"The file {name} is not a well-formed CSV ({detail}); check the quotes and the "
                             f"number of columns on that line, or save it again from a spreadsheet.") from exc
    except UnicodeDecodeError as exc:
        raise DashboardError(f"The file {name} is not text in UTF-8 or Windows-1252 ({exc.reason} at byte "
                             f"{exc.start}); save it as UTF-8 CSV and import it again.") from exc


def _record_lines(path: Path, encoding: str, delimiter: str, rows: int, end: int | None = None) -> np.ndarray:
    """The line where each data record starts (header = line 1), found without a second parse if possible."""
    newlines = 0
    last = b"\n"
    with _source(path, end) if end is not None else open(path, "rb") as fh:
        while chunk := fh.read(1 << 22):
            newlines += chunk.count(b"\n")
            last = chunk[-1:]
    if encoding == "utf-16":
        newlines = -1  # bytes of UTF-16 text are not lines; always count records
    physical = newlines + (last != b"\n")
    if physical == rows + 1:  # one line per record: no quoted line breaks
        return np.arange(2, rows + 2, dtype=np.int64)
    starts = []
    with io.TextIOWrapper(_source(path, end), encoding=encoding, newline="") if end is not None else \
            open(path, encoding=encoding, newline="") as fh:
        reader = csv.reader(fh, delimiter=delimiter)
        previous_end = 0
        try:
            for record in reader:
                if record:  # blank lines are no records, for pandas and Arrow alike
                    starts.append(previous_end + 1)
                previous_end = reader.line_num
        except csv.Error:  # a cell over the csv module's 128 KiB (the cell limit rejects it): approximate lines
            return np.arange(2, rows + 2, dtype=np.int64)
    starts = starts[1:]  # the header
    if len(starts) != rows:  # the two parsers disagree (a stray quote); line numbers are then approximate
        return np.arange(2, rows + 2, dtype=np.int64)
    return np.array(starts, dtype=np.int64)


def _without_unnamed_table(table: Table) -> Table:
    frame = _without_unnamed(table.frame)
    return table if frame is table.frame else Table(table.name, frame, table.lines, table.problems, table.warnings)


def _without_unnamed(frame: pd.DataFrame) -> pd.DataFrame:
    """Drop columns without a header (the row index a re-saved file gained)."""
    keep = [c for c in frame.columns if str(c).strip() and not _UNNAMED.match(str(c))]
    return frame[keep] if len(keep) != len(frame.columns) else frame


def _drop_empty(table: Table) -> Table:
    """Leave out rows whose every cell is blank (blank lines, trailing separators)."""
    frame = table.frame
    if len(frame) == 0 or len(frame.columns) == 0:
        return table
    empty = (frame == "").all(axis=1).to_numpy()
    if not empty.any():
        return table
    keep = ~empty
    renumber = np.cumsum(keep) - 1
    problems = {int(renumber[i]): p for i, p in table.problems.items() if keep[i]}
    return Table(table.name, frame[keep].reset_index(drop=True), table.lines[keep], problems, table.warnings)


# ------------------------------------------------------------------------------------------------ Excel

XLSX_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, KeyError, IndexError, ValueError, TypeError,
               OverflowError, SyntaxError)  # SyntaxError: ElementTree's ParseError; what broken parts raise


def check_xlsx_parts(path: Path, name: str) -> None:
    """Refuse a workbook from its ZIP directory and part heads: a zip bomb, a DTD or entities, a missing sheet."""
    try:
        with zipfile.ZipFile(path) as archive:
            check_zip(archive, name, "Excel")
            names = set(archive.namelist())
            for info in archive.infolist():
                if info.filename.lower().endswith((".xml", ".rels")):
                    with archive.open(info) as fh:
                        head = fh.read(SNIFF_BYTES)
                    if b"<!DOCTYPE" in head or b"<!ENTITY" in head:
                        raise DashboardError(
                            f"The Excel file {name} declares a DTD or XML entities in {info.filename[:100]}, "
                            f"which Reachmap refuses (they can expand a small file to gigabytes); open it in Excel "
                            f"or LibreOffice and save it again as .xlsx.")
            for target in _sheet_targets(archive, names):
                if target not in names:
                    raise DashboardError(f"The Excel file {name} is damaged: its worksheet {target[:100]} is "
                                         f"missing; open it in Excel or LibreOffice and save it again as .xlsx.")
    except XLSX_ERRORS as exc:
        raise xlsx_error(exc, name) from None


def _sheet_targets(archive: zipfile.ZipFile, names: set[str]) -> list[str]:
    import defusedxml.ElementTree as safe_xml

    rels = "xl/_rels/workbook.xml.rels"
    if rels not in names:
        return []
    root = safe_xml.fromstring(archive.read(rels), forbid_dtd=True)
    targets = []
    for rel in root:
        if str(rel.get("Type", "")).endswith("/worksheet") and rel.get("TargetMode") != "External":
            target = str(rel.get("Target", ""))
            targets.append(target.lstrip("/") if target.startswith("/") else "xl/" + target)
    return targets


def xlsx_error(exc: BaseException, name: str) -> DashboardError:
    """One sentence for what a broken workbook raised inside openpyxl: what is wrong, the value, what to do."""
    from defusedxml import DefusedXmlException

    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, DefusedXmlException):
            return DashboardError(f"The Excel file {name} declares a DTD or XML entities ({type(cause).__name__}), "
                                  f"which Reachmap refuses (they can expand a small file to gigabytes); open it in "
                                  f"Excel or LibreOffice and save it again as .xlsx.")
        cause = cause.__cause__ or cause.__context__
    detail = clean_text(str(exc.args[0]) if isinstance(exc, KeyError) and exc.args else str(exc))
    detail = detail.strip().splitlines()[0][:200] if detail.strip() else type(exc).__name__
    if isinstance(exc, KeyError):
        what = f"a part it needs is missing ({detail})"
    elif isinstance(exc, SyntaxError):
        what = f"one of its parts is not well-formed XML ({detail})"
    elif isinstance(exc, IndexError):
        what = f"a cell refers to a shared text or style the workbook does not hold ({detail})"
    elif isinstance(exc, (zipfile.BadZipFile, zlib.error, EOFError, OSError)):
        what = f"its ZIP archive is damaged ({detail})"
    else:
        what = f"a cell or part holds a value an .xlsx file cannot hold ({detail})"
    return DashboardError(f"The Excel file {name} is damaged: {what}; open it in Excel or LibreOffice and save it "
                          f"again as .xlsx, or export the sheet as CSV.")


def read_xlsx(path: Path, name: str) -> Table:
    """The first sheet with a header row of an .xlsx workbook, as a Table (lines are Excel row numbers)."""
    try:
        import openpyxl
        from openpyxl.utils.exceptions import InvalidFileException
    except ImportError as exc:  # pragma: no cover - a broken install
        raise DashboardError("Reading Excel files needs openpyxl: pip install 'openpyxl>=3.1'") from exc
    check_xlsx_parts(path, name)
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except InvalidFileException as exc:
        raise DashboardError(f"The Excel file {name} cannot be opened ({exc}); save it again as .xlsx.") from None
    except XLSX_ERRORS as exc:
        raise xlsx_error(exc, name) from None
    try:
        if not workbook.worksheets:
            raise DashboardError(f"The Excel file {name} has no worksheet; put the data on a sheet and save it again.")
        for sheet in workbook.worksheets:
            table = _sheet_table(sheet, name)
            if table is not None:
                return table
        raise DashboardError(f"The Excel file {name} has no sheet with data ({len(workbook.worksheets)} empty "
                             f"sheet(s)); put a header row and data on the first sheet.")
    except XLSX_ERRORS as exc:
        raise xlsx_error(exc, name) from None
    finally:
        workbook.close()


def _sheet_table(sheet, name: str) -> Table | None:
    rows = sheet.iter_rows(values_only=True)
    header: list[str] | None = None
    data: list[list[str]] = []
    lines: list[int] = []
    for number, values in enumerate(rows, start=1):
        cells = [_cell_text(v) for v in values]
        if header is None:
            if any(cells):
                while cells and not cells[-1].strip():
                    cells.pop()
                check_columns(len(cells), name)
                header = [c.strip() for c in cells]
            continue
        if any(c.strip() for c in cells):
            data.append(cells)
            lines.append(number)
    if header is None:
        return None
    width = len(header)
    data = [(row + [""] * width)[:width] for row in data]
    labels = [h or f"Unnamed: {i}" for i, h in enumerate(header)]
    frame = pd.DataFrame(data, columns=labels, dtype=object) if data else pd.DataFrame(columns=labels, dtype=object)
    return Table(f"{name} (sheet {sheet.title})", _without_unnamed(frame), np.array(lines, dtype=np.int64))


def _cell_text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    return str(value)
