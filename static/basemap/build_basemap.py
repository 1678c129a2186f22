"""Write static/basemap/basemap.json: the countries (generalised for drawing) and capitals the app serves.

The app's maps fetch this one file instead of carrying ~2 MB of outlines in every map they send. It is
derived from geodata/countries.geojson and the gazetteer's capitals; tests/test_mapview.py fails when it is
out of date. Re-run after changing either:

    python static/basemap/build_basemap.py
"""

from __future__ import annotations

import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent / "basemap.json"


def main() -> int:
    sys.path.insert(0, str(OUT.parent.parent.parent))
    from dashboard.ingest import open_gazetteer
    from dashboard.mapview import basemap_json
    from dashboard.scene import load_basemap

    OUT.write_text(basemap_json(load_basemap(open_gazetteer())), encoding="utf-8")
    print(f"wrote {OUT} ({OUT.stat().st_size:,} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
