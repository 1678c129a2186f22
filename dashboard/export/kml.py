"""KML 2.2 for Google Earth: a folder of range rings and a folder of events with their sources.

Two things any KML reader must be able to rely on, whatever the data holds:

- It is well-formed XML 1.0. Characters XML cannot hold (C0 controls other than tab, LF and CR, U+FFFE,
  U+FFFF, lone surrogates) are left out of every text and attribute; a CR is written as `&#13;`, since a
  parser would otherwise read it back as LF.
- It loads nothing from anywhere. `.kml` styles events by colour alone (no `<Icon>`: the reader shows its
  own built-in placemark, tinted); `.kmz` ships the white circle the map uses inside the archive.
"""

from __future__ import annotations

import io
import itertools
import json
import re
import struct
import zipfile
import zlib
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, TextIO

from shapely.geometry import Polygon

import pyarrow as pa
import pyarrow.compute as pc

from dashboard.colours import BEARING_COLOUR, LAUNCH_COLOURS, RING_COLOURS, ring_colours, type_colour  # the map's
from dashboard.export import columns as arrow
from dashboard.export.records import (DECIMALS, EVENT_FIELDS, _polygons, actor_lists, column_batches,
                                      launch_record, lonlat_texts, record_batches, ring_record)
from dashboard.export.records import bearing_record, layer_row_record
from dashboard.export.words import date_span, launch_lines, not_drawn, summary
from dashboard.geodesy import split_antimeridian
from dashboard.share import to_query
from dashboard.table import type_counts

if TYPE_CHECKING:
    from dashboard.rings import Ring
    from dashboard.scene import Scene

