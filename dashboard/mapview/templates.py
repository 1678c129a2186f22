"""folium imported with its element templates compiled when first rendered, not all at import.

folium's element classes each make their Jinja template as a class attribute: importing folium and its
plugins compiles 76 of them, 0.6-0.9 s of CPU on this 2-core machine and most of folium's import, while a
map renders a dozen or so. While `import_folium` imports it, a template is made as a stand-in that
compiles the real one at its first use (folium and branca only call `render` and read `module`), with the
same class, source and options; afterwards every template is made as usual again. What a template
renders is unchanged: the same jinja2 compile, later.
"""

from __future__ import annotations

import sys
import threading
from typing import Any

import jinja2

_lock = threading.Lock()


class _Deferred:
    """A template still to compile: the jinja2.Template that `cls(source, …)` makes, made at first use."""

    __slots__ = ("_args", "_real")

    def __init__(self, *args: Any) -> None:
        self._args = args  # (cls, source, positional options, keyword options)
        self._real: jinja2.Template | None = None

    def _template(self) -> jinja2.Template:
        if self._real is None:
            with _lock:  # two threads rendering their first map at once compile it once
                if self._real is None:
                    cls, source, args, kwargs = self._args
                    self._real = _NEW(cls, source, *args, **kwargs)
        return self._real

    def render(self, *args: Any, **kwargs: Any) -> str:
        return self._template().render(*args, **kwargs)

    def __getattr__(self, name: str) -> Any:  # module, blocks, environment, …
        return getattr(self._template(), name)


_NEW = jinja2.Template.__dict__["__new__"].__func__  # jinja2's own: compiles `source` into a Template


def import_folium() -> None:
    """Import folium and the plugins the map uses, their templates deferred (see the module docstring);
    nothing to do when folium is already loaded (its templates then stay as they were made)."""
    if "folium" in sys.modules:
        return
    original = jinja2.Template.__dict__["__new__"]
    jinja2.Template.__new__ = staticmethod(lambda cls, source, *args, **kwargs: _Deferred(cls, source, args, kwargs))
    try:
        import folium  # noqa: F401
        import folium.plugins  # noqa: F401
    finally:
        jinja2.Template.__new__ = original
