"""Rebuild static/vendor/ — every front-end file a Reachmap map loads — from the npm registry.

    python static/vendor/build_vendor.py            # rebuild static/vendor and MANIFEST.json
    python static/vendor/build_vendor.py --check    # rebuild into a temporary folder, compare, change nothing

What it does, for each package pinned in PACKAGES below:

1. ``npm pack NAME@VERSION`` into a temporary folder (the ordinary npm client, so npm's registry settings
   apply; nothing is fetched from a CDN);
2. checks the tarball's sha512 against the ``dist.integrity`` pinned here (npm checks it too; pinning it
   here means a republished tarball cannot slip in silently);
3. copies only the files a map actually loads, plus the package's licence file, into
   ``static/vendor/<folder>/`` with the package's own relative layout, so CSS ``url(...)`` references
   keep working;
4. writes ``MANIFEST.json``: package, version, licence, integrity, and for every file its source path,
   the transformations applied, its size and sha256.

Transformations (all deterministic, all recorded per file in MANIFEST.json):

- ``strip-sourcemap``: the trailing ``sourceMappingURL`` comment is removed (the maps are not vendored,
  so the comment would only produce a 404 when DevTools is open).
- ``woff2-only`` (Font Awesome): each ``@font-face`` ``src`` lists only the ``.woff2`` file; the ``.ttf``
  fallbacks are dropped and not vendored. Every browser Reachmap supports reads woff2.
- ``glyphicons-extract`` (Bootstrap 3): folium's Map links Bootstrap 3.0.0's
  ``bootstrap-glyphicons.css`` (glyphicons are folium's default ``Icon`` prefix). That file is not on
  npm; the same rules are in bootstrap@3.4.1's ``dist/css/bootstrap.css``. The ``@font-face`` and all
  ``.glyphicon*`` rules are cut out of it, with the ``@font-face`` reduced to the woff2 font
  (3.4.1 is the last 3.x and the first to ship woff2; its icon set is a superset of 3.0's).
- ``generated`` (folium): ``leaflet.awesome.rotate.css`` — the ``fa-rotate-N`` classes folium's Icon uses
  for ``angle=N``. It lives only in folium's git repository and sdist, not on npm or in the wheel; the
  script writes it and checks it is byte-identical to ``folium/templates/leaflet.awesome.rotate.css`` of
  the folium 0.20.0 sdist (sha256 pinned below).

Two licence texts are not inside their npm tarballs and are written from constants below, with their
source: Leaflet.draw's ``MIT-LICENSE.md`` (its GitHub repository) and folium's ``LICENSE.txt``. One is
from a package none of whose code is vendored on its own: kdbush's ``LICENSE`` (as
``supercluster/LICENSE-kdbush``), because supercluster's UMD build bundles kdbush.

The output depends only on the pinned tarballs and this file: running it twice gives identical bytes.
Only the network access it needs is to the npm registry (through ``npm``).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

VENDOR_DIR = Path(__file__).resolve().parent
KEEP = {"build_vendor.py"}  # files in static/vendor that the build does not own


# --------------------------------------------------------------------------- transformations

def strip_sourcemap(data: bytes) -> bytes:
    """Drop a trailing ``//# sourceMappingURL=...`` or ``/*# sourceMappingURL=... */`` comment."""
    text = data.decode("utf-8")
    new = re.sub(r"\n?(//[#@] sourceMappingURL=[^\n]*|/\*[#@] sourceMappingURL=[^*]*\*/)\s*$", "\n", text)
    return new.encode("utf-8")


def woff2_only(data: bytes) -> bytes:
    """Font Awesome: keep only the woff2 source of every @font-face."""
    text = strip_sourcemap(data).decode("utf-8")
    new, n = re.subn(r',url\(\.\./webfonts/[\w.-]+\.ttf\) format\("truetype"\)', "", text)
    if n == 0 or ".ttf" in new:
        raise SystemExit("woff2-only: the Font Awesome CSS does not have the expected @font-face form")
    return new.encode("utf-8")