KML_NS = "http://www.opengis.net/kml/2.2"
KMZ_ICON = "files/event.png"  # inside the KMZ, next to doc.kml; tinted per event type by IconStyle colour
# What XML 1.0 (§2.2 Char) cannot hold, surrogates included (a str may carry lone ones).
_NOT_XML = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_NOT_XML_BUT_NUL = re.compile("[^\x00\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_ZIP_TIME = (2022, 6, 25, 0, 0, 0)  # a fixed date in the archive, so the same view gives the same bytes


def xml_text(value: object) -> str:
    r"""`value` as text XML 1.0 can hold: the characters it cannot are left out.

    >>> xml_text("bell\x07 esc\x1b[31m nul\x00 \ufffe tab\tcr\r ok\u00e9")
    'bell esc[31m nul  tab\tcr\r oké'
    """
    text = str(value)
    return _NOT_XML.sub("", text) if _NOT_XML.search(text) else text


def kml_colour(hex_rgb: str, alpha: int = 255) -> str:
    """'#d62728' → 'ff2827d6': KML writes colours alpha, blue, green, red.

    >>> kml_colour("#d62728", 0x40)
    '402827d6'
    """
    rgb = hex_rgb.lstrip("#").lower()
    return f"{alpha:02x}{rgb[4:6]}{rgb[2:4]}{rgb[0:2]}"


def _sub(parent: ET.Element, tag: str, text: object = None, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, f"{{{KML_NS}}}{tag}", {k: xml_text(v) for k, v in attrs.items()})
    if text is not None:
        el.text = xml_text(text)
    return el


def _extended_data(parent: ET.Element, record: dict) -> None:
    data = _sub(parent, "ExtendedData")
    for name, value in record.items():
        if isinstance(value, dict):  # attributes: one JSON value, as in the CSV (not Python's repr)
            value = json.dumps(value, ensure_ascii=False) if value else ""
        text = "" if value is None else "; ".join(value) if isinstance(value, list) else value
        _sub(_sub(data, "Data", name=name), "value", text)


def _kml_polygon(parent: ET.Element, poly: Polygon) -> None:
    el = _sub(parent, "Polygon")
    _sub(el, "tessellate", 1)
    for tag, ring in [("outerBoundaryIs", poly.exterior)] + [("innerBoundaryIs", r) for r in poly.interiors]:
        coords = " ".join(f"{x:.{DECIMALS}f},{y:.{DECIMALS}f},0" for x, y in ring.coords)
        _sub(_sub(_sub(el, tag), "LinearRing"), "coordinates", coords)


def _bearings_folder(doc: ET.Element, scene: Scene) -> None:
    """A folder of the lines of bearing: one LineString each (a MultiGeometry where it crosses 180°)."""
    if not scene.bearings:
        return
    folder = _sub(doc, "Folder")
    _sub(folder, "name", "Lines of bearing")
    for line in scene.bearings:
        mark = _sub(folder, "Placemark")
        _sub(mark, "name", line.label)
        end_lon, end_lat = line.end
        _sub(mark, "description", _balloon([
            line.label, f"Origin: {line.origin.name} ({line.origin.kind})",
            f"Initial bearing: {line.bearing:g}° from true north", f"Length: {line.km:,g} km (geodesic, WGS84)",
            f"Ends at {end_lat:.5f}, {end_lon:.5f}"]))
        _sub(mark, "styleUrl", "#bearing")
        _extended_data(mark, bearing_record(line))
        parts = split_antimeridian(line.path)
        holder = _sub(mark, "MultiGeometry") if len(parts) > 1 else mark
        for part in parts:
            el = _sub(holder, "LineString")
            _sub(el, "tessellate", 1)
            _sub(el, "coordinates", " ".join(f"{x:.{DECIMALS}f},{y:.{DECIMALS}f},0" for x, y in part))


def _balloon(lines: Iterable[str | None]) -> str:
    # Google Earth reads a description as HTML. Without "<" no tag can start, so data shows as typed there;
    # "&" stays as it is, so URLs read right in Earth and in readers that show plain text (QGIS).
    return "\n".join(line.replace("<", "&lt;").replace(">", "&gt;") for line in lines if line)


_EVENTS_HERE = "reachmap-events"  # where the streamed placemarks go in the serialised document


def to_kml(scene: Scene, title: str | None = None) -> str:
    """KML 2.2 for Google Earth: a folder of range rings and a folder of events with their sources.

    Event styles are colours only; no icon is fetched from anywhere (see the module docstring).
    """
    out = io.StringIO()
    write_kml(scene, out, title)
    return out.getvalue()


def write_kml(scene: Scene, out: TextIO, title: str | None = None, icon: str | None = None) -> None:
    """The KML of `to_kml` (with `icon`: of the KMZ's doc.kml), written to `out` a batch of events at a time."""
    _document(scene, title, icon, out)


def to_kmz(scene: Scene, title: str | None = None) -> bytes:
    """The KML in a KMZ archive (doc.kml first, as Google Earth expects) with the event icon inside it."""
    doc = io.StringIO()
    write_kml(scene, doc, title, icon=KMZ_ICON)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in (("doc.kml", doc.getvalue().encode("utf-8")), (KMZ_ICON, circle_png())):
            archive.writestr(zipfile.ZipInfo(name, _ZIP_TIME), data, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def circle_png(size: int = 32) -> bytes:
    """A white disc with a grey rim on transparent ground, as an RGBA PNG (KML tints it per type)."""
    centre, outer, rim = (size - 1) / 2, size / 2 - 1, size / 2 - 3.5
    rows = []
    for y in range(size):
        row = bytearray([0])  # filter: none
        for x in range(size):
            r = ((x - centre) ** 2 + (y - centre) ** 2) ** 0.5
            alpha = max(0.0, min(1.0, outer - r + 0.5))  # one pixel of anti-aliasing at the edge
            grey = 255 if r <= rim else 110
            row += bytes((grey, grey, grey, round(alpha * 255)))
        rows.append(bytes(row))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
            + chunk(b"IEND", b""))


def _event_types(scene: Scene) -> list[str]:
    """The event types of the scene, sorted: from the columnar table's codes when the scene has one."""
    if scene.table is not None and scene.rows is not None:
        return sorted(type_counts(scene.table, scene.rows))
    return sorted({e.event_type for e in scene.events})


def _validity_lines(ring: Ring) -> list[str | None]:
    valid = ring.valid
    if valid is None:
        return []
    src = valid.source
    return [f"Holds: {valid.label}", src and f"Dated by: {src.publisher}, {src.title}",
            src and src.quote and f"“{src.quote}”", valid.note]


def _site_lines(ring: Ring) -> list[str | None]:
    site = ring.site
    if site is None:
        return []
    src = site.source
    return [f"Site: {site.name} (table {ring.layer}; {site.located})",
            ring.min_km and f"Minimum range: {ring.min_km:g} km (nothing closer is in range)",
            f"Placed by: {src.publisher}, {src.title}", f"“{src.quote}”", src.url, site.note]


def _document(scene: Scene, title: str | None, icon: str | None, out: TextIO) -> None:
    ET.register_namespace("", KML_NS)
    root = ET.Element(f"{{{KML_NS}}}kml")
    doc = _sub(root, "Document")
    _sub(doc, "name", title or summary(scene))
    _sub(doc, "description", _balloon([summary(scene), f"Dates: {date_span(scene)}",
                                       f"Query: {to_query(scene.state)}", not_drawn(scene), *launch_lines(scene),
                                       *scene.problems]))
    types = _event_types(scene)
    type_index = {t: i for i, t in enumerate(types)}
    for i, event_type in enumerate(types):
        style = _sub(doc, "Style", id=f"type-{i}")
        style_icon = _sub(style, "IconStyle")
        _sub(style_icon, "color", kml_colour(type_colour(event_type)))
        if icon:
            _sub(_sub(style_icon, "Icon"), "href", icon)
    for i, colour in enumerate(ring_colours(scene.rings)):  # the map's colours, site rings by system
        style = _sub(doc, "Style", id=f"ring-{i}")
        line = _sub(style, "LineStyle")
        _sub(line, "color", kml_colour(colour))
        _sub(line, "width", 2)
        _sub(_sub(style, "PolyStyle"), "color", kml_colour(colour, 0x30))
    if scene.bearings:  # styles come before the folders (KML 2.2: a Document's styles precede its features)
        line_style = _sub(_sub(doc, "Style", id="bearing"), "LineStyle")
        _sub(line_style, "color", kml_colour(BEARING_COLOUR))
        _sub(line_style, "width", 3)

    folder = _sub(doc, "Folder")
    _sub(folder, "name", "Range rings")
    for i, ring in enumerate(scene.rings):
        mark = _sub(folder, "Placemark")
        _sub(mark, "name", ring.label)
        src = ring.source
        _sub(mark, "description", _balloon([
            ring.label, f"Origin: {ring.origin.name} ({ring.origin.kind})", f"Radius: {ring.radius_km:,.0f} km",
            src and f"Range: {src.publisher}, {src.title}", src and src.quote and f"“{src.quote}”",
            src and src.url, *_validity_lines(ring), *_site_lines(ring)]))
        _sub(mark, "styleUrl", f"#ring-{i}")
        _extended_data(mark, ring_record(ring))
        polys = _polygons(ring.geometry)
        holder = _sub(mark, "MultiGeometry") if len(polys) > 1 else mark
        for poly in polys:
            _kml_polygon(holder, poly)

    if scene.site_reach:  # what lies within any site's ring (sites=…), and of which sites
        folder = _sub(doc, "Folder")
        _sub(folder, "name", "In range of the sites")
        for row in scene.site_reach:
            mark = _sub(folder, "Placemark")
            _sub(mark, "name", row.name)
            _sub(mark, "description", _balloon([f"{row.kind}, {row.country}" if row.country else row.kind,
                                                f"In range of: {'; '.join(row.sites)}",
                                                f"Nearest: {row.nearest_site}, {row.nearest_km:,.1f} km"]))
            _extended_data(mark, layer_row_record(row))
            _sub(_sub(mark, "Point"), "coordinates", f"{row.lon:.{DECIMALS}f},{row.lat:.{DECIMALS}f},0")
    _bearings_folder(doc, scene)
    if scene.launches:
        _launch_folder(doc, scene)

    folder = _sub(doc, "Folder")
    _sub(folder, "name", "Events")
    folder.append(ET.Comment(_EVENTS_HERE))
    ET.indent(root)
    head, tail = ET.tostring(root, encoding="unicode", xml_declaration=True).split(f"<!--{_EVENTS_HERE}-->")
    # A parser reads a raw CR in text as LF (XML §2.11); as a reference it comes back as CR. The serialiser
    # writes no CR of its own, so every CR here came from data.
    out.write(head.rstrip(" ").replace("\r", "&#13;"))
    # The events are written a batch at a time from their columns, as ElementTree would write each
    # Placemark (tests/test_export.py holds the two side by side): a tree of 84,000 placemarks took 29 s
    # and 2.8 GB to build and serialise, and an Event per row most of the rest.
    batches = column_batches(scene)
    for batch in batches if batches is not None else ():
        arrow.write_utf8(out, arrow.utf8(_placemark_column(batch, type_index)))
    for batch in record_batches(scene) if batches is None else ():
        out.write(_placemarks(batch, type_index).replace("\r", "&#13;"))
    out.write((tail.lstrip("\n").rstrip("\n") + "\n").replace("\r", "&#13;"))


def _launch_folder(doc: ET.Element, scene: Scene) -> None:
    """Launch areas: a style each in the map's colours, a Placemark each with its figures (an empty one too:
    its balloon says why), and its ExtendedData as in GeoJSON."""
    for i, _area in enumerate(scene.launches):
        colour = LAUNCH_COLOURS[i % len(LAUNCH_COLOURS)]
        style = _sub(doc, "Style", id=f"launch-{i}")
        line = _sub(style, "LineStyle")
        _sub(line, "color", kml_colour(colour))
        _sub(line, "width", 3)
        _sub(_sub(style, "PolyStyle"), "color", kml_colour(colour, 0x60))
    folder = _sub(doc, "Folder")
    _sub(folder, "name", "Launch areas")
    for i, area in enumerate(scene.launches):
        mark = _sub(folder, "Placemark")
        _sub(mark, "name", area.label)
        src = area.source
        _sub(mark, "description", _balloon([
            area.sentence(), area.listing and area.listing.sentence(),
            src and f"Range: {src.publisher}, {src.title}", src and src.quote and f"“{src.quote}”", src and src.url]))
        _sub(mark, "styleUrl", f"#launch-{i}")
        _extended_data(mark, {k: v for k, v in launch_record(area).items() if not isinstance(v, list)})
        polys = _polygons(area.geometry)
        holder = _sub(mark, "MultiGeometry") if len(polys) != 1 else mark
        for poly in polys:
            _kml_polygon(holder, poly)


def _element(tag: str, indent: str, before: str = "", after: str = "") -> tuple[str, str, str]:
    """(start, end, empty) of the serialised element <tag> as ElementTree writes it, inside constant text."""
    return before + f"{indent}<{tag}>", f"</{tag}>\n" + after, before + f"{indent}<{tag} />\n" + after


_NAME = _element("name", " " * 8, "      <Placemark>\n", "        <TimeSpan>\n")
_BEGIN, _END = _element("begin", " " * 10), _element("end", " " * 10, after="        </TimeSpan>\n")
_DESCRIPTION = _element("description", " " * 8)
_DATA = [_element("value", " " * 12, f'          <Data name="{name}">\n', "          </Data>\n")
         for name in EVENT_FIELDS]
_POINT = "        </ExtendedData>\n        <Point>\n          <coordinates>"
_END_POINT = ",0</coordinates>\n        </Point>\n      </Placemark>\n"


def _placemarks(batch: dict[str, list], type_index: dict[str, int]) -> str:
    """The Placemarks of a batch of events (see records.record_batches), each indented as in the document:
    every element of a column is made at once, then the columns are read across, event by event."""
    descriptions = [_balloon(lines) for lines in zip(
        batch["title"], batch["date_label"], _place_lines(batch["place"], batch["country"]), batch["description"],
        [q and f"“{q}”" for q in batch["quote"]],
        [f"Source: {p}, {t}{f' ({d})' if d else ''}" for p, t, d in zip(batch["source_publisher"],
                                                                          batch["source_title"],
                                                                          batch["source_published"])],
        batch["source_url"])]
    styles = {t: f"        <styleUrl>#type-{i}</styleUrl>\n        <ExtendedData>\n" for t, i in type_index.items()}
    columns: list[Iterable[str]] = [
        _xml_elements(batch["title"], *_NAME), _xml_elements(batch["start"], *_BEGIN),
        _xml_elements(batch["end"], *_END), _xml_elements(descriptions, *_DESCRIPTION),
        map(styles.__getitem__, batch["event_type"])]
    for name, element in zip(EVENT_FIELDS, _DATA):
        values = ["; ".join(v) for v in batch[name]] if name == "actors" else batch[name]
        columns.append(_xml_elements(values, *element))
    columns += [itertools.repeat(_POINT), map(repr, batch["lon"]), itertools.repeat(","), map(repr, batch["lat"]),
                itertools.repeat(_END_POINT)]
    return "".join(itertools.chain.from_iterable(zip(*columns)))


# What XML 1.0 cannot hold, for Arrow's regular expressions (RE2); Arrow's text is UTF-8, so no surrogates.
# The bytes of the C0 controls XML cannot hold (NUL included): UTF-8 puts none inside another character.
_NOT_XML_BYTES = bytes(c for c in range(32) if c not in (9, 10, 13))
_NOT_XML_RE2 = "[^\\t\\n\\r\\x{20}-\\x{d7ff}\\x{e000}-\\x{fffd}\\x{10000}-\\x{10ffff}]"


def _xml_column(column) -> pa.Array:
    """_xml_texts of a column, in C: characters XML cannot hold left out, & < > as references; and CR as
    "&#13;", which the document writes for every CR of the data (see _document)."""
    column = arrow.text(column)
    data = arrow.raw(column)
    controls = arrow.has_control(data) and len(data.translate(None, _NOT_XML_BYTES)) != len(data)
    if controls or b"\xef\xbf\xbe" in data or b"\xef\xbf\xbf" in data:
        column = pc.replace_substring_regex(column, _NOT_XML_RE2, "")
    for char, reference in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("\r", "&#13;")):
        if char.encode() in data:  # only a column that holds one is rewritten: a pass costs as much as a copy
            column = pc.replace_substring(column, char, reference)
    return column


