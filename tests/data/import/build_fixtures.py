"""Write the import fixtures in this folder; run it again after changing one (the outputs are committed).

    python tests/data/import/build_fixtures.py

Byte-exact variants (BOM, CRLF, quoted line breaks) and the Excel workbooks are easier to make than to type.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent

ACLED_COLUMNS = ("event_id_cnty,event_date,year,time_precision,disorder_type,event_type,sub_event_type,actor1,"
                 "assoc_actor_1,inter1,actor2,assoc_actor_2,inter2,interaction,civilian_targeting,iso,region,country,"
                 "admin1,admin2,admin3,location,latitude,longitude,geo_precision,source,source_scale,notes,"
                 "fatalities,tags,timestamp").split(",")

ACLED_ROWS = [
    dict(event_id_cnty="UKR98765", event_date="2022-06-25", year="2022", time_precision="1",
         disorder_type="Political violence", event_type="Explosions/Remote violence",
         sub_event_type="Air/drone strike", actor1="Military Forces of Russia (2000-)",
         assoc_actor_1="Military Forces of Belarus (1994-)", inter1="8", actor2="Military Forces of Ukraine (2019-)",
         inter2="1", interaction="18", iso="804", region="Europe", country="Ukraine", admin1="Chernihiv",
         admin2="Chernihivskyi", admin3="Desnianska", location="Desna", latitude="50.9274", longitude="30.7668",
         geo_precision="1", source="Ukrainska Pravda; Suspilne", source_scale="National",
         notes="On 25 June 2022, Russian forces launched missiles from Belarusian airspace at the military "
               "training ground near Desna (Chernihiv). Casualties unknown.",
         fatalities="0", timestamp="1656979200"),
    dict(event_id_cnty="UKR98770", event_date="2022-06-22", year="2022", time_precision="2",
         disorder_type="Political violence", event_type="Explosions/Remote violence",
         sub_event_type="Shelling/artillery/missile attack", actor1="Military Forces of Russia (2000-)",
         inter1="8", interaction="80", iso="804", region="Europe", country="Ukraine", admin1="Sumy",
         admin2="Shostkynskyi", location="Shostka", latitude="51.8634", longitude="33.4698", geo_precision="2",
         source="Sumy Regional Military Administration", source_scale="Subnational",
         notes="During the week of 20 June 2022, Russian forces shelled the outskirts of Shostka. No casualties.",
         fatalities="0", tags="", timestamp="1656374400"),
    dict(event_id_cnty="BLR1234", event_date="2022-06-15", year="2022", time_precision="3",
         disorder_type="Strategic developments", event_type="Strategic developments",
         sub_event_type="Headquarters or base established", actor1="Military Forces of Russia (2000-)",
         inter1="8", interaction="80", iso="112", region="Europe", country="Belarus", admin1="Homiel",
         location="Mazyr", latitude="52.0495", longitude="29.2456", geo_precision="1",
         source="Belaruski Hajun", source_scale="New media",
         notes="In June 2022 (month of), Russian forces kept a field base near Mazyr. [size=no report]",
         fatalities="0", timestamp="1656374400"),
    dict(event_id_cnty="UKR98801", event_date="2022-06-26", year="2022", time_precision="1",
         disorder_type="Demonstrations", event_type="Protests", sub_event_type="Peaceful protest",
         actor1="Protesters (Ukraine)", assoc_actor_1="Women (Ukraine); Families (Ukraine)", inter1="6",
         interaction="60", civilian_targeting="", iso="804", region="Europe", country="Ukraine", admin1="Kyiv City",
         location="Kyiv", latitude="50.4547", longitude="30.5238", geo_precision="1", source="Hromadske",
         source_scale="National", notes="On 26 June 2022, relatives of prisoners of war gathered in Kyiv.",
         fatalities="0", tags="crowd size=around 100", timestamp="1656979200"),
]

LEGACY_COLUMNS = ("GWNO,EVENT_ID_CNTY,EVENT_ID_NO_CNTY,EVENT_DATE,YEAR,TIME_PRECISION,EVENT_TYPE,ACTOR1,ALLY_ACTOR_1,"
                  "INTER1,ACTOR2,ALLY_ACTOR_2,INTER2,INTERACTION,COUNTRY,ADMIN1,ADMIN2,ADMIN3,LOCATION,LATITUDE,"
                  "LONGITUDE,GEO_PRECISION,SOURCE,NOTES,FATALITIES").split(",")
LEGACY_ROWS = [
    dict(GWNO="369", EVENT_ID_CNTY="UKR1", EVENT_ID_NO_CNTY="1", EVENT_DATE="01-January-2015", YEAR="2015",
         TIME_PRECISION="1", EVENT_TYPE="Battle-No change of territory", ACTOR1="Military Forces of Ukraine (2014-)",
         INTER1="1", ACTOR2="Novorossiya Rebels", INTER2="2", INTERACTION="12", COUNTRY="Ukraine", ADMIN1="Donetsk",
         ADMIN2="Donetsk", LOCATION="Donetsk Airport", LATITUDE="48.0733", LONGITUDE="37.7397", GEO_PRECISION="1",
         SOURCE="Kyiv Post", NOTES="Fighting continued around the airport.", FATALITIES="3"),
    dict(GWNO="369", EVENT_ID_CNTY="UKR2", EVENT_ID_NO_CNTY="2", EVENT_DATE="15-February-2015", YEAR="2015",
         TIME_PRECISION="2", EVENT_TYPE="Remote violence", ACTOR1="Novorossiya Rebels",
         ALLY_ACTOR_1="Military Forces of Russia (2000-)", INTER1="2", ACTOR2="Civilians (Ukraine)", INTER2="7",
         INTERACTION="27", COUNTRY="Ukraine", ADMIN1="Donetsk", ADMIN2="Artemivsk", LOCATION="Debaltseve",
         LATITUDE="48.3397", LONGITUDE="38.4039", GEO_PRECISION="2", SOURCE="UNIAN",
         NOTES="Shelling of Debaltseve during the week of the ceasefire.", FATALITIES="5"),
]


def write_acled_current() -> None:
    with open(HERE / "acled_current.csv", "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, ACLED_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(ACLED_ROWS)


def write_acled_legacy() -> None:
    with open(HERE / "acled_legacy.csv", "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, LEGACY_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(LEGACY_ROWS)


def write_acled_resaved() -> None:
    """Index column, other column order, BOM, CRLF, a quoted note with line breaks, one bad latitude."""
    columns = ["notes", "event_id_cnty", "latitude", "longitude", "location", "event_date", "event_type",
               "sub_event_type", "country", "iso", "admin1", "time_precision", "fatalities", "source"]
    rows = [dict(ACLED_ROWS[0]), dict(ACLED_ROWS[1]), dict(ACLED_ROWS[3])]
    rows[1]["notes"] = "During the week of 20 June 2022,\r\nRussian forces shelled Shostka.\r\nNo casualties."
    rows[2]["latitude"] = "95.4547"  # line 6: after the three-line note of line 3
    buf = io.StringIO(newline="")
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(["", *columns])
    for index, row in enumerate(rows):
        writer.writerow([index, *(row.get(c, "") for c in columns)])
    (HERE / "acled_resaved.csv").write_bytes(b"\xef\xbb\xbf" + buf.getvalue().encode("utf-8"))


GENERIC = {
    # file name: (delimiter, header, rows) — together they use every column name the importer knows
    "generic_lat_lon.csv": (",", ["lat", "lon", "date", "title", "type", "source", "url", "quote", "notes", "country",
                                  "fatalities"],
                            [["50.92744", "30.76678", "2022-06-25", "Missile strike on Desna", "missile strike",
                              "Reuters", "https://example.org/desna", "Missiles hit Desna.", "From Belarus.", "UA",
                              "0"],
                             ["53.9", "27.5667", "2022-06-25", "Talks in Minsk", "meeting", "", "", "", "", "BY", ""]]),
    "generic_latitude_longitude.csv": (",", ["Latitude", "Longitude", "Event Date", "End Date", "Headline",
                                             "Category", "Publisher", "Link", "Excerpt", "Description", "Actors",
                                             "Region"],
                                       [["51.4982", "31.2893", "2022-02-24", "2022-03-31", "Siege of Chernihiv",
                                         "battle", "BBC", "https://example.org/chernihiv", "The city was encircled.",
                                         "", "Russia; Ukraine", "Chernihiv Oblast"]]),
    "generic_y_x.csv": (";", ["Y", "X", "When", "Event", "Kind", "Outlet", "Source_URL", "Details", "Actor"],
                        [["50,4501", "30,5234", "25.06.2022", "Air-raid alert in Kyiv", "alert", "Suspilne", "",
                          "Sirens at night.", "Ukraine"]]),
    "generic_lng_long.csv": (",", ["ID", "Latitude", "lng", "Day", "Until", "Summary", "Event_Type", "Source_Name",
                                   "Href", "Citation", "Text", "Province"],
                             [["evt-1", "52.4345", "31.0048", "2022-06-20", "2022-06-26", "Exercises near Gomel",
                               "exercise", "Belta", "https://example.org/gomel", "Drills continued.", "",
                               "Gomel Region"]]),
    "generic_x_long.csv": ("\t", ["event_id", "latitude", "long", "start_date", "date_end", "event_title",
                                  "publication", "when_published", "Published", "source_title", "excerpt"],
                           [["x-1", "55.7558", "37.6173", "2022-06-25", "2022-06-25", "Statement in Moscow",
                             "", "", "2022-06-26", "Kremlin readout", "A statement."]]),
}


def write_generic() -> None:
    for file_name, (delimiter, header, rows) in GENERIC.items():
        with open(HERE / file_name, "w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f, delimiter=delimiter, lineterminator="\n")
            writer.writerow(header)
            writer.writerows(rows)


def _write_rows(name: str, rows: list[list[str]]) -> None:
    with open(HERE / name, "w", encoding="utf-8", newline="") as f:
        csv.writer(f, lineterminator="\n").writerows(rows)


def write_places_only() -> None:
    rows = [["place", "country", "date", "title"],
            ["Desna", "UA", "2022-06-25", "Strike on Desna"],
            ["Chernihiv", "UA", "2022-06-25", "Sirens in Chernihiv"],
            ["Minsk", "Belarus", "2022-06-25", "Statement in Minsk"],
            ["Desna", "UA", "2022-06-26", "Second strike on Desna"],
            ["Nowhereville Xq", "UA", "2022-06-26", "Rumour"]]
    _write_rows("places_only.csv", rows)


def write_ambiguous_dates() -> None:
    rows = [["lat", "lon", "date", "title"],
            ["50.45", "30.52", "03/04/2022", "First"],
            ["50.45", "30.52", "05/06/2022", "Second"],
            ["50.45", "30.52", "12/11/2022", "Third"]]
    _write_rows("ambiguous_dates.csv", rows)


def write_xlsx() -> None:
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Events"
    sheet.append(["Latitude", "Longitude", "Date", "Title", "Type", "Source", "URL", "Fatalities"])
    sheet.append([50.92744, 30.76678, datetime(2022, 6, 25), "Missile strike on Desna", "missile strike", "Reuters",
                  "https://example.org/desna", 0])
    sheet.append([51.4982, 31.2893, date(2022, 2, 24), "Siege of Chernihiv begins", "battle", "BBC", None, None])
    sheet.append([None, None, None, None, None, None, None, None])  # a blank row Excel users leave behind
    sheet.append([95.0, 31.0, "2022-06-26", "Bad latitude", "test", "", None, None])
    workbook.properties.creator = "Reachmap fixtures"
    workbook.properties.created = workbook.properties.modified = datetime(2024, 1, 1)
    workbook.save(HERE / "events.xlsx")

    empty = openpyxl.Workbook()
    empty.active.title = "Sheet1"
    empty.properties.created = empty.properties.modified = datetime(2024, 1, 1)
    empty.save(HERE / "empty.xlsx")


GEOJSON = """{
  "type": "FeatureCollection",
  "features": [
    {"type": "Feature", "geometry": {"type": "Point", "coordinates": [30.76678, 50.92744]},
     "properties": {"title": "Missile strike on Desna", "date": "2022-06-25", "type": "missile strike",
                    "source": "Reuters", "url": "https://example.org/desna", "fatalities": 0}},
    {"type": "Feature", "geometry": {"type": "LineString", "coordinates": [[27.6, 51.9], [30.5, 51.5], [31.7, 52.1]]},
     "properties": {"title": "Troop movements along the border", "date": "2022-06-20", "end": "2022-06-26",
                    "type": "movement"}},
    {"type": "Feature", "geometry": {"type": "Polygon",
                                      "coordinates": [[[30.5, 50.8], [31.0, 50.8], [31.0, 51.1], [30.5, 51.1],
                                                       [30.5, 50.8]]]},
     "properties": {"title": "Closed area near Desna", "date": "June 2022", "type": "restriction"}},
    {"type": "Feature", "geometry": {"type": "MultiPoint", "coordinates": [[27.56, 53.9], [30.52, 50.45]]},
     "properties": {"title": "Statements in two capitals", "date": "2022-06-25", "type": "statement",
                    "place": "Minsk and Kyiv"}}
  ]
}
"""

KML = """<?xml version="1.0" encoding="UTF-8"?>
<kml xmlns="http://www.opengis.net/kml/2.2">
<Document>
  <name>Reachmap fixture</name>
  <Folder>
    <name>Strikes</name>
    <Placemark>
      <name>Missile strike on Desna</name>
      <description>Missiles launched from Belarusian airspace.</description>
      <TimeStamp><when>2022-06-25</when></TimeStamp>
      <ExtendedData>
        <Data name="type"><value>missile strike</value></Data>
        <Data name="source"><value>Reuters</value></Data>
        <Data name="fatalities"><value>0</value></Data>
      </ExtendedData>
      <Point><coordinates>30.76678,50.92744,0</coordinates></Point>
    </Placemark>
  </Folder>
  <Folder>
    <name>Movements</name>
    <Placemark>
      <name>Column on the M01</name>
      <TimeSpan><begin>2022-02-24</begin><end>2022-03-31</end></TimeSpan>
      <LineString><coordinates>30.52,50.45,0 31.29,51.50,0</coordinates></LineString>
    </Placemark>
  </Folder>
</Document>
</kml>
"""


def write_geo() -> None:
    (HERE / "features.geojson").write_text(GEOJSON, encoding="utf-8")
    (HERE / "placemarks.kml").write_text(KML, encoding="utf-8")


if __name__ == "__main__":
    write_acled_current()
    write_acled_legacy()
    write_acled_resaved()
    write_generic()
    write_places_only()
    write_ambiguous_dates()
    write_xlsx()
    write_geo()
    print("fixtures written to", HERE)
