"""What an imported file may not do, checked before the work starts: each refusal is one sentence.

- GDAL never reaches out: a GeoJSON `crs` other than a plain name or EPSG code (a `link`/`url` href, a file
  path) is refused before GDAL opens the file; GDAL opens it with its GeoJSON driver only, with network and
  directory options that keep it to the one file (`gdal_options`). KML never reaches GDAL (see kml.py).
- ZIP containers (.xlsx, .kmz) are measured from their directory: the unpacked size counts against
  import_max_mb, and a part that unpacks to more than MAX_ZIP_RATIO times its packed size is a zip bomb.
- Tables: at most MAX_COLUMNS columns and MAX_CELL_CHARS characters per cell.
- Text keeps tab and line breaks; other control characters (C0 with NUL, DEL, C1) and the XML
  non-characters U+FFFE/U+FFFF are removed with a warning (`clean_text`): they cannot be shown, printed or
  exported to KML safely, and a NUL would cut a string short in GDAL or SQLite tools.
"""

from __future__ import annotations

import json
import re
import threading
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from dashboard import settings
from dashboard.errors import DashboardError

MAX_COLUMNS = 1_000
MAX_CELL_CHARS = 100_000
MAX_ZIP_RATIO = 200  # a worksheet of repeated cells packs ~20-50×; 900 MB of zeros packs ~1,000×
MAX_ZIP_PARTS = 10_000
MAX_JSON_DEPTH = 64  # GeoJSON needs about 8 levels (collection, feature, geometry, rings, points)

_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]")
_CONTROL_NAMES = {"\x00": "NUL", "\x1b": "ESC", "\x07": "BEL", "\x08": "BS", "\x0b": "VT", "\x0c": "FF",
                  "\x7f": "DEL"}


def clean_text(text: str) -> str:
    """`text` with CR and CRLF as LF and control characters other than tab and LF removed.

    >>> clean_text("a\\x00b\\r\\nc\\x1b[31m")
    'ab\\nc[31m'
    """
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROLS.sub("", text)


def control_name(text: str) -> str:
    """The name of the first control character in `text`: 'NUL', 'ESC', 'U+0085'."""
    m = _CONTROLS.search(text)
    if m is None:
        return ""
    c = m.group()
    return _CONTROL_NAMES.get(c, f"U+{ord(c):04X}")


# ------------------------------------------------------------------------------------------------ paths

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+:/")  # Path("http://h/x") is "http:/h/x"


def local_path(path: Path) -> str:
    """The file's absolute path for GDAL; refuses GDAL's virtual paths and URLs (they read other things)."""
    text = str(path)
    if _URL.match(text) or text.startswith("/vsi"):
        raise DashboardError(f"{text[:200]} is a URL or a GDAL virtual path; download the file and import the "
                             "downloaded copy.")
    resolved = str(Path(path).resolve())
    if resolved.startswith("/vsi"):
        raise DashboardError(f"{resolved[:200]} is a GDAL virtual path; move the file to another folder and "
                             "import it from there.")
    return resolved


# GDAL reads a user's file as that file only: no directory listing of its folder (sidecar files), no network
# for any /vsicurl/ path, short timeouts and no retries if something still tries.
GDAL_OPTIONS = {
    "GDAL_DISABLE_READDIR_ON_OPEN": "EMPTY_DIR",
    "CPL_VSIL_CURL_ALLOWED_FILENAME": "/nonexistent/reachmap-no-network",
    "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ".reachmap-no-network",
    "GDAL_HTTP_MAX_RETRY": "0",
    "GDAL_HTTP_TIMEOUT": "1",
    "GDAL_HTTP_CONNECTTIMEOUT": "1",
    "GDAL_HTTP_NETRC": "NO",
}


_gdal_lock = threading.Lock()
_gdal_users = [0, {}]  # how many reads are inside gdal_options, and the values to put back after the last


@contextmanager
def gdal_options() -> Iterator[None]:
    """GDAL_OPTIONS set while user files are read (by any thread); the previous values back after the last."""
    import pyogrio

    with _gdal_lock:
        if _gdal_users[0] == 0:
            _gdal_users[1] = {name: pyogrio.get_gdal_config_option(name) for name in GDAL_OPTIONS}
            pyogrio.set_gdal_config_options(GDAL_OPTIONS)
        _gdal_users[0] += 1
    try:
        yield
    finally:
        with _gdal_lock:
            _gdal_users[0] -= 1
            if _gdal_users[0] == 0:
                pyogrio.set_gdal_config_options(_gdal_users[1])


# ------------------------------------------------------------------------------------------------- ZIP

