"""Reachmap: page config and navigation; every page lives in dashboard/ui."""

import streamlit as st

from dashboard.ui import story_page

st.set_page_config(page_title="Reachmap", page_icon="🗺️", layout="wide")
st.navigation([st.Page(story_page.render, title="Story", url_path="story", default=True)]).run()
