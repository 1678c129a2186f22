"""The measure tool of every map: click points, read geodesic distances and initial bearings (WGS84).

A button in the top-left corner (under the zoom and drawing buttons). On, each click on the map adds a
point; a panel lists every segment's distance in km (to the metre) and nautical miles and its initial
bearing, and the total; the segments are drawn along their geodesics. The button or Esc ends it, × clears
it. The numbers are Karney's algorithm (geographiclib-geodesic, vendored: static/vendor/build_vendor.py),
the one pyproj.Geod runs for `python -m dashboard measure`, so the map and the CLI agree to the metre.

The script is `measure.js` beside this module (its header says how clicks are kept from the map's other
handlers while measuring). It holds no data: nothing from the data reaches it.
"""

from __future__ import annotations

from pathlib import Path

import folium
from branca.element import MacroElement
from folium.elements import JSCSSMixin
from folium.template import Template

from dashboard.colours import BEARING_COLOUR
from dashboard.mapview import safe
from dashboard.mapview.assets import local_url

# As a CDN would serve it; assets.ASSET_MAP maps it to the vendored file (a CDN URL is never loaded).
GEODESIC_CDN = "https://cdn.jsdelivr.net/npm/geographiclib-geodesic@2.2.0/geographiclib-geodesic.min.js"
_LIBRARY = (Path(__file__).with_name("measure.js")).read_text("utf-8")

CSS = """
<style>
.rm-measure { background: #fff; }
.rm-measure a.rm-measure-toggle { display: flex; align-items: center; justify-content: center; color: #333; }
.rm-measure.rm-measure-on a.rm-measure-toggle { background: #c2185b; color: #fff; }
.rm-measure.rm-measure-unavailable a.rm-measure-toggle { color: #aaa; cursor: not-allowed; }
.rm-measure-panel { display: none; position: absolute; left: 36px; top: 0; min-width: 250px; max-width: 420px;
  background: rgba(255,255,255,0.96); border-radius: 4px; box-shadow: 0 1px 5px rgba(0,0,0,0.4);
  padding: 6px 9px; font: 12px/1.45 system-ui, sans-serif; color: #222; }
.rm-measure.rm-measure-on .rm-measure-panel { display: block; }
.rm-measure-head { display: flex; justify-content: space-between; gap: 8px; margin-bottom: 2px; }
.rm-measure-head a.rm-measure-clear { width: auto; height: auto; line-height: 1; border: 0; font-size: 16px;
  color: #666; background: none; text-decoration: none; }
.rm-measure-list { margin: 0; padding-left: 18px; max-height: 180px; overflow-y: auto;
  font-variant-numeric: tabular-nums; }
.rm-measure .rm-measure-panel li, .rm-measure .rm-measure-panel b { font-size: 12px; line-height: 1.45; margin: 0;
  padding: 0; white-space: nowrap; }
/* While measuring, the panel stays above the controls of the lower corners (the legend). */
.leaflet-container.rm-measuring .leaflet-top.leaflet-left { z-index: 1001; }
.rm-measure-total { font-weight: 600; margin-top: 2px; font-variant-numeric: tabular-nums; }
.leaflet-container.rm-measuring, .leaflet-container.rm-measuring .leaflet-interactive { cursor: crosshair; }
.rm-measure-label { font: 600 11px system-ui, sans-serif; padding: 1px 4px; }
</style>
"""


class MeasureTool(JSCSSMixin, MacroElement):
    """The measure control (see the module docstring); loads geographiclib-geodesic before its script."""

    default_js = [("geographiclib_geodesic", GEODESIC_CDN)]

    _template = Template("""
        {% macro script(this, kwargs) %}
        {{ this.library }}
        window.ReachmapMeasure.control({{ this.options }}).addTo({{ this._parent.get_name() }});
        {% endmacro %}
    """)

    def __init__(self, position: str = "topleft") -> None:
        super().__init__()
        self._name = "MeasureTool"
        self.options = safe.js_json({"position": position})
        self.library = _LIBRARY
        # Served from static/vendor like every other asset (assets.localize would do the same).
        self.default_js = [(n, local_url(u)) for n, u in self.default_js]


def add_measure_tool(m: folium.Map) -> None:
    """Add the measure tool to a map (its stylesheet into the page's head, as build_map's own)."""
    m.get_root().header.add_child(safe.Literal(CSS), name="rm_measure_css")
    m.add_child(MeasureTool())


# ------------------------------------------------------------------------------------------ lines of bearing

BEARINGS_LAYER = "Lines of bearing"


def add_bearings(m: folium.Map, lines, show: bool = True) -> None:
    """Each line of bearing (rings.BearingLine) as its densified geodesic, dashed, from a dot at its origin.

    The path's longitudes are unrolled, so a line across the antimeridian is drawn as one line. Only numbers
    go into the GeoJSON; the label (data: a place, the user's words) reaches the page through safe.Tooltip."""
    if not lines:
        return
    group = folium.FeatureGroup(BEARINGS_LAYER, show=show)
    for line in lines:
        lon, lat = line.origin.lonlat
        feature = {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [list(p) for p in line.path]},
                   "properties": {"kind": "bearing", "bearing_deg": line.bearing, "length_km": line.km}}
        folium.GeoJson(feature, style_function=lambda _: {"color": BEARING_COLOUR, "weight": 3, "dashArray": "9 5",
                                                          "opacity": 0.95},
                       tooltip=safe.Tooltip(line.label), class_name="rm-bearing").add_to(group)
        folium.CircleMarker((lat, lon), radius=4, color=BEARING_COLOUR, fill=True, fill_opacity=1,
                            tooltip=safe.Tooltip(f"Origin: {line.origin.name}")).add_to(group)
    group.add_to(m)
