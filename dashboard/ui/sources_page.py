"""The Sources page: the stories and the reports behind every event, with their quotes and links."""

from __future__ import annotations

from collections import defaultdict
from html import escape

import streamlit as st

from dashboard.ui import state as S


def _link(title: str, url: str) -> str:
    safe_title = escape(title)
    return f'<a href="{escape(url, quote=True)}" target="_blank" rel="noopener noreferrer">{safe_title}</a>' if url else safe_title


def render() -> None:
    st.title("Sources")
    for story in S.stories():
        st.subheader(story.title)
        st.caption(f"Story of {story.date.isoformat()} · {len(story.events)} events · {len(story.sources)} sources")
        st.markdown(S.md(story.summary))
    st.subheader("Reports and quotes")
    by_source = defaultdict(list)
    for event in S.all_events():
        src = event.source
        by_source[(src.publisher, src.title, src.url, src.published)].append(event)
    for (publisher, title, url, published), events in sorted(by_source.items(), key=lambda kv: kv[0][0]):
        when = f" · {published.isoformat()}" if published else ""
        body = "".join(
            f"<li><b>{escape(e.title)}</b> ({escape(e.time.label)}, {escape(e.place.name)})"
            f"<blockquote>{escape(e.source.quote)}</blockquote></li>" for e in events)
        # st.html, not st.markdown: escaped data must not be read as Markdown (links, images) either.
        st.html(f"<div><b>{escape(publisher)}</b>{escape(when)}: {_link(title, url)}<ul>{body}</ul></div>")
    st.subheader("Declared ranges")
    for system in S.catalogue().systems:
        for m in system.munitions:
            st.html(f"<div><b>{escape(system.name)}</b> {escape(m.name)}: {m.range_km:,.0f} km — "
                    f"{_link(m.source.title, m.source.url)} ({escape(m.source.publisher)}): "
                    f"“{escape(m.source.quote)}”</div>")
