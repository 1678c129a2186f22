"""Hostile strings for the security suites: every one must stay inert on every surface.

Kinds: OWASP XSS filter-evasion, server-side template injection (Jinja), JS template literals and string
breakouts, `javascript:`/`data:` URLs, attribute breakouts, Markdown that loads or links, RTL overrides,
NUL and control characters, and very long cells. Payloads that execute call `window.__pwned(<n>)` or set
`window.__pwned_flag`, or request the beacon (`http://127.0.0.1:{BEACON}/b<n>`), so a browser hook can tell
which one ran; canaries (`{{ 7*7 }}` and friends) must reach every output literally, never as `49`.
"""

from __future__ import annotations

BEACON_PORT = 9  # the discard port: nothing listens, but a page that tries is caught by the request hook

# Server-side template canaries: if any is evaluated the output holds the right-hand value.
# Each is wrapped in markers so that its evaluated form ("ssti<49>end") cannot occur by chance.
CANARIES: dict[str, str] = {
    "ssti<{{ 7*7 }}>end": "ssti<49>end",
    "ssti<{{7*'7'}}>end": "ssti<7777777>end",
    "ssti<{% if 1 %}IF{% endif %}>end": "ssti<IF>end",
    "ssti<{{ 1300+37 }}>end": "ssti<1337>end",
    "ssti<{# hidden #}>end": "ssti<>end",
}


def _js(n: int) -> list[str]:
    return [
        f"<script>__pwned({n})</script>",
        f"<img src=x onerror=__pwned({n})>",
        f"<svg onload=__pwned({n})>",
        f"<svg><script>__pwned({n})</script></svg>",
        f"<iframe src=\"javascript:parent.__pwned({n})\"></iframe>",
        f"<body onload=__pwned({n})>",
        f"<IMG SRC=\"javascript:__pwned({n});\">",
        f"<IMG SRC=`javascript:__pwned({n})`>",
        f"<IMG \"\"\"><SCRIPT>__pwned({n})</SCRIPT>\"\\>",
        f"<IMG SRC=/ onerror=\"__pwned({n})\"></img>",
        "<img src=x:alert(alt) onerror=eval(src) alt=0>",
        f"<a href=\"javascript:__pwned({n})\">click</a>",
        f"<a href=\"jav&#x09;ascript:__pwned({n})\">tab</a>",
        f"<details open ontoggle=__pwned({n})>",
        f"<input autofocus onfocus=__pwned({n})>",
        f"<video><source onerror=__pwned({n})></video>",
        f"<math><mtext><table><mglyph><style><img src=x onerror=__pwned({n})>",
        f"\"><script>__pwned({n})</script>",
        f"'><img src=x onerror=__pwned({n})>",
        f"\" onmouseover=\"__pwned({n})\" x=\"",
        f"' onfocus='__pwned({n})' autofocus='",
        f"</textarea><script>__pwned({n})</script>",
        f"</title><script>__pwned({n})</script>",
        f"</script><script>__pwned({n})</script>",
        f"<style>@import 'http://127.0.0.1:{BEACON_PORT}/b{n}.css';</style>",
        f"<img src=\"http://127.0.0.1:{BEACON_PORT}/b{n}.png\">",
        f"<link rel=stylesheet href=\"http://127.0.0.1:{BEACON_PORT}/b{n}.css\">",
        f"<div style=\"background:url(http://127.0.0.1:{BEACON_PORT}/b{n})\">x</div>",
        # JS template literals and string contexts
        f"${{__pwned({n})}}",
        f"`+__pwned({n})+`",
        f"`;__pwned({n});//",
        f"\";__pwned({n});//",
        f"';__pwned({n});//",
        f"\\\";__pwned({n});//",
        f"\\x3cimg src=x onerror=__pwned({n})\\x3e",
        f"\\u003cimg src=x onerror=__pwned({n})\\u003e",
        f"\\`${{__pwned({n})}}",
        f"C:\\users\\{n}\\new\\table",
        f"back`tick{n}",
        # Markdown that loads or links
        f"![x](http://127.0.0.1:{BEACON_PORT}/b{n}.png)",
        f"[click](javascript:__pwned({n}))",
        f"<img src=http://127.0.0.1:{BEACON_PORT}/h{n}.png>",
        f"**bold{n}** _it_ `code` # heading",
        f":red[coloured{n}] $\\LaTeX$",
        # URLs
        f"javascript:__pwned({n})",
        f"JaVaScRiPt:__pwned({n})",
        f"data:text/html,<script>parent.__pwned({n})</script>",
        "data:text/html;base64,PHNjcmlwdD5wYXJlbnQuX19wd25lZCgxKTwvc2NyaXB0Pg==",
        f"vbscript:msgbox({n})",
        f"file:///etc/passwd#{n}",
        # Text direction, invisible and control characters
        f"\u202eevil{n}\u202c.txt",
        f"\u2066isolate{n}\u2069 \u200bzero\u200dwidth",
        f"nul\u0000byte{n}",
        f"bell\u0007esc\u001b[31mred{n}\u001b[0m",
        f"line\u2028sep\u2029para{n}",
        f"cr\rlf\nvt\u000bff\u000c{n}",
        f"\ufeffbom{n}\ufffe",
        # XML and entities
        f"<![CDATA[]]><x>{n}</x>",
        f"&lt;script&gt;__pwned({n})&lt;/script&gt;",
        f"&#60;script&#62;__pwned({n})&#60;/script&#62;",
        f"<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY e \"{n}\">]>&e;",
        # Spreadsheet formulas
        f"=HYPERLINK(\"http://127.0.0.1:{BEACON_PORT}/b{n}\",\"x\")",
        f"+cmd|' /C calc'!A{n}",
        f"@SUM(1+{n})",
    ]


def payloads() -> list[str]:
    """Every payload once, numbered so the browser hook can name the one that ran."""
    out = list(CANARIES)
    out += _js(1000)
    return out


PAYLOADS: list[str] = payloads()
LONG_CELL = "A" * (10 * 1024 * 1024)  # 10 MB: refused or shown cut, never a hang
EXECUTION_HOOK = """
window.__pwned_calls = [];
window.__pwned = function (n) { window.__pwned_calls.push(String(n)); };
window.alert = window.confirm = window.prompt = function (m) { window.__pwned_calls.push('dialog:' + m); };
"""


def _forms(value: str) -> tuple[str, ...]:
    """A string as it may stand in a page: as is, HTML-escaped, or JSON-escaped."""
    return (value, value.replace("<", "&lt;").replace(">", "&gt;"),
            value.replace("<", "\\u003c").replace(">", "\\u003e"))


def evaluated_canaries(text: str) -> list[str]:
    """The canaries whose evaluated value appears in `text` (HTML-escaped or not)."""
    return [source for source, value in CANARIES.items() if any(f in text for f in _forms(value))]
