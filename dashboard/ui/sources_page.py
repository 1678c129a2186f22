"""The Sources page: the stories and the reports behind every event, with their quotes and links."""

from __future__ import annotations

import streamlit as st

from dashboard.mapview import safe
from dashboard.ui import state as S


def _link(title: str, url: str) -> safe.Markup:
    href = safe.url(url)
    if href is None:
        return safe.text(title)
    return safe.html('<a href="{href}" target="_blank" rel="noopener noreferrer">{title}</a>', href=href, title=title)


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
        body = safe.join(safe.html("<li><b>{title}</b> ({when}, {place})<blockquote>{quote}</blockquote></li>",
                                   title=e.title, when=e.time.label, place=e.place.name, quote=e.source.quote)
                         for e in group.events)
        more = group.count - len(group.events)
        tail = (f"<p>… and {more:,} more events citing this source; the Events page lists them all.</p>"
                if more > 0 else "")
        cited = f" · cited by {group.count:,} event{'s' if group.count != 1 else ''}"
        # st.html, not st.markdown: escaped data must not be read as Markdown (links, images) either.
        st.html(safe.html("<div><b>{publisher}</b>{when}{cited}: {link}<ul>{body}</ul>{tail}</div>",
                          publisher=group.publisher, when=when, cited=cited, link=_link(group.title, group.url),
                          body=body, tail=safe.Markup(tail)))
    st.subheader("Declared ranges")
    for system in S.catalogue().systems:
        for m in system.munitions:
            st.html(safe.html("<div><b>{system}</b> {munition}: {km} km — {link} ({publisher}): “{quote}”</div>",
                              system=system.name, munition=m.name, km=f"{m.range_km:,.0f}",
                              link=_link(m.source.title, m.source.url), publisher=m.source.publisher,
                              quote=m.source.quote))
