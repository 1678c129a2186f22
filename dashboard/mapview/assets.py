"""Every script, stylesheet, image and font a map loads comes from this project, never from a CDN.

folium and its plugins declare their front-end files as CDN URLs (``default_js`` / ``default_css``, lists
of ``(name, url)``). streamlit-folium loads those scripts one after another in its component iframe and
stops at the first that fails, so on a closed network one CDN URL means a blank map.

- ``localize(m)`` rewrites every declared URL of a map and of all its children to the copy vendored in
  ``static/vendor/`` (see ``static/vendor/build_vendor.py`` and ``MANIFEST.json``), served by Streamlit at
  ``/app/static/vendor/`` (``server.enableStaticServing``). An external URL it does not know raises
  ``DashboardError`` naming it, so a newly added plugin cannot silently bring a CDN back.
- ``inline(html)`` turns a localized page into one self-contained file: scripts and stylesheets inlined,
  their images and fonts as ``data:`` URIs. It opens from disk with no network.
- ``external_urls(html)`` lists what a page would load from outside (used by tests).

What counts as a load: ``src`` of script/img/iframe/frame/embed/source/track/audio/video/input,
``href`` of ``<link>`` (any ``rel``) and of SVG ``<image>``/``<use>``, ``data`` of ``<object>``,
``poster``, CSS ``url(...)`` and ``@import``, wherever they appear in the text (so also inside popup
HTML held in JavaScript strings, and inside ``data:text/html`` / ``srcdoc`` iframes). ``<a href>`` is a
hyperlink the user may follow, not a load: Leaflet's attribution links to leafletjs.com and that is
allowed. URLs that JavaScript builds at run time (tile URL templates) are not markup loads; online tile
layers are an optional extra of the caller's choosing (DESIGN.md), the default map uses ``tiles=None``.

Not supported (``localize`` raises): branca ``ColorMap`` legends, including a ``Choropleth`` legend —
streamlit-folium itself adds ``https://d3js.org/d3.v4.min.js`` and d3 3.5.5 from cdnjs to the
component's script list whenever a ``ColorMap`` is in the map (streamlit_folium/__init__.py, ``st_folium``),
which no rewriting of the map can prevent; and folium's ``VegaLite``, which adds CDN scripts while it
renders.
"""

from __future__ import annotations

import base64
import functools
import html as htmllib
import re
from collections import OrderedDict
from pathlib import Path, PurePosixPath
from urllib.parse import unquote

import folium
from branca.colormap import ColorMap
from branca.element import Element, Figure, Link, MacroElement
from folium.template import Template

from dashboard.errors import DashboardError
from dashboard.settings import PROJECT_DIR

LOCAL_PREFIX = "/app/static/vendor"
# This project's own front-end files that a map loads (the offline basemap's script, mapview.basemap).
OWN_PREFIX = "/app/static/basemap"
VENDOR_DIR = PROJECT_DIR / "static" / "vendor"
OWN_DIR = PROJECT_DIR / "static" / "basemap"

