"""Article: paste a news text; Reachmap proposes places, dates, systems and events; the analyst confirms."""

from __future__ import annotations

import hashlib
from datetime import date
import streamlit as st

from dashboard.errors import DashboardError
from dashboard.geoparse import Geoparser, PlaceMention
from dashboard.geoparse.origins import launch_origin
from dashboard.geoparse.regions import place_label, region_name
from dashboard.ingest import open_store
from dashboard.mapview import safe
from dashboard.model import Event, Place, Source, TimeSpan
from dashboard.share import RingSpec
from dashboard.ui import state as S
from dashboard.ui.who import editor_name

PARSED = "_article_parsed"  # (text, published, Geoparse) of the last analysis


@st.cache_resource
def _parser() -> Geoparser:
    return Geoparser(S.gazetteer(), S.catalogue())


def render() -> None:
    st.title("From an article to the map")
    with st.form("article"):
        text = st.text_area("Article text", height=220, key="article_text",
                            placeholder="Paste the article here. Nothing leaves this machine.")
        c1, c2, c3, c4 = st.columns([2, 3, 3, 2])
        published = c1.date_input("Published", value=date(2022, 6, 25), min_value=date(1900, 1, 1),
                                  max_value=date(2100, 12, 31), key="article_date")
        title = c2.text_input("Title", key="article_title")
        url = c3.text_input("URL", key="article_url")
        publisher = c4.text_input("Publisher", key="article_publisher")
        if st.form_submit_button("Find places, dates and events", type="primary"):
            try:
                st.session_state[PARSED] = (text, published, _parser().parse(text, published))
            except DashboardError as exc:
                st.error(S.md(str(exc)))
                return
    if PARSED not in st.session_state:
        return
    text, published, result = st.session_state[PARSED]
    st.subheader("Places in the text")
    st.html(_highlighted(text, result.places))
    choices = _corrections(result.places)
    _rings(result)
    _events(result, choices, published, title, url, publisher)


LOW_CONFIDENCE = 0.7  # a resolution below this is shown as doubtful, with its alternatives open


def _highlighted(text: str, places: tuple[PlaceMention, ...]) -> str:
    """The text, escaped, with each place mention marked and titled with what it resolved to."""
    out, at = [], 0
    for m in sorted(places, key=lambda m: m.start):
        if m.start < at:
            continue
        out.append(safe.text(text[at:m.start]))
        style = ' style="background:#ffd7a8;outline:1px dashed #c05a00"' if m.confidence < LOW_CONFIDENCE else ""
        out.append(safe.html('<mark title="{tip}"{style}>{mention}</mark>', mention=text[m.start:m.end],
                             style=safe.Markup(style),
                             tip=f"{m.name} ({m.kind}, {m.iso2 or '–'}) {m.confidence:.2f}"))
        at = m.end
    out.append(safe.text(text[at:]))
    return safe.html('<div style="white-space:pre-wrap;line-height:1.6">{body}</div>', body=safe.join(out))


def _corrections(places: tuple[PlaceMention, ...]) -> dict[int, str]:
    """A dropdown per mention (the choice first, then the runners-up); returns start offset → chosen key."""
    choices: dict[int, str] = {}
    low = [m for m in places if m.confidence < LOW_CONFIDENCE and m.alternatives]
    if low:
        st.warning(S.md(f"{len(low)} place{'s' if len(low) > 1 else ''} resolved with low confidence; check "
                        f"{'them' if len(low) > 1 else 'it'} below: " + "; ".join(
                            f"“{m.mention}” → {m.name} ({m.iso2 or '–'}, {m.confidence:.2f})" for m in low)),
                   icon=":material/help:")
        for m in low:
            if m.note:
                st.caption(S.md(f"“{m.mention}”: {m.note}."))
    with st.expander(f"Check the {len(places)} place mentions", expanded=bool(low)):
        for m in places:
            options = [m.key] + [c.key for c in m.alternatives if c.key != m.key]
            labels = {m.key: f"{m.name} ({m.kind}, {m.iso2 or '–'}, {m.lat:.3f}, {m.lon:.3f})"}
            labels |= {c.key: f"{c.name} ({c.kind}, {region_name(c.country, c.admin1) or 'region –'}, "
                              f"{c.country or '–'}, pop {c.population or 0:,})" for c in m.alternatives}
            choices[m.start] = st.selectbox(S.md(f"“{m.mention}” at {m.start}"), options, format_func=labels.get,
                                            key=f"mention_{m.start}")
    return choices


