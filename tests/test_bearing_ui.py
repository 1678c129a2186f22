"""The rings panel's line-of-bearing form, through Streamlit's AppTest: it writes the link, lists the line, removes it."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.settings import PROJECT_DIR

APP = str(PROJECT_DIR / "app.py")


@pytest.fixture
def app(store_path, gazetteer):
    return AppTest.from_file(APP, default_timeout=120)


def _plain(markdown: str) -> str:
    """Text the page escaped for Markdown (S.md), as the reader sees it."""
    return markdown.replace("\\", "")


def _form(at: AppTest, origin: str, degrees: float, km: float, name: str = "") -> AppTest:
    next(t for t in at.text_input if t.label == "From (place or lat,lon)").input(origin)
    next(n for n in at.number_input if n.label == "Bearing °").set_value(degrees)
    next(n for n in at.number_input if n.label == "Length km").set_value(km)
    next(t for t in at.text_input if t.label == "Name (optional)" and t.placeholder.startswith("e.g. reported")).input(name)
    return next(b for b in at.button if b.label == "Add line").click().run()


def test_add_a_line_of_bearing_then_remove_it(app):
    at = _form(app.run(), "Desna", 315.0, 200.0, "reported launch direction")
    assert not at.exception and not at.warning
    assert at.query_params["bearing"] == "Desna:315:200|reported launch direction"
    assert any("reported launch direction (315° for 200 km from Desna)" in _plain(m.value)
               for m in at.markdown)  # the list under the form
    lat, lon = (float(x) for x in at.query_params["c"].split(","))
    assert 50.9 < lat < 52.2 and 28.7 < lon < 30.8  # the map moved to the line
    next(b for b in at.button if b.label == "Remove").click().run()
    assert "bearing" not in at.query_params


def test_a_line_from_an_area_is_refused_in_a_sentence(app):
    at = _form(app.run(), "BY", 10.0, 50.0)
    assert not at.exception and "bearing" not in at.query_params
    assert [w.value for w in at.warning] == ["That line cannot be drawn: bearing origin: is an area or a line; a "
                                             "line of bearing starts at a place or a lat,lon point (got 'BY')"]


def test_a_permalink_with_lines_of_bearing_restores_them_and_names_a_bad_one(app):
    app.query_params.update({"v": "1", "bearing": ["51.3,30.8:315:200|launch?", "Desna:north:5"]})
    at = app.run()
    assert not at.exception
    assert any("Ignored bearing=Desna:north:5" in _plain(w.value) for w in at.warning)
    assert at.query_params["bearing"] == "51.3,30.8:315:200|launch?"
    assert any("launch? (315° for 200 km from 51.3,30.8)" in _plain(m.value) for m in at.markdown)
