"""Import: upload ACLED, CSV, Excel, GeoJSON or KML; preview the rows as they will be stored; import them.

ACLED's deletions file (format acled-deletions) deletes the events it lists instead, each recorded and restorable."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from dashboard import settings
from dashboard.errors import DashboardError
from dashboard.ingest import open_store
from dashboard.ingest.importer import FORMATS, import_file, preview_file
from dashboard.ui import state as S
from dashboard.ui.who import editor_name

PREVIEW_ROWS = 20


def _deployments(path: Path) -> None:
    """Systems at origins over days (ingest.deployments): checked, shown, saved for the rings panel."""
    from dashboard.ingest.deployments import read_deployments, save_deployments

    try:
        found = read_deployments(path, S.catalogue())
    except DashboardError as exc:
        st.error(S.md(str(exc)))
        return
    st.dataframe(pd.DataFrame([{"system": d.system, "origin": d.origin, "reach": d.reach, "holds": d.valid.label,
                                "source": d.valid.source.publisher, "quote": d.valid.source.quote}
                               for d in found]), hide_index=True, width="stretch")
    if st.button("Save deployments", type="primary"):
        try:
            saved = save_deployments(found, settings.deployments_dir(), path.stem)
        except OSError as exc:
            st.error(S.md(f"Cannot save the deployments to {settings.deployments_dir()}: {exc.strerror or exc}."))
            return
        st.success(S.md(f"{len(found)} deployment(s) saved ({saved.name}); the Map page's rings panel offers them."))


def _sites(path: Path) -> None:
    """A table of sites (ingest.sites): checked, shown, saved under a name for the rings panel and links."""
    from dashboard.ingest.sites import read_sites, save_sites, table_name

    try:
        name = table_name(st.text_input("Table name", value=table_name(path.stem), key="sites_name",
                                        help="the link names it: sites=NAME; a table of the same name is replaced"))
        found = read_sites(path, S.gazetteer(), S.catalogue())
    except DashboardError as exc:
        st.error(S.md(str(exc)))
        return
    st.dataframe(pd.DataFrame([{"name": s.name, "system": s.system, "radius_km": s.km, "min_km": s.min_km,
                                "lat": s.lat, "lon": s.lon, "located": s.located,
                                "holds": s.valid.label if s.valid else "", "source": s.source.publisher,
                                "quote": s.source.quote} for s in found]), hide_index=True, width="stretch")
    if st.button("Save sites", type="primary"):
        try:
            saved = save_sites(found, settings.sites_dir(), name)
        except OSError as exc:
            st.error(S.md(f"Cannot save the sites to {settings.sites_dir()}: {exc.strerror or exc}."))
            return
        st.success(S.md(f"{len(found)} site(s) saved as the table {name} ({saved.name}); the Map page's rings "
                        f"panel offers it, and the link sites={name} shows it."))


def _deletions(path: Path, name: str) -> None:
    """ACLED's table of deleted events (ingest.acled_deletions): checked, counted, deleted on request."""
    from dashboard.ingest.acled_deletions import import_deletions, read_deletions

    try:
        found = read_deletions(path, name)
    except DashboardError as exc:
        st.error(S.md(str(exc)))
        return
    st.subheader(S.md(f"ACLED deletions: {found.rows:,} rows naming {len(found.ids):,} events"))
    st.caption("Those the store holds are deleted; those it does not are counted and left. Each deletion is "
               "recorded in the event's history with this file's name and can be undone there.")
    if st.button("Delete these events", type="primary"):
        try:
            with open_store(gazetteer=S.gazetteer()) as store:
                report = import_deletions(path, store, user=editor_name(), source_name=name)
        except DashboardError as exc:
            st.error(S.md(str(exc)))
            return
        st.success(S.md(str(report)))


def render() -> None:
    st.title("Import events")
    st.caption("ACLED exports (any vintage), CSV or Excel with coordinates or place names, GeoJSON and KML. "
               "Nothing is stored until you press Import; by default a file with any bad row stores nothing.")
    try:
        limit_mb = upload_limit_mb()
    except DashboardError as exc:
        st.error(S.md(str(exc)))
        return
    upload = st.file_uploader("File", type=["csv", "txt", "xlsx", "geojson", "json", "kml", "kmz"],
                              max_upload_size=limit_mb)
    _gazetteer_section(limit_mb)
    if upload is None:
        return
    fmt = st.selectbox("Format", ("auto", *FORMATS, "acled-deletions", "deployments", "sites"),
                       help="auto recognises ACLED by its columns; acled-deletions: ACLED's table of deleted "
                            "events (event_id_cnty, deleted_timestamp), which deletes them here too (recorded, "
                            "restorable); deployments: a CSV or JSON of systems at "
                            "origins over days (dated rings), not events; sites: a CSV, Excel or GeoJSON table "
                            "of sites, one ring each")
    with tempfile.TemporaryDirectory(prefix="reachmap-import-") as tmp:
        path = Path(tmp) / Path(upload.name).name
        path.write_bytes(upload.getbuffer())
        if fmt == "deployments":
            _deployments(path)
            return
        if fmt == "sites":
            _sites(path)
            return
        if fmt == "acled-deletions":
            _deletions(path, upload.name)
            return
        try:
            choices = _review(path, fmt, upload.name)
        except DashboardError as exc:
            st.error(S.md(str(exc)))
            return
        skip_bad = st.checkbox("Store the good rows and leave out the rejected ones", key="skip_bad")
        if st.button("Import", type="primary"):
            bar = st.progress(0.0, text="Starting…")
            try:
                with open_store(gazetteer=S.gazetteer()) as store:
                    report = import_file(path, store, S.gazetteer(), format=fmt, skip_bad=skip_bad,
                                         progress=lambda f, m: bar.progress(min(max(f, 0.0), 1.0), text=m),
                                         place_choices=choices, source_name=upload.name, user=editor_name())
            except DashboardError as exc:
                st.error(S.md(str(exc)))
                return
            (st.success if report.stored else st.error)(S.md(str(report)))
            if not report.stored and report.rejected:
                st.caption("Nothing was stored. Fix the rows below, or tick the box to store the good ones.")
            _rejections(report.rejected)