# CDN URL exactly as folium 0.20 / its plugins declare it -> file under static/vendor.
ASSET_MAP: dict[str, str] = {
    # folium.Map
    "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.js": "leaflet/leaflet.js",
    "https://cdn.jsdelivr.net/npm/leaflet@1.9.3/dist/leaflet.css": "leaflet/leaflet.css",
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery/jquery.min.js",
    "https://cdn.jsdelivr.net/npm/bootstrap@5.2.2/dist/js/bootstrap.bundle.min.js":
        "bootstrap/js/bootstrap.bundle.min.js",
    "https://cdn.jsdelivr.net/npm/bootstrap@5.2.2/dist/css/bootstrap.min.css": "bootstrap/css/bootstrap.min.css",
    "https://netdna.bootstrapcdn.com/bootstrap/3.0.0/css/bootstrap-glyphicons.css":
        "glyphicons/css/bootstrap-glyphicons.css",
    "https://cdn.jsdelivr.net/npm/@fortawesome/fontawesome-free@6.2.0/css/all.min.css":
        "fontawesome-free/css/all.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/Leaflet.awesome-markers/2.0.2/leaflet.awesome-markers.js":
        "leaflet.awesome-markers/leaflet.awesome-markers.js",
    "https://cdnjs.cloudflare.com/ajax/libs/Leaflet.awesome-markers/2.0.2/leaflet.awesome-markers.css":
        "leaflet.awesome-markers/leaflet.awesome-markers.css",
    "https://cdn.jsdelivr.net/gh/python-visualization/folium/folium/templates/leaflet.awesome.rotate.min.css":
        "folium/leaflet.awesome.rotate.css",
    # folium.plugins.MarkerCluster
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/leaflet.markercluster.js":
        "leaflet.markercluster/leaflet.markercluster.js",
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/MarkerCluster.css":
        "leaflet.markercluster/MarkerCluster.css",
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.markercluster/1.1.0/MarkerCluster.Default.css":
        "leaflet.markercluster/MarkerCluster.Default.css",
    # folium.plugins.Draw
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.draw/1.0.2/leaflet.draw.js": "leaflet-draw/leaflet.draw.js",
    "https://cdnjs.cloudflare.com/ajax/libs/leaflet.draw/1.0.2/leaflet.draw.css": "leaflet-draw/leaflet.draw.css",
    # folium.plugins.Fullscreen
    "https://cdn.jsdelivr.net/npm/leaflet.fullscreen@3.0.0/Control.FullScreen.min.js":
        "leaflet.fullscreen/Control.FullScreen.js",
    "https://cdn.jsdelivr.net/npm/leaflet.fullscreen@3.0.0/Control.FullScreen.css":
        "leaflet.fullscreen/Control.FullScreen.css",
    # folium.plugins.MousePosition
    "https://cdn.jsdelivr.net/gh/ardhi/Leaflet.MousePosition/src/L.Control.MousePosition.min.js":
        "leaflet-mouse-position/L.Control.MousePosition.js",
    "https://cdn.jsdelivr.net/gh/ardhi/Leaflet.MousePosition/src/L.Control.MousePosition.min.css":
        "leaflet-mouse-position/L.Control.MousePosition.css",
    # folium.plugins.MeasureControl
    "https://cdn.jsdelivr.net/gh/ljagis/leaflet-measure@2.1.7/dist/leaflet-measure.min.js":
        "leaflet-measure/leaflet-measure.min.js",
    "https://cdn.jsdelivr.net/gh/ljagis/leaflet-measure@2.1.7/dist/leaflet-measure.min.css":
        "leaflet-measure/leaflet-measure.css",
    # dashboard.mapview.bulk (not folium): client-side clustering of large selections
    "https://cdn.jsdelivr.net/npm/supercluster@9.1.0/dist/supercluster.min.js": "supercluster/supercluster.min.js",
    # dashboard.mapview.measure (not folium): geodesic distances and bearings of the measure tool
    "https://cdn.jsdelivr.net/npm/geographiclib-geodesic@2.2.0/geographiclib-geodesic.min.js":
        "geographiclib-geodesic/geographiclib-geodesic.min.js",
}

# Elements that load CDN files outside default_js/default_css, which localize cannot rewrite.
_UNSUPPORTED: tuple[tuple[type, str], ...] = (
    (ColorMap, "a branca ColorMap (e.g. a Choropleth legend) makes streamlit-folium load "
               "https://d3js.org/d3.v4.min.js and https://cdnjs.cloudflare.com/ajax/libs/d3/3.5.5/d3.min.js; "
               "draw the legend as plain HTML instead"),
    (folium.features.VegaLite, "folium's VegaLite loads vega, vega-lite and vega-embed from "
                               "https://cdn.jsdelivr.net/npm/ while it renders"),
)

_EXTERNAL = re.compile(r"^\s*(?:https?:)?//", re.IGNORECASE)


def is_external(url: str) -> bool:
    """True for http(s) and protocol-relative URLs; data:, fragments and paths are the page's own."""
    return bool(_EXTERNAL.match(url))


def local_url(url: str, prefix: str = LOCAL_PREFIX) -> str:
    """The vendored URL for a known CDN URL; a non-external URL unchanged; DashboardError otherwise."""
    path = ASSET_MAP.get(url.strip())
    if path is not None:
        return f"{prefix.rstrip('/')}/{path}"
    if is_external(url):
        raise DashboardError(
            f"the map wants {url}, which is not vendored: add its package to static/vendor/build_vendor.py, "
            "rebuild static/vendor and map the URL in dashboard/mapview/assets.py ASSET_MAP")
    return url


