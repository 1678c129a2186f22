"""docs/deploy.md: the nginx example it documents is valid nginx and agrees with the app's own limits."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from dashboard import settings

EXAMPLE = settings.PROJECT_DIR / "examples" / "deploy" / "nginx-reachmap.conf"
DEPLOY = settings.PROJECT_DIR / "docs" / "deploy.md"


def test_the_example_upstream_is_sticky_passes_websockets_and_takes_the_largest_upload():
    conf = EXAMPLE.read_text(encoding="utf-8")
    upstream = re.search(r"upstream reachmap \{(.*?)\}", conf, re.S)[1]
    assert re.search(r"^\s*hash \$http_x_forwarded_user consistent;", upstream, re.M)  # one user, one replica
    assert "proxy_set_header Upgrade $http_upgrade;" in conf and "proxy_http_version 1.1;" in conf
    body = int(re.search(r"client_max_body_size (\d+)m;", conf)[1])
    assert body == int(settings.get("import_max_mb"))  # the limit the Import page states
    assert "listen 127.0.0.1:" in conf  # behind the login proxy: never where a client could forge the header
    assert "examples/deploy/nginx-reachmap.conf" in DEPLOY.read_text(encoding="utf-8")


@pytest.mark.skipif(shutil.which("nginx") is None, reason="nginx is not installed (apt-get install nginx-light)")
def test_nginx_accepts_the_example(tmp_path):
    main = tmp_path / "nginx.conf"
    main.write_text(f"pid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\nevents {{}}\n"
                    f"http {{\n  access_log off;\n  include {EXAMPLE};\n}}\n", encoding="utf-8")
    done = subprocess.run(["nginx", "-t", "-c", str(main), "-p", str(tmp_path)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