def check_zip(archive: zipfile.ZipFile, name: str, kind: str) -> None:
    """Refuse a zip bomb from the archive's directory, before anything is unpacked."""
    infos = archive.infolist()
    if len(infos) > MAX_ZIP_PARTS:
        raise DashboardError(f"The {kind} file {name} holds {len(infos):,} parts, more than the {MAX_ZIP_PARTS:,} "
                             f"Reachmap opens; save it again, or export the data as CSV.")
    limit_mb = settings.import_max_mb()
    total = sum(i.file_size for i in infos)
    if total > limit_mb * 1024 * 1024:
        raise DashboardError(f"The {kind} file {name} unpacks to {total / 1024 / 1024:,.0f} MB, more than the "
                             f"import limit of {limit_mb:g} MB (setting import_max_mb); split it into smaller "
                             f"files or export the data as CSV.")
    for info in infos:
        if info.file_size > 1024 * 1024 and info.file_size > MAX_ZIP_RATIO * max(info.compress_size, 1):
            raise DashboardError(
                f"The {kind} file {name} looks like a zip bomb: its part {info.filename[:100]} unpacks to "
                f"{info.file_size / 1024 / 1024:,.0f} MB from {info.compress_size:,} bytes (more than "
                f"{MAX_ZIP_RATIO}×); Reachmap does not open it — export the data again as CSV.")


# ------------------------------------------------------------------------------------------------ GeoJSON

_SAFE_CRS_NAME = re.compile(r"^(urn:ogc:def:crs:[A-Za-z0-9.]+:[A-Za-z0-9.]*:[A-Za-z0-9.]+|EPSG:\d{1,6}|"
                            r"CRS:?84|OGC:CRS84)$", re.IGNORECASE)


def check_geojson(path: Path, name: str) -> list[int]:
    """Refuse what GDAL must not see in a GeoJSON file; the features whose text holds a NUL.

    A `crs` member (GDAL looks for it in any case and at any level) may only name a CRS ("EPSG:4326",
    "urn:ogc:def:crs:OGC:1.3:CRS84") or give an EPSG code: a link or URL would make GDAL fetch it, a path
    would make it read that file. The whole file is parsed here only if its bytes could hold a `crs`
    member or escapes (most files hold neither); the parse also enforces MAX_JSON_DEPTH.
    """
    if not _may_need_parse(path):
        return []
    try:
        with open(path, "rb") as fh:
            data = json.loads(fh.read().decode("utf-8-sig", errors="replace"))
    except RecursionError:
        raise _too_deep(name) from None
    except (ValueError, OSError) as exc:
        raise DashboardError(f"The file {name} is not valid JSON ({str(exc)[:200]}); check that it is valid "
                             f"GeoJSON, for instance by opening it in QGIS.") from None
    _walk(data, name, 0)
    features = data.get("features") if isinstance(data, dict) else None
    if not isinstance(features, list):
        return []
    return [i for i, feature in enumerate(features) if isinstance(feature, dict) and _holds_nul(feature)]


def _may_need_parse(path: Path) -> bool:
    tail = b""
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 22):
            window = (tail + chunk).lower()
            if b"crs" in window or b"\\u" in window:
                return True
            tail = chunk[-8:]
    return False


def _walk(value: object, name: str, depth: int) -> None:
    if depth > MAX_JSON_DEPTH:
        raise _too_deep(name)
    if isinstance(value, dict):
        for key, item in value.items():
            if isinstance(key, str) and key.casefold() == "crs":
                _check_crs(item, name)
            if isinstance(item, (dict, list)):
                _walk(item, name, depth + 1)
    elif isinstance(value, list):
        for item in value:
            if isinstance(item, (dict, list)):
                _walk(item, name, depth + 1)


def _check_crs(crs: object, name: str) -> None:
    if not isinstance(crs, dict):
        return  # GDAL reads a crs object only; a property "crs": "EPSG:4326" is just text
    kind = crs.get("type")
    props = crs.get("properties")
    props = props if isinstance(props, dict) else {}
    if isinstance(kind, str) and kind.casefold() == "name" and isinstance(props.get("name"), str) \
            and _SAFE_CRS_NAME.match(props["name"].strip()):
        return
    if isinstance(kind, str) and kind.casefold() == "epsg" and str(props.get("code", "")).strip().isdigit():
        return
    shown = json.dumps(crs, ensure_ascii=True)[:160]
    raise DashboardError(f"The file {name} gives its coordinate system as {shown}, a link, file or unknown kind "
                         f"that Reachmap does not follow; remove the crs member (GeoJSON is WGS84 longitude, "
                         f"latitude) or name it like \"EPSG:4326\".")


def _holds_nul(value: object) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_holds_nul(v) for v in value)
    return False


def _too_deep(name: str) -> DashboardError:
    return DashboardError(f"The file {name} nests JSON arrays or objects more than {MAX_JSON_DEPTH} levels deep "
                          f"(GeoJSON needs about 8); export it again as plain GeoJSON.")