def _walk(root: Element):
    stack, seen = [root], set()
    while stack:
        el = stack.pop()
        if id(el) in seen:
            continue
        seen.add(id(el))
        yield el
        stack.extend(reversed(list(getattr(el, "_children", {}).values())))
        for attr in ("m1", "m2"):  # folium.plugins.DualMap keeps its two maps here
            child = getattr(el, attr, None)
            if isinstance(child, Element):
                stack.append(child)


class LeafletImagePath(MacroElement):
    """Sets ``L.Icon.Default.imagePath`` before any marker of the map is made.

    Leaflet 1.9 finds its default marker images through the computed style of leaflet.css; when the
    stylesheet is not applied yet it falls back to the ``<link>``'s URL and drops a slash
    (``.../leafletmarker-icon.png``). streamlit-folium adds the stylesheets after the scripts and runs the
    map script at once, so that race is lost there: seen in Chromium as a 404 and a missing marker.
    """

    _template = Template("""
        {% macro script(this, kwargs) %}
            L.Icon.Default.imagePath = {{ this.path|tojson }};
        {% endmacro %}
    """)

    def __init__(self, path: str) -> None:
        super().__init__()
        self._name = "LeafletImagePath"
        self.path = path


def _set_image_path(m: folium.Map, prefix: str) -> None:
    path = f"{prefix.rstrip('/')}/leaflet/images/"
    for child in m._children.values():
        if isinstance(child, LeafletImagePath):
            child.path = path
            return
    element = LeafletImagePath(path)
    element._parent = m
    # First child: its script runs right after L.map(...) and before the markers' scripts, both in a
    # rendered page and in streamlit-folium (which concatenates the map's and its children's scripts).
    m._children = OrderedDict([(element.get_name(), element), *m._children.items()])


def localize(m: folium.Map, prefix: str = LOCAL_PREFIX) -> folium.Map:
    """Point every JS/CSS URL of ``m`` and its children (plugins included) at ``prefix``; return ``m``.

    Lists are replaced on the instances, never changed in place: folium's class-level lists are shared by
    every map of the process. Each folium.Map also gets a first child that sets Leaflet's default marker
    image path (see ``LeafletImagePath``). Calling it twice is harmless.
    """
    for el in list(_walk(m)):
        for cls, why in _UNSUPPORTED:
            if isinstance(el, cls):
                raise DashboardError(f"cannot serve this map offline: {why}")
        for attr in ("default_js", "default_css"):
            links = getattr(el, attr, None)
            if links:
                setattr(el, attr, [(name, local_url(url, prefix)) for name, url in links])
        if isinstance(el, folium.Map):
            _set_image_path(el, prefix)
    root = m.get_root()
    if isinstance(root, Figure):  # links already placed in the page head by an earlier render
        for child in root.header._children.values():
            if isinstance(child, Link):
                child.url = local_url(child.url, prefix)
    return m


# --------------------------------------------------------------------------- inline

_MIME = {
    ".js": "text/javascript", ".css": "text/css", ".png": "image/png", ".svg": "image/svg+xml",
    ".gif": "image/gif", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".woff2": "font/woff2",
    ".woff": "font/woff", ".ttf": "font/ttf", ".json": "application/json",
}
_SCRIPT_TAG = re.compile(r"<script\b([^>]*)>\s*</script\s*>", re.IGNORECASE)
_LINK_TAG = re.compile(r"<link\b([^>]*?)/?>", re.IGNORECASE)
_ATTR = re.compile(r"""([\w:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""")
_CSS_URL = re.compile(r"""url\(\s*(?:"([^"]*)"|'([^']*)'|([^)"'\s]*))\s*\)""", re.IGNORECASE)
_CSS_IMPORT = re.compile(r"""@import\s+(?:url\(\s*)?["']?([^"')\s;]+)["']?\s*\)?[^;]*;""", re.IGNORECASE)


def _attrs(text: str) -> dict[str, str]:
    return {m.group(1).lower(): htmllib.unescape(next(g for g in m.groups()[1:] if g is not None))
            for m in _ATTR.finditer(text)}


def _vendored_file(url: str, prefix: str, root: Path) -> Path:
    rel = url[len(prefix):].split("?", 1)[0].split("#", 1)[0].lstrip("/")
    path = (root / unquote(rel)).resolve()
    if not path.is_relative_to(root.resolve()) or not path.is_file():
        raise DashboardError(f"{url} is not a file in {root}")
    return path


@functools.lru_cache(maxsize=256)
def _read(path: Path) -> bytes:
    return path.read_bytes()


