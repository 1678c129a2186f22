"""Hostile strings in every field an event, a place or a ring carries, through the map (folium + Leaflet).

Three interpreters read what mapview writes: Jinja (folium's second pass), JavaScript (template literals,
strings) and HTML. Server side, canary arithmetic must stay literal; in a real Chromium, no payload may run
(no __pwned call, no dialog) and nothing may be requested from outside the page.
"""

from __future__ import annotations

import inspect
import itertools
import json
import re
from datetime import date
from html.parser import HTMLParser

import branca.element
import folium
import folium.map
import pytest

from dashboard import geodesy
from dashboard.mapview import Basemap, MapView, build_map, safe
from dashboard.mapview.assets import inline
from dashboard.model import Event, Place, Source, TimeSpan
from dashboard.rings import Ring
from tests.conftest import make_event
from tests.security.payloads import CANARIES, EXECUTION_HOOK, PAYLOADS, evaluated_canaries

MINSK = Place.at("geonames:625144", "Minsk", "city", 27.56653, 53.90019, country="BY")
BASEMAP = Basemap()  # the bundled tiles (embedded: a test map has no server)


def hostile_event(i: int, p: str):
    """One event with payload `p` in every text field, at a point of its own."""
    url = p if safe.http_url(p) else f"https://example.org/{i}?q=<{i}>"
    source = Source(p, p, url, None, p)
    place = Place.at(f"point:{i}", p, "point", 22.0 + (i % 12) * 0.9, 44.0 + (i // 12) * 0.9, country="UA",
                     admin1=p)
    return Event(id=f"e{i}", title=p, event_type=p, time=TimeSpan.day(date(2022, 6, 25)), place=place,
                 source=source, description=p, actors=(p,), attributes=(("fatalities", p), ("geo_precision", p)))


EVENTS = [hostile_event(i, p) for i, p in enumerate(PAYLOADS)]
RINGS = [Ring(p, "ring", Place.at(f"o{i}", p, "point", 27.5, 53.9), 100 + i,
              geodesy.range_ring((27.5, 53.9), 100 + i)) for i, p in enumerate(PAYLOADS[:12])]


def hostile_page(**kw) -> str:
    return build_map(EVENTS, RINGS, BASEMAP, MapView(centre=(28.0, 48.0), zoom=5), **kw).get_root().render()


def test_the_suite_carries_at_least_sixty_payloads_into_the_map():
    assert len(PAYLOADS) >= 60 and len(EVENTS) == len(PAYLOADS)


def test_folium_never_compiles_rendered_output_again():
    assert safe.installed()
    page = hostile_page()
    assert evaluated_canaries(page) == []
    for canary in CANARIES:  # each one is still there, as text (escaped), in popups and the legend
        assert safe.text(canary) in page or safe.js_json(str(safe.text(canary)))[1:-1] in page


def test_the_second_pass_really_was_the_hole():
    """Without safe.install the same map evaluates the canaries: the test above can fail."""
    patched = (branca.element.MacroElement.render, folium.map.Popup.render)
    branca.element.MacroElement.render = safe.ORIGINAL_RENDERS["MacroElement"]
    folium.map.Popup.render = safe.ORIGINAL_RENDERS["Popup"]
    try:
        m = folium.Map(tiles=None)
        folium.Marker((50, 30), tooltip=folium.Tooltip("ssti<{{ 7*7 }}>end"),
                      popup=folium.Popup("ssti<{{ 1300+37 }}>end")).add_to(m)
        page = m.get_root().render()
    finally:
        branca.element.MacroElement.render, folium.map.Popup.render = patched
    assert "ssti<49>end" in page and "ssti<1337>end" in page


def _deterministic_ids(monkeypatch):
    counter = itertools.count()
    monkeypatch.setattr(branca.element.Element, "_generate_id", classmethod(lambda cls: f"{next(counter):032x}"))


def test_maps_without_data_render_exactly_as_folium_renders_them(monkeypatch):
    """The literal pass changes nothing but the evaluation of data: a story-like map is byte-identical."""
    events = [make_event("a"), make_event("b", place=MINSK)]
    rings = [Ring("Iskander-M, 500 km from Minsk", "ring", MINSK, 500, geodesy.range_ring(MINSK.lonlat, 500))]
    _deterministic_ids(monkeypatch)
    ours = build_map(events, rings, BASEMAP).get_root().render()
    _deterministic_ids(monkeypatch)
    monkeypatch.setattr(branca.element.MacroElement, "render", safe.ORIGINAL_RENDERS["MacroElement"])
    monkeypatch.setattr(folium.map.Popup, "render", safe.ORIGINAL_RENDERS["Popup"])
    theirs = build_map(events, rings, BASEMAP).get_root().render()
    assert ours == theirs


def _elements(root):
    yield root
    for child in root._children.values():
        yield from _elements(child)


def test_no_element_of_our_maps_renders_through_an_unpatched_second_pass():
    """Every element class on the map renders with the patched methods or with code that never wraps
    rendered text in Element(...) — checked on the source, so a folium upgrade that adds one fails here."""
    # GeoJsonDetail (the countries' GeoJsonTooltip) compiles a <style> made of its class name and style,
    # both ours: the feature names travel as JSON data, read by JavaScript. Any other such place fails.
    reviewed = {"folium.features.GeoJsonDetail"}
    m = build_map(EVENTS, RINGS, BASEMAP)
    wraps = re.compile(r"Element\(\s*(?:\w+\(self, kwargs\)|self\._template\.render|Template\()")
    for cls in {type(e) for e in _elements(m)}:
        for klass in cls.__mro__:
            method = klass.__dict__.get("render")
            if (method is None or method in (safe._macro_render, safe._popup_render, safe.Literal.render)
                    or f"{klass.__module__}.{klass.__qualname__}" in reviewed):
                continue
            source = inspect.getsource(method)
            assert not wraps.search(source), f"{klass.__module__}.{klass.__qualname__}.render compiles output"


def _content_strings(page: str) -> list[str]:
    found = re.findall(r'(?:setContent|bindTooltip)\(("(?:[^"\\]|\\.)*")', page)
    return [json.loads(s) for s in found]


class _Tags(HTMLParser):
    ALLOWED = {"div": {"class", "style"}, "span": {"class", "style"}, "blockquote": set(), "b": set(), "i": set(),
               "a": {"href", "target", "rel"}}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.bad: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag not in self.ALLOWED:
            self.bad.append(f"<{tag}>")
        for name, value in attrs:
            if name not in self.ALLOWED.get(tag, set()):
                self.bad.append(f"{tag}[{name}]")
            if name == "href" and not re.match(r"https?://", value or ""):
                self.bad.append(f"href={value}")
            if name == "style" and re.search(r"url\(|expression|@import", value or "", re.I):
                self.bad.append(f"style={value}")


def test_popups_and_tooltips_hold_only_our_markup_and_no_script_syntax():
    contents = _content_strings(hostile_page())
    assert len(contents) >= 2 * len(EVENTS)  # a tooltip and a popup per marker, plus the rings' tooltips
    for html in contents:
        parser = _Tags()
        parser.feed(html)
        assert parser.bad == [], (parser.bad, html[:200])
        for syntax in ("`", "${", "{{", "{%", "{#", "\\", "\u202e", "\x00", "\x1b"):
            assert syntax not in html, (syntax, html[:200])


def test_the_bulk_layer_metadata_is_inert_too():
    from tests.test_bulk import synthetic_table

    import dataclasses

    table = dataclasses.replace(synthetic_table(200), types=tuple(PAYLOADS[:6]))
    page = build_map([], [], BASEMAP, bulk=(table, list(range(200)))).get_root().render()
    assert evaluated_canaries(page) == []
    script = page[page.index("ReachmapBulk.layer("):]
    meta = script[len("ReachmapBulk.layer("):script.index(', "')]
    assert not re.search(r"[<>`$]|\{\{|\{%", meta.replace("{\"", "").replace("\\u", ""))


# ------------------------------------------------------------------------------------ in Chromium

@pytest.fixture(scope="module")
def hostile_file(tmp_path_factory):
    page = inline(hostile_page(sync_url=False))  # the payloads' URLs are text here: the browser must not load them
    path = tmp_path_factory.mktemp("hostile") / "map.html"
    path.write_text(page, encoding="utf-8")
    return path


def test_no_payload_runs_when_every_popup_and_tooltip_opens(browser, hostile_file):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        page = context.new_page()
        page.add_init_script(EXECUTION_HOOK)
        dialogs, requests, errors = [], [], []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.on("request", lambda r: requests.append(r.url))
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(hostile_file.as_uri(), wait_until="load")
        page.wait_for_function("document.querySelectorAll('.leaflet-marker-icon').length > 0")
        markers = page.locator(".rm-event-icon")
        count = markers.count()
        assert count == len(EVENTS)
        seen = set()
        for i in range(count):
            seen.add(page.evaluate(
                "i => { const m = document.querySelectorAll('.rm-event-icon')[i];"
                " m.dispatchEvent(new MouseEvent('mouseover', {bubbles: true}));"
                " m.dispatchEvent(new MouseEvent('click', {bubbles: true}));"
                " const shown = document.querySelectorAll('.leaflet-popup-content .rm-popup');"
                " return shown.length ? shown[shown.length - 1].innerHTML : ''; }", i))
        seen.discard("")
        assert len(seen) == count  # every popup opened, each with its own content
        page.locator(".rm-legend").wait_for()
        calls = page.evaluate("window.__pwned_calls")
    finally:
        context.close()
    assert calls == [] and dialogs == [] and errors == []
    outside = [u for u in requests if not u.startswith(("file:", "data:", "blob:", "about:"))]
    assert outside == []
