"""The Sources page: the stories and the reports behind every event, with their quotes and links."""

from __future__ import annotations

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
    groups, total = S.source_groups()
    if total > len(groups):
        st.caption(f"The {len(groups):,} most cited of {total:,} sources, each with its first "
                   f"{S.PER_SOURCE} events; the Events page lists every event with its source.")
    for group in groups:
        when = f" · {group.published.isoformat()}" if group.published else ""
        body = "".join(
            f"<li><b>{escape(e.title)}</b> ({escape(e.time.label)}, {escape(e.place.name)})"
            f"<blockquote>{escape(e.source.quote)}</blockquote></li>" for e in group.events)
        more = group.count - len(group.events)
        tail = (f"<p>… and {more:,} more events citing this source; the Events page lists them all.</p>"
                if more > 0 else "")
        cited = f" · cited by {group.count:,} event{'s' if group.count != 1 else ''}"
        # st.html, not st.markdown: escaped data must not be read as Markdown (links, images) either.
        st.html(f"<div><b>{escape(group.publisher)}</b>{escape(when)}{cited}: {_link(group.title, group.url)}"
                f"<ul>{body}</ul>{tail}</div>")
    st.subheader("Declared ranges")
    for system in S.catalogue().systems:
        for m in system.munitions:
            st.html(f"<div><b>{escape(system.name)}</b> {escape(m.name)}: {m.range_km:,.0f} km — "
                    f"{_link(m.source.title, m.source.url)} ({escape(m.source.publisher)}): "
                    f"“{escape(m.source.quote)}”</div>")