def _data_uri(path: Path) -> str:
    mime = _MIME.get(path.suffix.lower(), "application/octet-stream")
    return f"data:{mime};base64,{base64.b64encode(_read(path)).decode('ascii')}"


def _inline_css(path: Path, root: Path, depth: int = 0) -> str:
    """A vendored stylesheet with its @imports inlined and every url(...) as a data: URI."""
    text = _read(path).decode("utf-8")

    def target(ref: str) -> Path:
        rel = ref.split("?", 1)[0].split("#", 1)[0]
        dest = (path.parent / unquote(rel)).resolve()
        if not dest.is_relative_to(root.resolve()) or not dest.is_file():
            raise DashboardError(f"{path.relative_to(root)} references {ref}, which is not in {root}")
        return dest

    def imported(m: re.Match) -> str:
        if is_external(m.group(1)) or depth > 5:
            raise DashboardError(f"{path.relative_to(root)} imports {m.group(1)}")
        return _inline_css(target(m.group(1)), root, depth + 1)

    def url(m: re.Match) -> str:
        ref = next(g for g in m.groups() if g is not None)
        if not ref or ref.startswith(("data:", "#")):
            return m.group(0)
        if is_external(ref):
            raise DashboardError(f"{path.relative_to(root)} loads {ref}")
        return f'url("{_data_uri(target(ref))}")'

    text = _CSS_URL.sub(url, _CSS_IMPORT.sub(imported, text))
    if re.search(r"</style", text, re.IGNORECASE):
        raise DashboardError(f"{path.relative_to(root)} contains '</style' and cannot be inlined")
    return text


def _script(js: bytes) -> str:
    text = js.decode("utf-8")
    if "<!--" in text:  # would confuse the HTML parser's script states: load it as a data: URI instead
        return f'<script src="data:text/javascript;base64,{base64.b64encode(js).decode("ascii")}"></script>'
    return "<script>" + re.sub(r"</(script)", r"<\\/\1", text, flags=re.IGNORECASE) + "</script>"


def _leaflet_icon_patch(root: Path) -> str:
    """Leaflet finds its default marker images from leaflet.css's URL; inlined there is none to find."""
    images = root / "leaflet" / "images"
    return ("<script>L.Icon.Default.imagePath='';L.Icon.Default.mergeOptions({"
            f"iconUrl:'{_data_uri(images / 'marker-icon.png')}',"
            f"iconRetinaUrl:'{_data_uri(images / 'marker-icon-2x.png')}',"
            f"shadowUrl:'{_data_uri(images / 'marker-shadow.png')}'}});</script>")


def inline(html: str, prefix: str | None = None, root: Path | None = None) -> str:
    """One self-contained HTML page: the vendored files (``LOCAL_PREFIX``) and this project's own map
    scripts (``OWN_PREFIX``, the offline basemap) inlined; or only ``prefix`` from ``root`` when given."""
    if prefix is None and root is None:
        return _inline(_inline(html, LOCAL_PREFIX, VENDOR_DIR), OWN_PREFIX, OWN_DIR)
    return _inline(html, prefix or LOCAL_PREFIX, root or VENDOR_DIR)


def _inline(html: str, prefix: str, root: Path) -> str:
    """Every ``prefix`` script/stylesheet/file of the page inlined from ``root``.

    ``<script src>`` becomes ``<script>`` with the file's text, ``<link rel=stylesheet>`` becomes
    ``<style>`` whose ``url(...)`` references are ``data:`` URIs, any other attribute pointing under
    ``prefix`` becomes a ``data:`` URI. Raises ``DashboardError`` if a reference is missing or anything
    under ``prefix`` is left over.
    """
    prefix = prefix.rstrip("/")

    def ours(url: str | None) -> bool:
        return bool(url) and url.startswith(prefix + "/")

    def script(m: re.Match) -> str:
        src = _attrs(m.group(1)).get("src")
        if not ours(src):
            return m.group(0)
        path = _vendored_file(src, prefix, root)
        out = _script(_read(path))
        if path == (root / "leaflet" / "leaflet.js").resolve():
            out += _leaflet_icon_patch(root)
        return out

    def link(m: re.Match) -> str:
        attrs = _attrs(m.group(1))
        href = attrs.get("href")
        if not ours(href):
            return m.group(0)
        path = _vendored_file(href, prefix, root)
        if "stylesheet" in attrs.get("rel", "").lower().split():
            return "<style>" + _inline_css(path, root) + "</style>"
        return m.group(0).replace(m.group(1), m.group(1).replace(href, _data_uri(path)))

    out = _LINK_TAG.sub(link, _SCRIPT_TAG.sub(script, html))
    # LeafletImagePath's statement: inlined, the default icons are data: URIs (see _leaflet_icon_patch).
    out = re.sub(r"""L\.Icon\.Default\.imagePath\s*=\s*["']""" + re.escape(prefix) + r"""/leaflet/images/["'];""",
                 "L.Icon.Default.imagePath = '';", out)
    if prefix + "/" in out:  # scanning a page of 100k events for the pattern takes 0.1 s; finding none, far less
        out = re.sub(r"""(\b(?:src|href|data|poster)\s*=\s*["'])(""" + re.escape(prefix) + r"""/[^"']+)""",
                     lambda m: m.group(1) + _data_uri(_vendored_file(m.group(2), prefix, root)), out)
    if prefix in out:
        at = out.index(prefix)
        raise DashboardError(f"inline: a reference to {prefix} is left at …{out[max(0, at - 60):at + 80]}…")
    return out


