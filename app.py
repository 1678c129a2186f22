"""Reachmap: page config and navigation; every page lives in dashboard/ui."""

from pathlib import Path

import streamlit as st

from dashboard import gazetteer

gazetteer.prepare()  # a first start builds the place index in another process while the pages import

from dashboard.ui.pages import pages  # noqa: E402

st.set_page_config(page_title="Reachmap", page_icon=str(Path(__file__).parent / "static" / "reachmap-icon.png"), layout="wide")
st.navigation(list(pages().values())).run()
