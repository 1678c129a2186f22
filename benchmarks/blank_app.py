"""The baseline of benchmarks/map_page.py: a Streamlit page with one line of text and nothing of Reachmap."""

import streamlit as st

st.write("Reachmap baseline: an empty Streamlit page")
