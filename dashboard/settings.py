"""Every setting in one table: name, default, help, and the environment variable that overrides it."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from dashboard.errors import DashboardError

PROJECT_DIR = Path(__file__).resolve().parent.parent
GEODATA_DIR = PROJECT_DIR / "geodata"


@dataclass(frozen=True)
class Setting:
    name: str
    default: str
    help: str

    @property
    def env(self) -> str:
        return "REACHMAP_" + self.name.upper()


SETTINGS: tuple[Setting, ...] = (
    Setting("data_dir", str(PROJECT_DIR / "data"),
            "Folder for files Reachmap writes (store, gazetteer index); git-ignored."),
    Setting("store_path", "",
            "GeoPackage file holding events; empty means <data_dir>/reachmap.gpkg."),
    Setting("store_url", "",
            "A PostgreSQL URL (postgresql://user@host:5432/dbname) of a PostGIS store shared by a team; every page, "
            "the CLI, import, snapshots and exports then use it. Empty: the GeoPackage of store_path. A password "
            "is best kept out of it, in ~/.pgpass or PGPASSWORD."),
    Setting("gazetteer_index", "",
            "SQLite index built once from GeoNames cities500; empty means <data_dir>/gazetteer-v<N>.sqlite."),
    Setting("story_dir", str(GEODATA_DIR / "stories"),
            "Folder of story files seeded into a new store."),
    Setting("deployments_dir", "",
            "Folder of the deployments imported with `import FILE --format deployments` (systems at origins over "
            "days: dated rings); empty means <data_dir>/deployments."),
    Setting("sites_dir", "",
            "Folder of the site tables imported with `import FILE --format sites` (one ring per site, named in a "
            "link as sites=NAME); empty means <data_dir>/sites."),
    Setting("chromium_path", "/usr/bin/chromium",
            "The Chromium executable that draws PNG exports (headless, through Playwright; never downloaded)."),
    Setting("user_header", "",
            "For a server shared behind a login proxy: the request header in which the proxy names the signed-in "
            "user (e.g. X-Forwarded-User). Each user then lists and deletes only their own snapshots. Empty: a "
            "single-user instance, whose Snapshots page lists and deletes all of them."),
    Setting("user", "",
            "The name recorded with every change this instance makes (edits, imports, deletions); behind a login "
            "proxy user_header names the signed-in user instead; empty and no header: the operating-system login "
            "name."),
    Setting("map_served_above", "200000",
            "Above this many selected events the Map page clusters them on the server for the view it shows and "
            "sends only those clusters and the single events among them (kilobytes at 1M events); as the map "
            "moves out of that view it asks for the next one. At or below it the browser receives every event "
            "and clusters them itself, so panning and zooming need no server. Exported pages always do the latter."),
    Setting("import_max_mb", "512",
            "Largest file `import` accepts, in MB; a bigger one is refused before it is read (it would not fit "
            "in memory as a table)."),
)
_BY_NAME = {s.name: s for s in SETTINGS}


def get(name: str) -> str:
    """The value of a setting: its environment variable if set to something, else its default.

    A variable set but blank (REACHMAP_DATA_DIR= in a shell line) counts as unset: taken as a path it
    meant the current folder, and the store was created in the checkout.
    """
    setting = _BY_NAME[name]
    value = os.environ.get(setting.env, "")
    return value if value.strip() else setting.default


def data_dir() -> Path:
    return Path(get("data_dir"))


def store_path() -> Path:
    return Path(get("store_path") or data_dir() / "reachmap.gpkg")


def store_url() -> str:
    return get("store_url").strip()


def story_dir() -> Path:
    return Path(get("story_dir"))


def deployments_dir() -> Path:
    return Path(get("deployments_dir") or data_dir() / "deployments")


def sites_dir() -> Path:
    return Path(get("sites_dir") or data_dir() / "sites")


def user() -> str:
    """Who the changes of this instance are recorded as: the user setting, else the operating-system login
    ("" when even that is unknown, e.g. a container without a passwd entry)."""
    import getpass

    name = get("user").strip()
    if name:
        return name
    try:
        return getpass.getuser()
    except (OSError, KeyError, ImportError):  # getpwuid fails for a uid with no passwd entry
        return ""


def import_max_mb() -> float:
    """The import_max_mb setting as a number; a value that is not one raises DashboardError naming it."""
    value = get("import_max_mb")
    try:
        number = float(value)
    except ValueError:
        number = float("nan")
    if not number > 0:
        raise DashboardError(f"The setting import_max_mb (REACHMAP_IMPORT_MAX_MB) is {value!r}, not a number of "
                             f"megabytes greater than 0; set it to e.g. 512.")
    return number


def map_served_above() -> int:
    """The map_served_above setting as a number of events; a value that is not one raises DashboardError."""
    value = get("map_served_above")
    try:
        number = int(value)
    except ValueError:
        number = -1
    if number < 0:
        raise DashboardError(f"The setting map_served_above (REACHMAP_MAP_SERVED_ABOVE) is {value!r}, not a whole "
                             f"number of events of 0 or more; set it to e.g. 200000.")
    return number
