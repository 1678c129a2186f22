"""The exported map page: the app's map with a title box and credits, one file that opens offline."""

from __future__ import annotations

from dataclasses import replace
from html import escape

from dashboard.errors import DashboardError
from dashboard.export.words import attribution, date_span, summary
from dashboard.mapview import Basemap
from dashboard.mapview.assets import external_urls, inline
from dashboard.scene import Scene, scene_map
from dashboard.share import to_query

_EXPORT_CSS = """
.rm-export-title { position: absolute; top: 10px; left: 56px; z-index: 1001; max-width: min(560px, 60%);
  background: rgba(255,255,255,.94); padding: 8px 12px; border-radius: 4px; box-shadow: 0 1px 4px rgba(0,0,0,.3);
  font: 13px/1.35 system-ui, sans-serif; color: #222; }
.rm-export-title h1 { font-size: 17px; line-height: 1.25; margin: 0 0 3px; font-weight: 650; }
.rm-export-title p { margin: 0; }
.rm-export-title .rm-export-query { font: 11px/1.3 ui-monospace, monospace; color: #555; word-break: break-all;
  margin-top: 3px; }
.rm-export-credit { position: absolute; right: 10px; bottom: 22px; z-index: 1001; max-width: 60%;
  background: rgba(255,255,255,.88); padding: 2px 6px; border-radius: 3px; font: 11px/1.3 system-ui, sans-serif;
  color: #333; }
/* Leaflet's scale bar has two lines (km, mi); the legend sits above both. */
.rm-legend { bottom: 52px; }
"""
# A picture has no buttons to press: the top controls (zoom, full screen, layers) go.
_PNG_CSS = ".leaflet-top .leaflet-control { display: none; } .rm-export-title { left: 10px; }"


def map_page(scene: Scene, basemap: Basemap, title: str | None, *, picture: bool) -> str:
    """The exported map page: the app's map, non-interactive extras off, with title box and credits.

    It opens on the offline vector map whatever the state's base: an online base would load tiles as the
    file opens (and draw nothing in a PNG, whose browser may not reach the network). The online bases stay
    in the layer menu of an HTML export, for a reader who chooses to load them.
    """
    offline = replace(scene, state=scene.state.with_(base="vector")) if scene.state.base != "vector" else scene
    html = scene_map(offline, basemap, interactive=False).get_root().render()
    heading = title or summary(scene)
    lines = [f"<h1>{escape(heading)}</h1>"]
    if title:
        lines.append(f"<p>{escape(summary(scene))}</p>")
    lines.append(f"<p>Dates: {escape(date_span(scene))}</p>")
    lines.append(f'<p class="rm-export-query">{escape(to_query(scene.state))}</p>')
    overlay = (f'<div class="rm-export-title">{"".join(lines)}</div>'
               f'<div class="rm-export-credit">{escape(attribution(scene))}</div>')
    head = (f"<title>{escape(heading)}</title><style>{_EXPORT_CSS}{_PNG_CSS if picture else ''}</style>")
    try:
        end_head = html.index("</head>")
        body = html.index("<body>", end_head) + len("<body>")
    except ValueError:
        raise DashboardError("The map page has no <head> or <body>; cannot add the title box.") from None
    html = html[:end_head] + head + html[end_head:body] + overlay + html[body:]
    page = inline(html)
    loads = external_urls(page)
    if loads or "/app/static" in page:
        raise DashboardError(f"The exported page would not open offline; it loads {loads[:3] or '/app/static'}.")
    return page


def to_html(scene: Scene, basemap: Basemap, title: str | None = None) -> str:
    """One self-contained HTML file of the map the app shows; it opens from disk with no network."""
    return map_page(scene, basemap, title, picture=False)
