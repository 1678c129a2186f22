"""Files as tables of text: CSV (any delimiter, BOM, CRLF, multi-line quoted cells) and Excel .xlsx.

Every cell becomes a `str` ("" when empty) and every row keeps the line number a text editor shows for it
(Excel: the sheet's row number), so a rejected row can be found in the file.
"""

from __future__ import annotations

import codecs
import csv
import re
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv

from dashboard import settings
from dashboard.errors import DashboardError

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
            return "xlsx"
        if any(n.lower().endswith(".kml") for n in names):
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
    if b"\x00" in head:
        raise _binary(path)
    for candidate in (encoding, "cp1252"):
        try:
            text = codecs.getincrementaldecoder(candidate)().decode(head, final=len(head) < SNIFF_BYTES)
        except UnicodeDecodeError:
            continue
        controls = sum(1 for c in text if c < " " and c not in "\t\r\n\f")
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
    """A CSV file as a Table; DashboardError with one sentence when it cannot be read as one."""
    head = read_head(path)
    encoding = text_encoding(head, path)
    text = head_text(head, encoding).lstrip("\ufeff")
    delimiter = sniff_delimiter(text.split("\n", 1)[0])
    frame = _read_arrow(path, encoding, delimiter, first_record(text, delimiter))
    if frame is None:
        frame, encoding = _read_frame(path, name, encoding, delimiter)
    frame.columns = [str(c).strip().lstrip("\ufeff") for c in frame.columns]
    lines = _record_lines(path, encoding, delimiter, len(frame))
    return _drop_empty(Table(name, _without_unnamed(frame), lines))


def _read_arrow(path: Path, encoding: str, delimiter: str, header: list[str]) -> pd.DataFrame | None:
    """The fast path: Arrow's multi-threaded CSV reader, every column as text; None if it cannot be used.

    Anything unusual (a header cell with a line break, UTF-16, a row with too many or too few cells, bytes
    that are not UTF-8) falls back to pandas' reader, which pads short rows and names the bad line.
    """
    if not header or encoding not in ("utf-8", "utf-8-sig", "cp1252") or any("\n" in h or "\r" in h for h in header):
        return None
    names = _unique(header)
    try:
        table = pa_csv.read_csv(
            path,
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


def _read_frame(path: Path, name: str, encoding: str, delimiter: str) -> tuple[pd.DataFrame, str]:
    options = dict(sep=delimiter, dtype=str, keep_default_na=False, na_filter=False, engine="c")
    try:
        try:
            return pd.read_csv(path, encoding=encoding, **options), encoding
        except UnicodeDecodeError:
            if encoding not in ("utf-8", "utf-8-sig"):
                raise
            # UTF-8 at the start, something else later: a file re-saved by an old Windows program.
            return pd.read_csv(path, encoding="cp1252", **options), "cp1252"
    except pd.errors.EmptyDataError as exc:
        raise DashboardError(f"The file {name} has no header row; the first line must name the columns.") from exc
    except pd.errors.ParserError as exc:
        detail = str(exc).strip().splitlines()[-1] if str(exc).strip() else "malformed CSV"
        raise DashboardError(f"The file {name} is not a well-formed CSV ({detail}); check the quotes and the "
                             f"number of columns on that line, or save it again from a spreadsheet.") from exc
    except UnicodeDecodeError as exc:
        raise DashboardError(f"The file {name} is not text in UTF-8 or Windows-1252 ({exc.reason} at byte "
                             f"{exc.start}); save it as UTF-8 CSV and import it again.") from exc


def _record_lines(path: Path, encoding: str, delimiter: str, rows: int) -> np.ndarray:
    """The line where each data record starts (header = line 1), found without a second parse if possible."""
    newlines = 0
    last = b"\n"
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 22):
            newlines += chunk.count(b"\n")
            last = chunk[-1:]
    if encoding == "utf-16":
        newlines = -1  # bytes of UTF-16 text are not lines; always count records
    physical = newlines + (last != b"\n")
    if physical == rows + 1:  # one line per record: no quoted line breaks
        return np.arange(2, rows + 2, dtype=np.int64)
    starts = []
    with open(path, encoding=encoding, newline="") as fh:
        reader = csv.reader(fh, delimiter=delimiter)
        previous_end = 0
        for record in reader:
            if record:  # blank lines are no records, for pandas and Arrow alike
                starts.append(previous_end + 1)
            previous_end = reader.line_num
    starts = starts[1:]  # the header
    if len(starts) != rows:  # the two parsers disagree (a stray quote); line numbers are then approximate
        return np.arange(2, rows + 2, dtype=np.int64)
    return np.array(starts, dtype=np.int64)


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
    return Table(table.name, frame[keep].reset_index(drop=True), table.lines[keep])


# ------------------------------------------------------------------------------------------------ Excel

def read_xlsx(path: Path, name: str) -> Table:
    """The first sheet with a header row of an .xlsx workbook, as a Table (lines are Excel row numbers)."""
    try:
        import openpyxl
        from openpyxl.utils.exceptions import InvalidFileException
    except ImportError as exc:  # pragma: no cover - a broken install
        raise DashboardError("Reading Excel files needs openpyxl: pip install 'openpyxl>=3.1'") from exc
    try:
        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (InvalidFileException, zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise DashboardError(f"The Excel file {name} cannot be opened ({exc}); save it again as .xlsx.") from exc
    try:
        if not workbook.worksheets:
            raise DashboardError(f"The Excel file {name} has no worksheet; put the data on a sheet and save it again.")
        for sheet in workbook.worksheets:
            table = _sheet_table(sheet, name)
            if table is not None:
                return table
        raise DashboardError(f"The Excel file {name} has no sheet with data ({len(workbook.worksheets)} empty "
                             f"sheet(s)); put a header row and data on the first sheet.")
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
