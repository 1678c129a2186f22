"""The one place where strings from data become inert before folium, Jinja and the browser.

A title from an imported file passes several interpreters on its way to a map, and escaping for HTML
covers only the first:

1. HTML (popups, tooltips, legend, labels) — `<`, `>`, `&`, quotes.
2. Jinja, twice: branca's `MacroElement.render` and folium's `Popup.render` wrap each element's rendered
   output in `Element(text)`, which compiles that text as a template again, so `{{ … }}` in data ran as
   code on the server. `install()` replaces those two render methods with ones that keep rendered text
   as it is (`Literal`): nothing rendered is ever template source again, whoever builds the element.
3. JavaScript: folium puts popup and tooltip HTML inside template literals (`` $(`…`) ``), where `${…}`,
   backticks and backslashes are code. `Tooltip` and `Popup` here pass their content as JSON strings
   instead, and `text` also turns `{ } $ ` \\` into character references, so the same string is inert
   even in a template literal or a template engine nobody here wrote.

Callers never format data into HTML themselves: `html(template, **values)` escapes every value and
returns `Markup`; `Tooltip`, `Popup` and `MarkupElement` accept only `Markup` (or plain text, which they
escape), so a raw data string cannot reach the page as HTML by mistake.

    >>> text("{{ 7*7 }} <b>${x}</b>")
    '&#123;&#123; 7*7 &#125;&#125; &lt;b&gt;&#36;&#123;x&#125;&lt;/b&gt;'
    >>> js_json({"label": "{{ 7*7 }}</script>"})
    '{"label":"\\\\u007b\\\\u007b 7*7 \\\\u007d\\\\u007d\\\\u003c/script\\\\u003e"}'
    >>> url("javascript:alert(1)") is None, url("https://example.org/a?b=1&c=2")
    (True, 'https://example.org/a?b=1&amp;c=2')
"""

from __future__ import annotations

import json
import math
import re
import unicodedata
from collections.abc import Mapping
from html import escape
from urllib.parse import urlsplit

import branca.element
import folium
import folium.map
from branca.element import Element, Figure, MacroElement
from folium.template import Template

from dashboard.model import BIDI_CONTROLS

__all__ = ["Literal", "Markup", "MarkupElement", "Popup", "Tooltip", "html", "http_url", "install", "js_json",
           "markdown", "text", "url"]

# Characters that are syntax for Jinja ({ }), JS template literals ($ ` \) or HTML, as references.
_INERT = str.maketrans({"{": "&#123;", "}": "&#125;", "$": "&#36;", "`": "&#96;", "\\": "&#92;"})
# Escapes for JSON inside <script> and inside any template engine: no tag, entity, brace or literal syntax.
_JS_ESCAPES = {c: f"\\u{ord(c):04x}" for c in "<>&'{}$`\u2028\u2029"}
_JS_RE = re.compile("[" + re.escape("".join(_JS_ESCAPES)) + "]")
# Direction controls reorder the text around them (a "gpj.exe" trick): never shown.
_BIDI = dict.fromkeys(map(ord, BIDI_CONTROLS))
_SAFE_SCHEMES = ("http", "https")


class Markup(str):
    """HTML that this module built from escaped values; the only HTML `Popup`/`Tooltip` accept as is."""

    __slots__ = ()


def _visible(value: object) -> str:
    """The text without control or direction-override characters (display only; the data keeps them).

    Line and paragraph separators become spaces; tab and newline stay. Other format characters (zero-width
    joiners, soft hyphens) stay: scripts such as Persian and Hindi need them.
    """
    s = "" if value is None else str(value)
    s = s.translate(_BIDI)
    if s.isprintable():
        return s
    return "".join(" " if ch in "\r\v\f\u2028\u2029\x85" else ch for ch in s
                   if ch in "\n\t" or unicodedata.category(ch) != "Cc" or ch in "\r\v\f\x85")


def text(value: object) -> Markup:
    """A data string as HTML text that no later interpreter (Jinja, JS template literal) reads as code."""
    if isinstance(value, Markup):
        return value
    return Markup(escape(_visible(value), quote=True).translate(_INERT))


def http_url(value: object) -> str | None:
    """The value if it is an absolute http(s) URL (for a link column or a button); None for any other
    scheme (javascript:, data:, file:, vbscript:), for whitespace or control characters inside it."""
    raw = "" if value is None else str(value).strip()
    if not raw or not raw.isprintable() or any(ch.isspace() for ch in raw) or raw != _visible(raw):
        return None
    try:
        parts = urlsplit(raw)
    except ValueError:
        return None
    if parts.scheme.lower() not in _SAFE_SCHEMES or not parts.netloc:
        return None
    return raw


def url(value: object) -> Markup | None:
    """An http(s) link from data, escaped for an HTML attribute; None where `http_url` is None."""
    raw = http_url(value)
    return None if raw is None else text(raw)


def html(template: str, **values: object) -> Markup:
    """Our own HTML `template` (str.format fields) with every value escaped by `text` (Markup stays).

    >>> html('<b class="t">{title}</b>', title="<i>{{x}}</i>")
    '<b class="t">&lt;i&gt;&#123;&#123;x&#125;&#125;&lt;/i&gt;</b>'
    """
    return Markup(template.format(**{k: text(v) for k, v in values.items()}))


def join(parts) -> Markup:
    """Markup pieces joined; any piece that is not Markup is escaped as text."""
    return Markup("".join(text(p) for p in parts))


_MD_PUNCTUATION = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")