def glyphicons_extract(data: bytes) -> bytes:
    """Bootstrap 3: the Glyphicons @font-face and every .glyphicon rule, woff2 only."""
    text = data.decode("utf-8")
    start = text.index('@font-face {\n  font-family: "Glyphicons Halflings";')
    last = text.index(".glyphicon-menu-up:before {", start)
    end = text.index("}", last) + 1
    body = text[start:end]
    body, n = re.subn(r"  src: url\(\"\.\./fonts/glyphicons-halflings-regular\.eot\"\);\n  src: [^;]*;",
                      '  src: url("../fonts/glyphicons-halflings-regular.woff2") format("woff2");', body)
    if n != 1 or ".eot" in body or ".ttf" in body or ".woff\"" in body:
        raise SystemExit("glyphicons-extract: bootstrap.css does not have the expected @font-face form")
    icons = len(re.findall(r"\.glyphicon-[\w-]+:before", body))
    if icons < 250:
        raise SystemExit(f"glyphicons-extract: only {icons} icons found")
    header = ("/*!\n * Glyphicons Halflings rules of Bootstrap v3.4.1 (https://getbootstrap.com/)\n"
              " * Copyright 2011-2019 Twitter, Inc.\n"
              " * Licensed under MIT (https://github.com/twbs/bootstrap/blob/master/LICENSE)\n"
              " * Cut out of dist/css/bootstrap.css by static/vendor/build_vendor.py (woff2 only).\n */\n")
    return (header + body + "\n").encode("utf-8")


def folium_rotate_css() -> bytes:
    """folium/templates/leaflet.awesome.rotate.css of folium 0.20.0, written out (see module docstring)."""
    rule = "      .fa-rotate-{0}{{-ms-transform:rotate({0}deg); -webkit-transform:rotate({0}deg); transform:rotate({0}deg);}}"
    data = "\n".join(rule.format(i) for i in range(1, 361)).encode("ascii")
    digest = hashlib.sha256(data).hexdigest()
    if digest != FOLIUM_ROTATE_SHA256:
        raise SystemExit(f"folium rotate css: sha256 {digest} is not the pinned {FOLIUM_ROTATE_SHA256}")
    return data


FOLIUM_ROTATE_SHA256 = "d5501eae37287555b79483f75a3b6c9f0acb24b92ee20c0836b0997baf8fdfb6"

TRANSFORMS: dict[str, Callable[[bytes], bytes]] = {
    "strip-sourcemap": strip_sourcemap,
    "woff2-only": woff2_only,
    "glyphicons-extract": glyphicons_extract,
}

# --------------------------------------------------------------------------- licence texts not in tarballs

MIT_BODY = """Permission is hereby granted, free of charge, to any person obtaining
a copy of this software and associated documentation files (the
"Software"), to deal in the Software without restriction, including
without limitation the rights to use, copy, modify, merge, publish,
distribute, sublicense, and/or sell copies of the Software, and to
permit persons to whom the Software is furnished to do so, subject to
the following conditions:

The above copyright notice and this permission notice shall be
included in all copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND,
EXPRESS OR IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF
MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND
NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE
LIABLE FOR ANY CLAIM, DAMAGES OR OTHER LIABILITY, WHETHER IN AN ACTION
OF CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN CONNECTION
WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.
"""

# Leaflet.draw's MIT-LICENSE.md (github.com/Leaflet/Leaflet.draw); the npm tarball ships none.
LEAFLET_DRAW_LICENSE = "Copyright 2012-2016 Jacob Toye and Leaflet\n\n" + MIT_BODY

# folium's LICENSE.txt (folium 0.20.0 sdist and wheel, identical).
FOLIUM_LICENSE = """Copyright (C) 2013-, Folium developers
See https://github.com/python-visualization/folium/graphs/contributors for a
full list of contributors.

Permission is hereby granted, free of charge, to any person obtaining a copy of
this software and associated documentation files (the "Software"), to deal in
the Software without restriction, including without limitation the rights to
use, copy, modify, merge, publish, distribute, sublicense, and/or sell copies
of the Software, and to permit persons to whom the Software is furnished to do
so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all
copies or substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
SOFTWARE.
"""

# --------------------------------------------------------------------------- the pinned packages


@dataclass(frozen=True)
class Package:
    name: str            # npm name
    version: str         # exact version
    integrity: str       # npm dist.integrity (sha512)
    folder: str          # folder under static/vendor
    license: str         # SPDX expression, as the licence file says
    files: dict[str, str | tuple[str, str]]  # tarball path (below package/) -> dest, or (dest, transform)
    license_files: dict[str, str] = field(default_factory=dict)  # tarball path -> dest
    note: str = ""