# --------------------------------------------------------------------------- external_urls

_LOAD_TAG = re.compile(
    r"<(script|img|iframe|frame|embed|source|track|audio|video|input|link|object|image|use)\b([^>]*)>",
    re.IGNORECASE)
_LOAD_ATTRS = {"src", "href", "xlink:href", "data", "poster", "srcset"}
_TAG_ATTR = re.compile(r"""([\w:-]+)\s*=\s*\\?(?:"([^"\\]*)|'([^'\\]*)|([^\s"'>\\]+))""")
_ANY_CSS_URL = re.compile(r"""\burl\(\s*\\?["']?\s*([^"')\s\\]+)""", re.IGNORECASE)
_ANY_IMPORT = re.compile(r"""@import\s+(?:url\(\s*)?\\?["']?\s*([^"')\s;\\]+)""", re.IGNORECASE)
_HTML_DATA_URI = re.compile(r"data:text/html[^,\"'\s]*;base64,([A-Za-z0-9+/=]+)", re.IGNORECASE)
_SRCDOC = re.compile(r"""\bsrcdoc\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.IGNORECASE)


def external_urls(html: str) -> list[str]:
    """Every http(s) or protocol-relative URL the page would load (see the module docstring), in order."""
    found: list[str] = []

    def add(url: str) -> None:
        url = htmllib.unescape(url).strip()
        if is_external(url) and url not in found:
            found.append(url)

    def scan(text: str, depth: int) -> None:
        for tag in _LOAD_TAG.finditer(text):
            for a in _TAG_ATTR.finditer(tag.group(2)):
                if a.group(1).lower() in _LOAD_ATTRS:
                    value = next(g for g in a.groups()[1:] if g is not None)
                    for part in value.split(",") if a.group(1).lower() == "srcset" else [value]:
                        if part.strip():
                            add(part.split()[0])
        for rx in (_ANY_CSS_URL, _ANY_IMPORT):
            for m in rx.finditer(text):
                add(m.group(1))
        if depth < 3:
            for m in _HTML_DATA_URI.finditer(text):
                try:
                    scan(base64.b64decode(m.group(1)).decode("utf-8", "replace"), depth + 1)
                except ValueError:
                    pass
            for m in _SRCDOC.finditer(text):
                scan(htmllib.unescape(m.group(1) if m.group(1) is not None else m.group(2)), depth + 1)

    scan(html, 0)
    return found


def vendored_path(url: str, prefix: str = LOCAL_PREFIX) -> PurePosixPath | None:
    """The path below static/vendor of a local URL, or None for a URL that is not under ``prefix``."""
    prefix = prefix.rstrip("/")
    if not url.startswith(prefix + "/"):
        return None
    return PurePosixPath(url[len(prefix) + 1:].split("?", 1)[0].split("#", 1)[0])


# --------------------------------------------------------------------------- one script for the app's map

# streamlit-folium loads a map's scripts one after another (each awaited before the next is requested), in a
# new iframe at every change of the map: six round trips to the server before the map can start, about
# 0.25 s on a first visit of this 2-core machine. In the app they come as one file, the concatenation of the
# same files in the order streamlit-folium would load them (written by static/bundle/build_bundle.py, kept
# current by tests/test_assets.py). Exported pages inline the separate files as before.
BUNDLE_URL = "/app/static/bundle/reachmap-map.js"
BUNDLE_FILE = PROJECT_DIR / "static" / "bundle" / "reachmap-map.js"
# URL as a localized map declares it -> (file, package folder whose licence applies)
BUNDLE_PARTS: dict[str, tuple[Path, str]] = {
    f"{LOCAL_PREFIX}/leaflet/leaflet.js": (VENDOR_DIR / "leaflet" / "leaflet.js", "leaflet"),
    f"{OWN_PREFIX}/reachmap-basemap.js": (OWN_DIR / "reachmap-basemap.js", ""),
    f"{LOCAL_PREFIX}/leaflet.markercluster/leaflet.markercluster.js":
        (VENDOR_DIR / "leaflet.markercluster" / "leaflet.markercluster.js", "leaflet.markercluster"),
    f"{LOCAL_PREFIX}/leaflet-draw/leaflet.draw.js": (VENDOR_DIR / "leaflet-draw" / "leaflet.draw.js", "leaflet-draw"),
    f"{LOCAL_PREFIX}/leaflet.fullscreen/Control.FullScreen.js":
        (VENDOR_DIR / "leaflet.fullscreen" / "Control.FullScreen.js", "leaflet.fullscreen"),
    f"{LOCAL_PREFIX}/geographiclib-geodesic/geographiclib-geodesic.min.js":
        (VENDOR_DIR / "geographiclib-geodesic" / "geographiclib-geodesic.min.js", "geographiclib-geodesic"),
    f"{LOCAL_PREFIX}/supercluster/supercluster.min.js":
        (VENDOR_DIR / "supercluster" / "supercluster.min.js", "supercluster"),
}


def bundle_text() -> str:
    """The bundle's text: a header naming every part, its package, version and licence, then the parts."""
    import json

    packages = json.loads((VENDOR_DIR / "MANIFEST.json").read_text("utf-8"))["packages"]
    head = ["/*! Reachmap map scripts: one file for the app's map (dashboard/mapview/assets.py, BUNDLE_PARTS).",
            " * Written by static/bundle/build_bundle.py from these files, unchanged, in this order:"]
    body = []
    for url, (path, folder) in BUNDLE_PARTS.items():
        rel = path.relative_to(PROJECT_DIR).as_posix()
        if folder:
            pkgs = [p for p in packages if p["folder"] == folder]
            licences = sorted(f.relative_to(PROJECT_DIR).as_posix() for f in (VENDOR_DIR / folder).iterdir()
                              if "LICEN" in f.name.upper())
            about = "; ".join(f"{p['package']} {p['version']}, {p['license']}" for p in pkgs)
            head.append(f" *   {rel}: {about} (licence text: {', '.join(licences)})")
        else:
            head.append(f" *   {rel}: this project's own")
        body.append(f"\n/* ---- {rel} ---- */\n{path.read_text('utf-8')}\n;")
    head.append(" */")
    return "\n".join(head) + "".join(body) + "\n"


def write_bundle(path: Path = BUNDLE_FILE) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(bundle_text(), encoding="utf-8")
    return path


def map_links(m: folium.Map) -> tuple[list[str], list[str]]:
    """The scripts and stylesheets a map declares (``default_js`` / ``default_css`` of it and every child),
    each once, in the order streamlit-folium would load them: what a page must load before its script."""
    js: list[str] = []
    css: list[str] = []
    for el in _walk(m):
        js += [url for _, url in getattr(el, "default_js", ())]
        css += [url for _, url in getattr(el, "default_css", ())]
    return list(dict.fromkeys(js)), list(dict.fromkeys(css))


def use_bundle(m: folium.Map) -> folium.Map:
    """Load the bundled scripts of a localized map as one file (``BUNDLE_URL``), first; return ``m``.

    Every part of the bundle is taken off the elements' ``default_js`` (on the instances: folium's class
    lists are shared); a script that is not in the bundle keeps its place after it.
    """
    for el in list(_walk(m)):
        links = getattr(el, "default_js", None)
        if links:
            kept = [(name, url) for name, url in links if url not in BUNDLE_PARTS]
            if len(kept) != len(links):
                el.default_js = kept
    m.default_js = [("reachmap_map", BUNDLE_URL)] + [link for link in m.default_js if link[1] != BUNDLE_URL]
    return m