def markdown(value: object, *, one_line: bool = False) -> str:
    """A data string for Streamlit's Markdown (st.markdown, st.title, st.caption, st.warning…), shown as typed.

    Every ASCII punctuation character is backslash-escaped (CommonMark allows it for all of them), so no
    link, image, autolink, heading, emphasis, HTML, entity, LaTeX or Streamlit directive (`:red[…]`,
    `:material/…:`) can come from data; control and direction-override characters are dropped.

    >>> print(markdown("![x](http://127.0.0.1/h.png) :red[x]"))
    \\!\\[x\\]\\(http\\:\\/\\/127\\.0\\.0\\.1\\/h\\.png\\) \\:red\\[x\\]
    """
    s = _visible(value)
    if one_line:
        s = " ".join(s.split())
    else:
        s = s.replace("\r\n", "\n").replace("\n", "  \n")  # a line break stays a line break, not a paragraph
    return "".join("\\" + ch if ch in _MD_PUNCTUATION else ch for ch in s)


def js_json(value: object) -> str:
    """`value` as a JavaScript literal that is inert inside <script>, Jinja and template literals.

    Strings escape `< > & ' { } $ `` ` and U+2028/9 as \\uXXXX (JSON readers get the same text back);
    non-finite numbers are refused, since JSON has none and JavaScript would read them as code.
    """
    if isinstance(value, str):
        return '"' + _JS_RE.sub(lambda m: _JS_ESCAPES[m.group()], json.dumps(value, ensure_ascii=False)[1:-1]) + '"'
    if value is None or isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            raise ValueError(f"Expected a finite number for the map, instead got: {value!r}")
        return json.dumps(value)
    if isinstance(value, Mapping):
        return "{" + ",".join(js_json(str(k)) + ":" + js_json(v) for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(js_json(v) for v in value) + "]"
    raise TypeError(f"Expected JSON data (str, number, bool, None, list, dict) for the map, instead got: "
                    f"{type(value).__name__}")


# ------------------------------------------------------------------------------ folium elements

class Tooltip(folium.Tooltip):
    """folium's Tooltip with its content as a JSON string, not inside a JS template literal."""

    _template = Template("""
        {% macro script(this, kwargs) %}
            {{ this._parent.get_name() }}.bindTooltip({{ this.content }}, {{ this.options|tojavascript }});
        {% endmacro %}
    """)

    def __init__(self, content: str, **kwargs) -> None:
        super().__init__("", **kwargs)
        self.text = text(content)  # plain text is escaped; Markup from html() is kept
        self.content = js_json(f"<div>{self.text}</div>")


class Popup(folium.Popup):
    """folium's Popup with its content as a JSON string (set on first open when `lazy`)."""

    _template = Template("""
        var {{ this.get_name() }} = L.popup({{ this.options|tojavascript }});
        {% if this.lazy %}
        {{ this._parent.get_name() }}.once('click', function () { {{ this.get_name() }}.setContent({{ this.content }}); });
        {% else %}
        {{ this.get_name() }}.setContent({{ this.content }});
        {% endif %}
        {{ this._parent.get_name() }}.bindPopup({{ this.get_name() }}){% if this.show %}.openPopup(){% endif %};
    """)

    def __init__(self, content: str, **kwargs) -> None:
        super().__init__(None, **kwargs)
        self.content = js_json(text(content))


class MarkupElement(MacroElement):
    """A block of our own HTML in the page body (a legend, a title box); data only through `html()`."""

    _template = Template("""
        {% macro html(this, kwargs) %}{{ this.markup }}{% endmacro %}
    """)

    def __init__(self, markup: str) -> None:
        super().__init__()
        self._name = "MarkupElement"
        self.markup = text(markup)


# --------------------------------------------------------------------- no second template pass

class Literal(Element):
    """Text that was already rendered: kept as it is, never compiled as a template again."""

    def __init__(self, rendered: str) -> None:
        super().__init__()
        self._name = "Literal"
        # jinja2 drops one trailing newline of a template; keep the page byte-identical to before.
        self.rendered = rendered[:-1] if rendered.endswith("\n") else rendered

    def render(self, **kwargs) -> str:
        return self.rendered


def _macro_render(self: MacroElement, **kwargs) -> None:
    """branca's MacroElement.render, with each rendered macro added as a Literal, not as a template."""
    figure = self.get_root()
    if not isinstance(figure, Figure):
        raise TypeError("You cannot render this Element if it is not in a Figure.")
    module = self._template.module.__dict__
    for part in ("header", "html", "script"):
        macro = module.get(part)
        if macro is not None:
            getattr(figure, part).add_child(Literal(macro(self, kwargs)), name=self.get_name())
    for element in list(self._children.values()):
        element.render(**kwargs)


def _popup_render(self: folium.Popup, **kwargs) -> None:
    """folium's Popup.render, with the rendered popup added as a Literal, not as a template."""
    for child in list(self._children.values()):
        child.render(**kwargs)
    figure = self.get_root()
    if not isinstance(figure, Figure):
        raise TypeError("You cannot render this Element if it is not in a Figure.")
    figure.script.add_child(Literal(self._template.render(this=self, kwargs=kwargs)), name=self.get_name())


# The library's own methods, kept so tests can compare the pages both render.
ORIGINAL_RENDERS = {"MacroElement": branca.element.MacroElement.render, "Popup": folium.map.Popup.render}


def install() -> None:
    """Stop branca and folium from compiling rendered output as Jinja (idempotent; see the module doc).

    The replaced methods are the ones that create `Element(rendered_text)`; `tests/security` checks that
    the installed folium and branca still have no other such place and that maps render as before.
    """
    branca.element.MacroElement.render = _macro_render
    folium.map.Popup.render = _popup_render


def installed() -> bool:
    return branca.element.MacroElement.render is _macro_render and folium.map.Popup.render is _popup_render


install()