SM = "strip-sourcemap"

PACKAGES: tuple[Package, ...] = (
    Package(
        "leaflet", "1.9.4",
        "sha512-nxS1ynzJOmOlHp+iL3FyWqK89GtNL8U8rvlMOsQdTTssxZwCXh8N2NB3GDQOL+YR3XnWyZAxwQixURb+FA74PA==",
        "leaflet", "BSD-2-Clause",
        {
            "dist/leaflet.js": ("leaflet.js", SM),
            "dist/leaflet.css": "leaflet.css",
            "dist/images/layers.png": "images/layers.png",
            "dist/images/layers-2x.png": "images/layers-2x.png",
            "dist/images/marker-icon.png": "images/marker-icon.png",
            "dist/images/marker-icon-2x.png": "images/marker-icon-2x.png",
            "dist/images/marker-shadow.png": "images/marker-shadow.png",
        },
        {"LICENSE": "LICENSE"},
        "folium 0.20.0 links leaflet 1.9.3; 1.9.4 is the bug-fix release of the same API.",
    ),
    Package(
        "leaflet.markercluster", "1.5.3",
        "sha512-vPTw/Bndq7eQHjLBVlWpnGeLa3t+3zGiuM7fJwCkiMFq+nmRuG3RI3f7f4N4TDX7T4NpbAXpR2+NTRSEGfCSeA==",
        "leaflet.markercluster", "MIT",
        {
            "dist/leaflet.markercluster.js": ("leaflet.markercluster.js", SM),
            "dist/MarkerCluster.css": "MarkerCluster.css",
            "dist/MarkerCluster.Default.css": "MarkerCluster.Default.css",
        },
        {"MIT-LICENCE.txt": "MIT-LICENCE.txt"},
        "folium's MarkerCluster links 1.1.0; 1.5.3 is the current 1.x, made for Leaflet 1.9.",
    ),
    Package(
        "leaflet-draw", "1.0.4",
        "sha512-rsQ6saQO5ST5Aj6XRFylr5zvarWgzWnrg46zQ1MEOEIHsppdC/8hnN8qMoFvACsPvTioAuysya/TVtog15tyAQ==",
        "leaflet-draw", "MIT",
        {
            "dist/leaflet.draw.js": "leaflet.draw.js",
            "dist/leaflet.draw.css": "leaflet.draw.css",
            "dist/images/spritesheet.png": "images/spritesheet.png",
            "dist/images/spritesheet-2x.png": "images/spritesheet-2x.png",
            "dist/images/spritesheet.svg": "images/spritesheet.svg",
        },
        {},
        "folium's Draw links 1.0.2; 1.0.4 is the last release. The tarball has no licence file: "
        "MIT-LICENSE.md is written from the repository's text.",
    ),
    Package(
        "leaflet.fullscreen", "3.0.0",
        "sha512-81wWSUXz1ZtdneR0v5eJDWXUSx+Zo5J50WXWeydG/UcILfIEAgz/iOjZSi3p00Z9MJ/FC/P5i3CgdYuEAos0yQ==",
        "leaflet.fullscreen", "MIT",
        {
            "Control.FullScreen.js": "Control.FullScreen.js",
            "Control.FullScreen.css": "Control.FullScreen.css",
            "icon-fullscreen.svg": "icon-fullscreen.svg",
        },
        {"LICENSE": "LICENSE"},
        "The version folium's Fullscreen links. Its .min.js URL is a CDN-made minification of "
        "Control.FullScreen.js, which is vendored instead (the package ships no .min.js).",
    ),
    Package(
        "jquery", "3.7.1",
        "sha512-m4avr8yL8kmFN8psrbFFFmB/If14iN5o9nw/NgnnM+kybDJpRsAynV2BsfpTYrTRysYUdADVD7CkUUizgkpLfg==",
        "jquery", "MIT",
        {"dist/jquery.min.js": ("jquery.min.js", SM)},
        {"LICENSE.txt": "LICENSE.txt"},
    ),
    Package(
        "bootstrap", "5.2.2",
        "sha512-dEtzMTV71n6Fhmbg4fYJzQsw1N29hJKO1js5ackCgIpDcGid2ETMGC6zwSYw09v05Y+oRdQ9loC54zB1La3hHQ==",
        "bootstrap", "MIT",
        {
            "dist/css/bootstrap.min.css": ("css/bootstrap.min.css", SM),
            "dist/js/bootstrap.bundle.min.js": ("js/bootstrap.bundle.min.js", SM),
        },
        {"LICENSE": "LICENSE"},
    ),
    Package(
        "bootstrap", "3.4.1",
        "sha512-yN5oZVmRCwe5aKwzRj6736nSmKDX7pLYwsXiCj/EYmo16hODaBiT4En5btW/jhBF/seV+XMx3aYwukYC3A49DA==",
        "glyphicons", "MIT",
        {
            "dist/css/bootstrap.css": ("css/bootstrap-glyphicons.css", "glyphicons-extract"),
            "dist/fonts/glyphicons-halflings-regular.woff2": "fonts/glyphicons-halflings-regular.woff2",
        },
        {"LICENSE": "LICENSE"},
        "Only the Glyphicons rules and font, for folium's bootstrap-glyphicons.css (Bootstrap 3.0.0, "
        "not on npm).",
    ),
    Package(
        "@fortawesome/fontawesome-free", "6.2.0",
        "sha512-CNR7qRIfCwWHNN7FnKUniva94edPdyQzil/zCwk3v6k4R6rR2Fr8i4s3PM7n/lyfPA6Zfko9z5WDzFxG9SW1uQ==",
        "fontawesome-free", "CC-BY-4.0 AND OFL-1.1 AND MIT",
        {
            "css/all.min.css": ("css/all.min.css", "woff2-only"),
            "webfonts/fa-brands-400.woff2": "webfonts/fa-brands-400.woff2",
            "webfonts/fa-regular-400.woff2": "webfonts/fa-regular-400.woff2",
            "webfonts/fa-solid-900.woff2": "webfonts/fa-solid-900.woff2",
            "webfonts/fa-v4compatibility.woff2": "webfonts/fa-v4compatibility.woff2",
        },
        {"LICENSE.txt": "LICENSE.txt"},
        "Icons CC BY 4.0, fonts SIL OFL 1.1, code MIT; the attribution comment stays in all.min.css.",
    ),
    Package(
        "leaflet.awesome-markers", "2.0.5",
        "sha512-Ne/xDjkGyaujwNVVkv2tyXQUV0ZW7gZ0Mo0FuQY4jp2qWrvXi0hwDBvmZyF/8YOvybyMabTMM/mFWCTd1jZIQA==",
        "leaflet.awesome-markers", "MIT",
        {
            "dist/leaflet.awesome-markers.js": "leaflet.awesome-markers.js",
            "dist/leaflet.awesome-markers.css": "leaflet.awesome-markers.css",
            "dist/images/markers-soft.png": "images/markers-soft.png",
            "dist/images/markers-soft@2x.png": "images/markers-soft@2x.png",
            "dist/images/markers-shadow.png": "images/markers-shadow.png",
            "dist/images/markers-shadow@2x.png": "images/markers-shadow@2x.png",
        },
        {"LICENSE": "LICENSE"},
        "folium links 2.0.2 (not on npm under this name). 2.0.5's JavaScript is byte-identical to 2.0.2's; "
        "its CSS and sprite add square markers. package.json says ISC, the LICENSE file (L. Voogdt) is MIT.",
    ),
    Package(
        "leaflet-mouse-position", "1.2.0",
        "sha512-iKS25GZDRdoKZn0O5sjTyNcBYrq/wenLiOidj4jJ5iD4SfhyqVj+bJHgBwuMxOlf8Vc/9B1ZPlqYV4QA97nyFg==",
        "leaflet-mouse-position", "MIT",
        {
            "src/L.Control.MousePosition.js": "L.Control.MousePosition.js",
            "src/L.Control.MousePosition.css": "L.Control.MousePosition.css",
        },
        {"MIT-LICENCE.txt": "MIT-LICENCE.txt"},
        "npm packaging of ardhi/Leaflet.MousePosition, which folium's MousePosition links unversioned.",
    ),
    Package(
        "leaflet-measure", "2.1.7",
        "sha512-IvoHIoVTIQSXUgaNnAMF17qXFB+dF5ICdwmY8BHyq/Hh33/xeGqQUUYlz0pRMzFN9NUcjsT6JBhCr1ia0CG5ug==",
        "leaflet-measure", "MIT",
        {
            "dist/leaflet-measure.min.js": "leaflet-measure.min.js",
            "dist/leaflet-measure.css": "leaflet-measure.css",
            **{f"dist/images/{n}{s}.png": f"images/{n}{s}.png"
               for n in ("cancel", "check", "focus", "rulers", "start", "trash") for s in ("", "_@2X")},
        },
        {"LICENSE": "LICENSE"},
        "The version folium's MeasureControl links.",
    ),
    Package(
        "supercluster", "9.1.0",
        "sha512-WMhsJPm8Tf9f5mKxJ1D0mB5tbCMOFi8wTrm/LGnsJHGg8xkeNT/TWDZuFauOGRISnclbYgnxD7g3xJAfQO3FLg==",
        "supercluster", "ISC",
        {"dist/supercluster.min.js": "supercluster.min.js"},  # it has no sourceMappingURL comment
        {"LICENSE": "LICENSE"},
        "Client-side point clustering for maps of more than 5,000 events (dashboard/mapview/bulk.py). "
        "Its UMD build bundles kdbush 4.1.0 (ISC, same author), whose licence is vendored beside it.",
    ),
    Package(
        "geographiclib-geodesic", "2.2.0",
        "sha512-cIedo9VTYb0DFufodgibDmVfsWe9EASqb/kUByl09xc6PZYvLvlc89BHCThtGTPf2OII/zWJGxsR3Uz6O7QOVw==",
        "geographiclib-geodesic", "MIT",
        {"geographiclib-geodesic.min.js": "geographiclib-geodesic.min.js"},  # no sourceMappingURL comment
        {"LICENSE.txt": "LICENSE.txt"},
        "Karney's geodesic algorithms (C. F. F. Karney), the JavaScript port of what pyproj.Geod runs: the map's "
        "measure tool and lines of bearing (dashboard/mapview/measure.py) agree with the CLI to the metre.",
    ),
    Package(
        "kdbush", "4.1.0",
        "sha512-e9vurzrXJQrFX6ckpHP3bvj5l+9CnYzkxDNnNQ1h2QTqdWsUAJgXiKdGNcOa1EY85dU8KbQ+z/FdQdB7P+9yfQ==",
        "supercluster", "ISC",
        {},
        {"LICENSE": "LICENSE-kdbush"},
        "Only the licence: kdbush's code is inside supercluster.min.js (supercluster depends on kdbush ^4.1.0).",
    ),
)

