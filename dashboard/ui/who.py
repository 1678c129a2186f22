"""Who is using the app: the login the proxy in front of it names, else the `user` setting, else the OS login."""

from __future__ import annotations

import streamlit as st

from dashboard import settings


def proxy_login() -> str | None:
    """The login the proxy names in the `user_header` header ('' when the request carries none); None on a
    single-user instance (no user_header set), where nobody is named by the request."""
    header = settings.get("user_header").strip()
    if not header:
        return None
    return (st.context.headers.get(header) or "").strip()


def editor_name() -> str:
    """The name recorded with an edit: the proxy's login, else the `user` setting, else the OS login name
    ('' when none of them names anyone)."""
    return proxy_login() or settings.user()
