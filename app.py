"""Reachmap: page config and navigation; every page lives in dashboard/ui."""

import streamlit as st

from dashboard.ui.pages import pages

st.set_page_config(page_title="Reachmap", page_icon=":material/map:", layout="wide")
st.navigation(list(pages().values())).run()