def _element_column(column, start: str, end: str, empty: str) -> pa.Array:
    """_xml_elements of a column, in C."""
    return arrow.joined(*_element_parts(column, start, end, empty))


def _element_parts(column, start: str, end: str, empty: str) -> list[arrow.Part]:
    """_element_column as parts of a join: the start tag (`empty` for no text), the escaped text, the end tag."""
    texts = _xml_column(column)
    has_text = pc.greater(pc.binary_length(texts), 0).to_numpy(zero_copy_only=False)
    if has_text.all():  # no empty text: no empty element
        return [start, texts, end]
    return [arrow.Either(has_text, start, empty), texts, arrow.Either(has_text, end, "")]


def _balloon_column(lines: list) -> pa.Array:
    """_balloon of the lines of each row, in C: each non-empty line after a line break, the first one cut."""
    pieces = []
    for line in lines:
        line = arrow.text(line)
        data = arrow.raw(line)
        for char, reference in (("<", "&lt;"), (">", "&gt;")):
            if char.encode() in data:
                line = pc.replace_substring(line, char, reference)
        pieces.append(pc.if_else(pc.equal(line, ""), "", arrow.joined("\n", line)))
    return pc.utf8_slice_codeunits(arrow.joined(*pieces), 1)


def _placemark_column(batch: dict, type_index: dict[str, int]) -> pa.Array:
    """The Placemarks of a batch of Arrow columns (records.column_batches), each the text `_placemarks`
    writes for the event, CRs as references: every element of a column made at once, in C."""
    country = arrow.text(batch["country"])
    place = pc.if_else(pc.equal(country, ""), arrow.text(batch["place"]), arrow.joined(batch["place"], ", ", country))
    quote = arrow.text(batch["quote"])
    published = arrow.text(batch["source_published"])
    source = arrow.joined("Source: ", arrow.text(batch["source_publisher"]), ", ", arrow.text(batch["source_title"]),
                          pc.if_else(pc.equal(published, ""), "", arrow.joined(" (", published, ")")))
    description = _balloon_column([batch["title"], batch["date_label"], place, batch["description"],
                                   pc.if_else(pc.equal(quote, ""), "", arrow.joined("“", quote, "”")), source,
                                   batch["source_url"]])
    styles = {t: f"        <styleUrl>#type-{i}</styleUrl>\n        <ExtendedData>\n" for t, i in type_index.items()}
    parts = [*_element_parts(batch["title"], *_NAME), *_element_parts(batch["start"], *_BEGIN),
             *_element_parts(batch["end"], *_END), *_element_parts(description, *_DESCRIPTION),
             arrow.per_distinct(batch["event_type"], styles.__getitem__)]
    for name, element in zip(EVENT_FIELDS, _DATA):
        values = batch[name]
        if name == "actors":
            values = arrow.per_distinct(values, lambda a: "; ".join(actor_lists(a)))
        parts += _element_parts(values, *element)
    lon, lat = lonlat_texts(batch)
    parts += [_POINT, lon, ",", lat, _END_POINT]
    return arrow.joined(*parts)  # every CR came from data, and each column wrote its own as "&#13;"


