"""Streamlit pages: the only code that imports streamlit."""