def _gazetteer_section(limit_mb: float) -> None:
    """Villages cities500 lacks: add a GeoNames dump (geonames.org's XX.zip), as `gazetteer add` does."""
    from dashboard import gazetteer

    added = gazetteer.list_additions()
    with st.expander("Add places to the gazetteer from a GeoNames dump"
                     + (f" ({len(added)} added)" if added else "")):
        st.caption("The gazetteer holds GeoNames' places of 500 people or more. A country's full dump from "
                   "geonames.org (e.g. UA.zip, downloaded where you have the network) adds every village and "
                   "hamlet: they then resolve in articles, in imports by place name and in the place boxes, "
                   "and the map labels them. "
                   "The place index is rebuilt (about 15 s).")
        for name, count in added:
            st.caption(S.md(f"{name}: {count:,} populated places"))
        dump = st.file_uploader("GeoNames dump", type=["zip", "txt"], key="geonames_dump", max_upload_size=limit_mb)
        if dump is not None and st.button("Add these places", key="add_geonames"):
            with tempfile.TemporaryDirectory(prefix="reachmap-geonames-") as tmp:
                path = Path(tmp) / Path(dump.name).name
                path.write_bytes(dump.getbuffer())
                try:
                    with st.spinner("Adding the places and rebuilding the place index…"):
                        report = gazetteer.add_geonames(path)
                except DashboardError as exc:
                    st.error(S.md(str(exc)))
                    return
            S.gazetteer.clear()  # the cached handle still reads the index as it was
            S.basemap.clear()  # and the map labels the places added
            st.success(S.md(report.words))


def upload_limit_mb() -> int:
    """The uploader's stated limit: import_max_mb, never above the server's own (server.maxUploadSize)."""
    # One number for the user: Streamlit drops a bigger upload before the app sees it, and `import` refuses a
    # file over import_max_mb, so the uploader says whichever comes first (both are 512 by default).
    return max(1, min(math.ceil(settings.import_max_mb()), int(st.get_option("server.maxUploadSize"))))


def _review(path: Path, fmt: str, name: str) -> dict[str, str]:
    """Show the preview, the problems and the place names to confirm; return the user's place choices."""
    preview = preview_file(path, S.gazetteer(), format=fmt, limit=PREVIEW_ROWS, source_name=name)
    st.subheader(S.md(f"{preview.format.upper()}: {preview.rows:,} rows"))
    for warning in preview.warnings:
        st.warning(S.md(warning))
    if preview.date_order:
        st.caption(f"Dates read as: {preview.date_order}")
    choices: dict[str, str] = {}
    if preview.matches:
        st.markdown("**Place names** — check each match; pick another where it is wrong.")
        for match in preview.matches:
            options = [c.key for c in match.candidates]
            labels = {c.key: f"{c.name} ({c.country}, admin1 {c.admin1 or '–'}, pop {c.population or 0:,}, "
                             f"{c.lat:.3f}, {c.lon:.3f})" for c in match.candidates}
            if not options:
                st.caption(S.md(f"“{match.name}”: no place of that name in the gazetteer ({match.rows} rows)."))
                continue
            picked = st.selectbox(S.md(f"“{match.key}” — {match.rows} rows, confidence {match.confidence:.2f}"),
                                  options, format_func=labels.get, key=f"place_{match.key}")
            if match.chosen is None or picked != match.chosen.key:
                choices[match.key] = picked
        if choices:
            preview = preview_file(path, S.gazetteer(), format=fmt, limit=PREVIEW_ROWS, place_choices=choices,
                                   source_name=name)
    st.markdown(f"**The first {len(preview.events)} rows as they will be stored**")
    st.dataframe(pd.DataFrame([{
        "id": e.id, "date": e.time.label, "title": e.title, "type": e.event_type, "place": e.place.name,
        "lat": round(e.place.lonlat[1], 5), "lon": round(e.place.lonlat[0], 5), "actors": "; ".join(e.actors),
        "source": e.source.publisher, "quote": e.source.quote,
    } for e in preview.events]), hide_index=True, width="stretch")
    _rejections(preview.rejected)
    return choices


def _rejections(rejected) -> None:
    if not rejected:
        return
    st.markdown(f"**{len(rejected):,} problems**")
    st.dataframe(pd.DataFrame([{"line": r.line, "field": r.field, "value": r.value, "reason": r.reason}
                               for r in rejected[:1000]]), hide_index=True, width="stretch")
