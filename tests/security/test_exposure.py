"""What a fresh `streamlit run app.py` exposes: the loopback interface only, with no source watcher."""

from __future__ import annotations

import tomllib

from dashboard.settings import PROJECT_DIR


def test_the_server_listens_on_loopback_only_by_default():
    config = tomllib.loads((PROJECT_DIR / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["address"] == "127.0.0.1"
    assert config["browser"]["gatherUsageStats"] is False  # nothing phones home either