def _place_lines(places: list, countries: list) -> list[str]:
    return [f"{p}{', ' + c if c else ''}" for p, c in zip(places, countries)]


_CONTROLS = bytes(c for c in range(1, 32) if c not in (9, 10, 13))  # NUL aside: it joins the values


def _joined(values: list) -> str | None:
    """The values as text XML can hold, escaped, joined by NUL (no XML character, so none comes from the
    data after xml_text); None when a value holds a NUL itself. C string operations on one string, instead
    of one call per value."""
    joined = "\x00".join(["" if v is None else v if type(v) is str else str(v) for v in values])
    if joined.count("\x00") != len(values) - 1:
        return None
    if _has_non_xml(joined):
        joined = _NOT_XML_BUT_NUL.sub("", joined)
    return _escaped(joined)


def _has_non_xml(text: str) -> bool:
    """Whether `_NOT_XML_BUT_NUL` finds anything, an order of magnitude faster than the regular expression."""
    if "\ufffe" in text or "\uffff" in text:
        return True
    try:
        data = text.encode("utf-8")  # UTF-8 puts no byte below 0x80 inside a multi-byte character
    except UnicodeEncodeError:  # a lone surrogate
        return True
    return len(data.translate(None, _CONTROLS)) != len(data)


def _xml_texts(values: list) -> list[str]:
    """Each value as the escaped text of an element: XML 1.0 characters only, & < > as references."""
    if not values:
        return []
    joined = _joined(values)
    if joined is None:  # a value holds a NUL: one by one
        return [_escaped(xml_text("" if v is None else v)) for v in values]
    return joined.split("\x00")


def _xml_elements(values: list, start: str, end: str, empty: str) -> list[str]:
    """Each value as an element (see _element) with its escaped text, `empty` for no text."""
    joined = _joined(values) if values else None
    if joined is None:
        return [start + t + end if t else empty for t in _xml_texts(values)]
    # No data text holds "<": start + end side by side are exactly the empty texts.
    return (start + joined.replace("\x00", end + "\x00" + start) + end).replace(start + end, empty).split("\x00")


def _escaped(text: str) -> str:
    # What ElementTree's serialiser does to text (and nothing to attribute-free leaves beyond it).
    if "&" in text:
        text = text.replace("&", "&amp;")
    if "<" in text:
        text = text.replace("<", "&lt;")
    if ">" in text:
        text = text.replace(">", "&gt;")
    return text
