"""folium's templates compiled at their first use (mapview.templates): the same pages, less import time."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parent.parent

_PAGE = """
import re, sys
if sys.argv[1] == "at import":
    import folium, folium.plugins  # before mapview: every template compiled as folium makes it
import dashboard.mapview
import folium, folium.plugins
print(type(folium.Map._template).__name__, type(folium.plugins.Fullscreen._template).__name__)
m = folium.Map(location=(52.1, 29.3), zoom_start=6, tiles=None)
folium.plugins.Fullscreen().add_to(m)
folium.Marker((50.45, 30.52), tooltip="Kyiv").add_to(m)
print(re.sub(r"_[0-9a-f]{32}", "_ID", m.get_root().render()))
"""


def _page(mode: str) -> list[str]:
    out = subprocess.run([sys.executable, "-c", _PAGE, mode], capture_output=True, text=True, cwd=PROJECT_DIR,
                         timeout=120, check=True)
    return out.stdout.splitlines()


def test_templates_made_while_folium_is_imported_compile_at_first_use_and_render_the_same_page():
    deferred, eager = _page("deferred"), _page("at import")
    assert deferred[0] == "_Deferred _Deferred" and eager[0] == "Template Template"
    assert deferred[1:] == eager[1:] and any("L.map(" in line for line in deferred)


def test_templates_made_after_the_import_are_jinja2s_own():
    import jinja2

    from dashboard.mapview import templates  # noqa: F401  (folium imported by now)

    assert type(jinja2.Template("{{ a }}")) is jinja2.Template and jinja2.Template("{{ a }}").render(a=1) == "1"
