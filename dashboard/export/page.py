"""The exported map page: the app's map with a title box and credits, one file that opens offline."""

from __future__ import annotations

import re
from dataclasses import replace
from html.parser import HTMLParser

from dashboard.errors import DashboardError
from dashboard.export.words import attribution, bearing_words, date_span, launch_lines, not_drawn, summary
from dashboard.mapview import Basemap, safe
from dashboard.mapview.assets import inline, is_external
from dashboard.mapview.basemap import STYLES
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
# Tiles fade in over 200 ms after they are drawn (Leaflet sets their opacity frame by frame): a picture
# taken then has every basemap colour a little off, differently each time. A picture shows them whole.
_PNG_CSS = (".leaflet-top .leaflet-control:not(.rm-play) { display: none; } .rm-export-title { left: 10px; } "
            ".leaflet-tile-container .leaflet-tile { opacity: 1 !important; } "
            ".rm-play button, .rm-play-opts, .rm-play input { display: none; } "
            ".rm-play .rm-play-label { font-size: 15px; margin-left: 0; }")


# A thumbnail is a small picture of the map itself: title box, legend, credits and scale would cover it.
_THUMBNAIL_CSS = (".rm-export-title, .rm-export-credit, .rm-legend, .rm-ring-label-icon, "
                  ".leaflet-control-container { display: none !important; }")


def map_page(scene: Scene, basemap: Basemap, title: str | None, *, picture: bool, thumbnail: bool = False,
             size: tuple[int, int] = (1600, 1000)) -> str:
    """The exported map page: the app's map, non-interactive extras off, with title box and credits.

    It opens on the offline map (light or dark, as the state chose) whatever the state's base: an online
    base would load tiles as the file opens (and draw nothing in a PNG, whose browser may not reach the
    network). The online bases stay in the layer menu of an HTML export, for a reader who chooses them.
    `size`: the picture's pixels (a picture embeds the tiles of that one view only).
    """
    offline = scene if scene.state.base in STYLES else replace(scene, state=scene.state.with_(base="vector"))
    # A file has no server to fetch tiles from: it embeds those of its view, whoever's basemap this is.
    # The play control: in an HTML file; in a picture only of a paused frame (it names the frame's days).
    playback = not thumbnail and (not picture or scene.state.play is not None)
    embedded = replace(basemap, served=False, still=size if picture else None)
    html = scene_map(offline, embedded, interactive=False, playback=playback).get_root().render()
    heading = title or summary(scene)
    # Every value goes through safe.html: the title box holds the user's title and data-derived words.
    lines = [safe.html("<h1>{heading}</h1>", heading=heading)]
    if title:
        lines.append(safe.html("<p>{summary}</p>", summary=summary(scene)))
    lines.append(safe.html("<p>Dates: {span}</p>", span=date_span(scene)))
    if scene.dormant:
        lines.append(safe.html("<p>{words}</p>", words=not_drawn(scene)))
    if scene.bearings:
        lines.append(safe.html("<p>{words}</p>", words=bearing_words(scene)))
    lines += [safe.html('<p class="rm-export-launch">{words}</p>', words=w) for w in launch_lines(scene)]
    lines.append(safe.html('<p class="rm-export-query">{query}</p>', query=to_query(scene.state)))
    overlay = safe.html('<div class="rm-export-title">{lines}</div><div class="rm-export-credit">{credit}</div>',
                        lines=safe.join(lines), credit=attribution(scene))
    head = safe.html("<title>{heading}</title><style>{css}</style>", heading=heading,
                     css=safe.Markup(_EXPORT_CSS + (_PNG_CSS if picture else "") + (_THUMBNAIL_CSS if thumbnail else "")))
    try:
        end_head = html.index("</head>")
        body = html.index("<body>", end_head) + len("<body>")
    except ValueError:
        raise DashboardError("The map page has no <head> or <body>; cannot add the title box.") from None
    html = html[:end_head] + head + html[end_head:body] + overlay + html[body:]
    page = inline(html)
    if not picture:  # the PNG renderer sets a stricter policy of its own
        at = page.index("<head>") + len("<head>")
        page = page[:at] + f'<meta http-equiv="Content-Security-Policy" content="{html_policy(page)}">' + page[at:]
    loads = markup_loads(page)
    if loads or "/app/static" in page:
        raise DashboardError(f"The exported page would not open offline; it loads {loads[:3] or '/app/static'}.")
    return page


def to_html(scene: Scene, basemap: Basemap, title: str | None = None) -> str:
    """One self-contained HTML file of the map the app shows; it opens from disk with no network."""
    return map_page(scene, basemap, title, picture=False)


# ---------------------------------------------------------------------------------------------- policy

_TILE_URL = re.compile(r'L\.tileLayer\(\s*"(https://[^"/]+)/')


def html_policy(page: str) -> str:
    """The exported file's Content-Security-Policy: its own inline code, data: and blob: resources, and
    images from the online base layers it offers; no other load, connection, frame, form or <base>.

    Data is escaped before it reaches the page; this is the second lock, for the reader who opens a file
    someone sent them: should anything in it ever become markup, it still cannot call home.
    """
    hosts = sorted({m.group(1).replace("{s}.", "*.") for m in _TILE_URL.finditer(page)})
    return ("default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline' data: blob:; "
            f"img-src data: blob: {' '.join(hosts)}; font-src data: blob:; connect-src 'none'; frame-src 'none'; "
            "form-action 'none'; base-uri 'none'").replace("  ", " ")


# ---------------------------------------------------------------------------------------------- offline check

_LOAD_ATTRS = frozenset({"src", "srcset", "data", "poster", "background"})
_CSS_LOAD = re.compile(r"""url\(\s*['"]?([^'")\s]+)|@import\s+['"]([^'"]+)""", re.IGNORECASE)


class _Loads(HTMLParser):
    """What the page's real elements load: attributes of tags and CSS of style attributes and <style>.

    Text is not markup: data shown on the map (escaped, or inside a script's JSON) may well read
    "url(http://…)" or "<img src=…>" and loads nothing, so it must not stop an export.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._in_style = False

    def _add(self, url: str | None) -> None:
        url = (url or "").strip()
        if (is_external(url) or url.lower().startswith("file:")) and url not in self.found:
            self.found.append(url)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._in_style = tag == "style"
        for name, value in attrs:
            if name in _LOAD_ATTRS or (name == "href" and tag in ("link", "image", "use")):
                for part in (value or "").split(",") if name == "srcset" else [value or ""]:
                    self._add(part.split()[0] if part.split() else "")
            elif name == "style":
                self.handle_css(value or "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "style":
            self._in_style = False

    def handle_data(self, data: str) -> None:
        if self._in_style:
            self.handle_css(data)

    def handle_css(self, css: str) -> None:
        for m in _CSS_LOAD.finditer(css):
            self._add(m.group(1) or m.group(2))


def markup_loads(page: str) -> list[str]:
    """The http(s), protocol-relative and file: URLs the page's own markup loads (empty for an export)."""
    parser = _Loads()
    parser.feed(page)
    parser.close()
    return parser.found
