"""The house rules of ../shared/DESIGN.md: imports point down the list; some libraries stay in one room."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "dashboard"

# Lower number = lower floor. A module may import its own floor or any floor below.
FLOORS = {
    "dashboard.errors": 0, "dashboard.settings": 0, "dashboard.model": 1, "dashboard.colours": 1,
    "dashboard.geodesy": 2, "dashboard.gazetteer": 2,
    "dashboard.store": 3, "dashboard.ingest": 4,
    "dashboard.query": 5, "dashboard.rings": 5, "dashboard.geoparse": 5, "dashboard.table": 5, "dashboard.mapview": 6,
    "dashboard.analysis": 6,
    "dashboard.share": 7, "dashboard.export": 7, "dashboard.scene": 7, "dashboard.snapshot": 7,
    "dashboard.cli": 8, "dashboard.ui": 8, "dashboard.__main__": 9,
}
ONLY_IN = {"pyproj": {"dashboard.geodesy"}, "folium": {"dashboard.mapview"}, "streamlit": {"dashboard.ui"},
           "streamlit_folium": {"dashboard.ui"}}


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _floor(module: str) -> int:
    for prefix in sorted(FLOORS, key=len, reverse=True):
        if module == prefix or module.startswith(prefix + "."):
            return FLOORS[prefix]
    raise AssertionError(f"{module} has no floor in FLOORS; add it (and to DESIGN.md)")


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module == "dashboard":
            names.update(f"dashboard.{a.name}" for a in node.names)  # from dashboard import geodesy
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


MODULES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: _module_name(p))
def test_imports_point_down(path):
    me = _module_name(path)
    for name in _imports(path):
        if name.startswith("dashboard"):
            assert _floor(name) <= _floor(me), f"{me} imports {name}, which lives on a higher floor"
        root = name.split(".")[0]
        if root in ONLY_IN:
            assert any(me == m or me.startswith(m + ".") for m in ONLY_IN[root]), f"{me} imports {root}"


def test_the_store_does_not_reach_up_into_ingest():
    for path in (PACKAGE / "store").rglob("*.py"):
        assert not any(n.startswith("dashboard.ingest") for n in _imports(path)), path
