"""Every setting in one table: name, default, help, and the environment variable that overrides it."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

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
    Setting("gazetteer_index", "",
            "SQLite index built once from GeoNames cities500; empty means <data_dir>/gazetteer-v<N>.sqlite."),
    Setting("story_dir", str(GEODATA_DIR / "stories"),
            "Folder of story files seeded into a new store."),
    Setting("chromium_path", "/usr/bin/chromium",
            "The Chromium executable that draws PNG exports (headless, through Playwright; never downloaded)."),
)
_BY_NAME = {s.name: s for s in SETTINGS}


def get(name: str) -> str:
    """The value of a setting: its environment variable if set, else its default."""
    setting = _BY_NAME[name]
    return os.environ.get(setting.env, setting.default)


def data_dir() -> Path:
    return Path(get("data_dir"))


def store_path() -> Path:
    return Path(get("store_path") or data_dir() / "reachmap.gpkg")


def story_dir() -> Path:
    return Path(get("story_dir"))