def _place(mention: PlaceMention, key: str) -> Place:
    if key != mention.key:
        return S.gazetteer().place_for(next(c for c in mention.alternatives if c.key == key))
    return _parser().place_for(mention)


def _rings(result) -> None:
    """A ring per system with a range, from where the text puts it; when the text does not say, it says so."""
    suggested = [s for s in result.systems if s.range_km]
    if not suggested:
        return
    st.subheader("Suggested rings")
    text = st.session_state[PARSED][0]
    for s in suggested:
        origin = launch_origin(text, s, result.places)
        what = f"{s.text}: {s.range_km:,.0f} km (“{s.range_text}”)"
        if origin is None:
            st.caption(S.md(f"{what}. The text does not say where the {s.text} launchers are: add the ring "
                            "from the Range rings panel with the origin you know."))
            continue
        spec_origin, reach = _origin_text(origin), origin.kind not in ("city", "village", "point")
        spec = (RingSpec(spec_origin, system=s.system_id, reach=reach) if s.system_id
                else RingSpec(spec_origin, km=s.range_km, reach=reach))
        label = f"{what} {'reach from' if reach else 'from'} {origin.name}, where the text puts it"
        if st.button(S.md(f"Add ring — {label}"), key=f"ring_{s.start}"):
            S.add_ring(spec)
            st.success("Added to the map's rings.")


def _origin_text(mention: PlaceMention) -> str:
    """How a ring's origin names this mention: a country's code, a border's pair, a place's name when the
    gazetteer gives back the same place for it, else its point (a namesake must not move the ring)."""
    if mention.key.startswith("country:"):
        return mention.key.removeprefix("country:")
    if mention.key.startswith("border:"):
        return mention.key.removeprefix("border:")
    try:
        if S.gazetteer().resolve(mention.name).key == mention.key:
            return mention.name
    except DashboardError:
        pass
    return f"{mention.lat:.5f},{mention.lon:.5f}"


def _events(result, choices: dict[int, str], published: date, title: str, url: str, publisher: str) -> None:
    st.subheader("Candidate events")
    if not result.events:
        st.caption("No sentence here reads like an event with a place.")
        return
    accepted: list[Event] = []
    if url.strip() and safe.http_url(url.strip()) is None:
        st.warning(S.md(f"The URL {url.strip()[:80]!r} is not an http(s) link, so the events would have no "
                        "working source link; correct it above or leave it empty."))
        url = ""
    for i, ev in enumerate(result.events):
        with st.container(border=True):
            keep = st.checkbox(S.md(f"{ev.title}"), value=True, key=f"keep_{i}")
            st.caption(S.md(f"“{ev.sentence}”"))
            new_title = st.text_input("Title", value=ev.title, key=f"title_{i}")
            if not ev.places:
                continue
            first = ev.places[0]
            try:
                place = _place(first, choices.get(first.start, first.key))
            except DashboardError as exc:
                st.warning(S.md(f"Left out: {exc}"))
                continue
            when = ev.time or TimeSpan.day(published, "publication date")
            # What will be stored, before it is: the date, the place (where, in words) and the type.
            dated = f"{when.label}" + (" (the publication date: the sentence gives none)" if ev.time is None
                                       or when.note.startswith("No date") else "")
            st.markdown(S.md(f"**When** {dated} · **Where** {place_label(place)} · **Type** {ev.event_type}"))
            if keep:
                accepted.append(Event(
                    id="article:" + hashlib.sha256(f"{url}|{title}|{ev.sentence}".encode()).hexdigest()[:16],
                    title=new_title.strip() or ev.title, event_type=ev.event_type, time=when, place=place,
                    source=Source(title.strip() or "Pasted article", publisher.strip() or "unknown publisher",
                                  url.strip(), published, ev.sentence),
                    description=ev.sentence, actors=()))
    if st.button(f"Save {len(accepted)} accepted events", type="primary", disabled=not accepted):
        try:
            with open_store(gazetteer=S.gazetteer()) as store:
                summary = store.put_events(accepted, origin=f"article:{url.strip() or title.strip() or 'pasted'}",
                                           user=editor_name())
        except DashboardError as exc:
            st.error(S.md(str(exc)))
            return
        st.success(f"Stored: {summary}. They are on the map now, with this article as their source.")
