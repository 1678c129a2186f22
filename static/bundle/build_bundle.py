"""Write static/bundle/reachmap-map.js, the app map's scripts as one file (dashboard/mapview/assets.py).

    python static/bundle/build_bundle.py

Its parts are the vendored files of static/vendor (see build_vendor.py and MANIFEST.json for their
sources, versions and licences) and this project's static/basemap/reachmap-basemap.js, concatenated
unchanged. Run it after rebuilding static/vendor or editing the basemap script; tests/test_assets.py fails
while the file is stale.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from dashboard.mapview.assets import write_bundle  # noqa: E402

if __name__ == "__main__":
    print(write_bundle())