# --------------------------------------------------------------------------- building


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _npm_pack(pkg: Package, workdir: Path) -> Path:
    spec = f"{pkg.name}@{pkg.version}"
    out = subprocess.run(["npm", "pack", spec, "--json", "--pack-destination", str(workdir)],
                         check=True, capture_output=True, text=True, cwd=workdir).stdout
    info = json.loads(out)[0]
    if info.get("integrity") != pkg.integrity:
        raise SystemExit(f"{spec}: npm reports integrity {info.get('integrity')}, pinned {pkg.integrity}")
    tarball = workdir / info["filename"]
    algo, _, expected = pkg.integrity.partition("-")
    actual = base64.b64encode(hashlib.new(algo, tarball.read_bytes()).digest()).decode()
    if actual != expected:
        raise SystemExit(f"{spec}: tarball {algo} {actual} does not match the pinned integrity")
    return tarball


def _read_member(tar: tarfile.TarFile, path: str, spec: str) -> bytes:
    try:
        member = tar.getmember("package/" + path)
    except KeyError:
        raise SystemExit(f"{spec}: the tarball has no {path}") from None
    fh = tar.extractfile(member)
    if fh is None:
        raise SystemExit(f"{spec}: {path} is not a regular file")
    return fh.read()


def build(dest: Path) -> dict:
    """Write every vendored file under ``dest``; return the manifest (also written as MANIFEST.json)."""
    dest.mkdir(parents=True, exist_ok=True)
    for child in sorted(dest.iterdir()):
        if child.name in KEEP:
            continue
        shutil.rmtree(child) if child.is_dir() else child.unlink()

    manifest: dict = {
        "about": "Front-end files served by Streamlit at /app/static/vendor/. Written by build_vendor.py; "
                 "do not edit by hand.",
        "packages": [],
    }
    with tempfile.TemporaryDirectory(prefix="reachmap-vendor-") as tmp:
        workdir = Path(tmp)
        for pkg in PACKAGES:
            spec = f"{pkg.name}@{pkg.version}"
            print(f"npm pack {spec}", file=sys.stderr)
            tarball = _npm_pack(pkg, workdir)
            files, licences = [], []
            with tarfile.open(tarball, "r:gz") as tar:
                for src, target in sorted(pkg.files.items()):
                    out_name, transform = (target, None) if isinstance(target, str) else target
                    data = _read_member(tar, src, spec)
                    upstream = _sha256(data)
                    if transform:
                        data = TRANSFORMS[transform](data)
                    files.append(_write(dest, pkg.folder, out_name, data, src, transform, upstream))
                for src, out_name in sorted(pkg.license_files.items()):
                    licences.append(_write(dest, pkg.folder, out_name, _read_member(tar, src, spec), src,
                                           None, None))
            if pkg.name == "leaflet-draw":
                licences.append(_write(dest, pkg.folder, "MIT-LICENSE.md", LEAFLET_DRAW_LICENSE.encode(),
                                       "github.com/Leaflet/Leaflet.draw MIT-LICENSE.md", "from-repository", None))
            manifest["packages"].append({
                "package": pkg.name, "version": pkg.version, "source": f"npm:{spec}",
                "integrity": pkg.integrity, "license": pkg.license, "folder": pkg.folder, "note": pkg.note,
                "files": files, "license_files": licences,
            })

    rotate = folium_rotate_css()
    manifest["packages"].append({
        "package": "folium", "version": "0.20.0", "source": "generated (folium 0.20.0 sdist, "
        "folium/templates/leaflet.awesome.rotate.css)", "integrity": f"sha256-{FOLIUM_ROTATE_SHA256}",
        "license": "MIT", "folder": "folium",
        "note": "fa-rotate-N classes for folium's Icon(angle=N); byte-identical to folium's file.",
        "files": [_write(dest, "folium", "leaflet.awesome.rotate.css", rotate,
                         "folium/templates/leaflet.awesome.rotate.css", "generated", FOLIUM_ROTATE_SHA256)],
        "license_files": [_write(dest, "folium", "LICENSE.txt", FOLIUM_LICENSE.encode(), "LICENSE.txt",
                                 "from-sdist", None)],
    })
    manifest["total_bytes"] = sum(f["bytes"] for p in manifest["packages"]
                                  for f in p["files"] + p["license_files"])
    (dest / "MANIFEST.json").write_text(json.dumps(manifest, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    return manifest


def _write(dest: Path, folder: str, name: str, data: bytes, src: str, transform: str | None,
           upstream: str | None) -> dict:
    rel = f"{folder}/{name}"
    path = dest / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    entry = {"path": rel, "from": src, "bytes": len(data), "sha256": _sha256(data)}
    if transform:
        entry["transform"] = transform
        if upstream and upstream != entry["sha256"]:
            entry["upstream_sha256"] = upstream
    return entry


def _tree(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): _sha256(p.read_bytes())
            for p in sorted(root.rglob("*")) if p.is_file() and p.name not in KEEP}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="rebuild into a temporary folder and report differences; change nothing")
    args = parser.parse_args(argv)
    if not args.check:
        manifest = build(VENDOR_DIR)
        print(f"static/vendor: {len(manifest['packages'])} packages, {manifest['total_bytes']:,} bytes")
        return 0
    with tempfile.TemporaryDirectory(prefix="reachmap-vendor-check-") as tmp:
        build(Path(tmp))
        fresh, current = _tree(Path(tmp)), _tree(VENDOR_DIR)
    diff = sorted(k for k in fresh.keys() | current.keys() if fresh.get(k) != current.get(k))
    for name in diff:
        print(f"differs: {name}")
    print("static/vendor is up to date" if not diff else f"{len(diff)} file(s) differ")
    return 1 if diff else 0


if __name__ == "__main__":
    sys.exit(main())
