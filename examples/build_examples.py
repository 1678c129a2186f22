"""Write the example files the README imports; run it again after changing a row (the outputs are committed).

    python examples/build_examples.py [OUTPUT_DIR]

acled-ukraine-2022.csv is in ACLED's export format (its real column names, in its order) and incidents.xlsx is
an analyst's own sheet (coordinates for some rows, only a place name and country for others, one mistyped
date that `--skip-bad` reports and leaves out). Neither is ACLED or any outlet's data: the rows were written for
Reachmap after the reports cited in examples/README.md, and the ACLED event ids are made up. article.txt is
not built here: it is a quoted passage (see examples/README.md).
"""

from __future__ import annotations

import csv
import sys
from datetime import datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent

# ACLED's columns, in the order its current exports write them.
ACLED_COLUMNS = ("event_id_cnty,event_date,year,time_precision,disorder_type,event_type,sub_event_type,actor1,"
                 "assoc_actor_1,inter1,actor2,assoc_actor_2,inter2,interaction,civilian_targeting,iso,region,country,"
                 "admin1,admin2,admin3,location,latitude,longitude,geo_precision,source,source_scale,notes,"
                 "fatalities,tags,timestamp").split(",")

RUSSIA = "Military Forces of Russia (2000-)"
ACLED_ROWS = [
    dict(event_id_cnty="UKR900017", event_date="2022-05-17", year="2022", time_precision="1",
         disorder_type="Political violence", event_type="Explosions/Remote violence", sub_event_type="Air/drone strike",
         actor1=RUSSIA, inter1="8", actor2="Military Forces of Ukraine (2019-)", inter2="1", interaction="18", iso="804",
         region="Europe", country="Ukraine", admin1="Chernihiv", admin2="Chernihivskyi", admin3="Desnianska",
         location="Desna", latitude="50.9274", longitude="30.7668", geo_precision="1",
         source="Suspilne; Censor.NET", source_scale="National",
         notes="On 17 May 2022, Russian aircraft fired four missiles at the village of Desna (Chernihiv), where a "
               "military training centre is located; two hit buildings. 8 people were killed and 12 injured.",
         fatalities="8", timestamp="1653523200"),
    dict(event_id_cnty="UKR900125", event_date="2022-06-25", year="2022", time_precision="1",
         disorder_type="Political violence", event_type="Explosions/Remote violence",
         sub_event_type="Shelling/artillery/missile attack", actor1=RUSSIA,
         assoc_actor_1="Military Forces of Belarus (1994-)", inter1="8", actor2="Military Forces of Ukraine (2019-)",
         inter2="1", interaction="18", iso="804", region="Europe", country="Ukraine", admin1="Chernihiv",
         admin2="Chernihivskyi", admin3="Desnianska", location="Desna", latitude="50.9274", longitude="30.7668",
         geo_precision="1", source="Ukrainska Pravda; AFP", source_scale="National-International",
         notes="On 25 June 2022, around 05:00, Russian forces fired about 20 missiles at the village of Desna "
               "(Chernihiv) from the territory of Belarus and from the air. Infrastructure was hit; no casualties "
               "were reported.",
         fatalities="0", timestamp="1656979200"),
    dict(event_id_cnty="RUS900125", event_date="2022-06-25", year="2022", time_precision="1",
         disorder_type="Strategic developments", event_type="Strategic developments", sub_event_type="Agreement",
         actor1="Government of Russia (2000-)", inter1="7", actor2="Government of Belarus (1994-)", inter2="7",
         interaction="77", iso="643", region="Europe", country="Russia", admin1="Saint Petersburg",
         location="Saint Petersburg", latitude="59.9386", longitude="30.3141", geo_precision="1",
         source="TASS; The Statesman", source_scale="International",
         notes="On 25 June 2022, at a televised meeting in Saint Petersburg, Russian President Putin told Belarusian "
               "President Lukashenko that Russia would hand Belarus Iskander-M missile systems in the coming months.",
         fatalities="0", timestamp="1656979200"),
    dict(event_id_cnty="UKR900728", event_date="2022-07-28", year="2022", time_precision="1",
         disorder_type="Political violence", event_type="Explosions/Remote violence",
         sub_event_type="Shelling/artillery/missile attack", actor1=RUSSIA, inter1="8", interaction="80", iso="804",
         region="Europe", country="Ukraine", admin1="Chernihiv", admin2="Chernihivskyi", location="Honcharivske",
         latitude="51.2989", longitude="30.9198", geo_precision="2", source="Ukrainska Pravda",
         source_scale="National",
         notes="On 28 July 2022, after 05:00, Russian forces launched about 12 missiles from the territory of "
               "Belarus; one hit near Honcharivske (Chernihiv). Casualties unknown.",
         fatalities="0", timestamp="1659398400"),
]

INCIDENT_COLUMNS = ["Date", "Place", "Country", "Latitude", "Longitude", "Title", "Type", "Source", "URL"]
INCIDENTS = [
    [datetime(2022, 6, 25), "Desna", "UA", 50.92744, 30.76678, "About 20 missiles hit Desna, fired from Belarus",
     "missile strike", "La Regione (Ukrainian Northern Command)",
     "https://www.laregione.ch/estero/estero/1591599/bielorussia-chernihiv-missili-kiev-svizzera"],
    [datetime(2022, 6, 25), "Petrikov", "BY", None, None, "Reported launch area of the missiles fired at Desna",
     "launch", "BD", "https://www.bd.nl/buitenland/rusland-probeert-belarus-in-de-oorlog-met-oekraine-te-trekken"
                     "~af812eca/"],
    [datetime(2022, 6, 25), "St Petersburg", "RU", None, None,
     "Putin tells Lukashenko Russia will hand Belarus Iskander-M systems", "statement", "The Statesman",
     "https://thestatesman.com/world/russia-supply-iskander-m-nuke-capable-missiles-belarus-putin-1503084487.html"],
    [datetime(2022, 5, 17), "Desna", "UA", 50.92744, 30.76678, "Missile strike on Desna kills 8", "missile strike",
     "Censor.NET", "https://censor.net/en/news/3341796/russian_troops_launched_missile_strikes_on_village_of_desna_in"
                   "_chernihiv_region_there_are_dead_many"],
    [datetime(2022, 7, 28), "Honcharivske", "UA", None, None, "Missile launched from Belarus hits near Honcharivske",
     "missile strike", "Ukrainska Pravda (via Soloway)",
     "https://soloway.live/en/2022/07/28/rocket-launched-from-belarus-hits-village-in-chernihiv-region/"],
    # Left as typed: there is no 31 June, so `import --skip-bad` reports this row and stores the others.
    ["2022-06-31", "Chernihiv", "UA", None, None, "Air-raid sirens in Chernihiv", "alert", "", None],
]


def write_acled(out: Path) -> None:
    with open(out / "acled-ukraine-2022.csv", "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, ACLED_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(ACLED_ROWS)


# ACLED's table of deleted events has these two columns; this one deletes the last example event (made up too).
DELETIONS_ROWS = [{"event_id_cnty": "UKR900728", "deleted_timestamp": 1660003200}]


def write_acled_deletions(out: Path) -> None:
    with open(out / "acled-deletions-2022.csv", "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, ("event_id_cnty", "deleted_timestamp"), lineterminator="\n")
        writer.writeheader()
        writer.writerows(DELETIONS_ROWS)


def write_incidents(out: Path) -> None:
    import openpyxl

    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Incidents"
    sheet.append(INCIDENT_COLUMNS)
    for row in INCIDENTS:
        sheet.append(row)
    for cell in sheet["A"][1:]:
        cell.number_format = "yyyy-mm-dd"
    workbook.properties.creator = "Reachmap examples"
    workbook.properties.created = workbook.properties.modified = datetime(2024, 1, 1)
    workbook.save(out / "incidents.xlsx")


# Sites where published reports place a system, each with its source and the exact words quoted from it
# (examples/README.md). Places are the gazetteer's points for the named town (no source gives coordinates);
# "from" is the day the source reports the system there, marked approximate: it may have been there earlier.
SITES_COLUMNS = ("name,place,country,system,min_km,from,until,approximate,source_title,source_publisher,source_url,"
                 "source_published,quote,note").split(",")
_TASS_OSIPOVICHI = dict(
    place="Osipovichi", country="BY", source_title="TASS report, MINSK, August 25 (2023)", source_publisher="TASS",
    source_url="https://tass.com/defense/1665627", source_published="2023-08-25", **{"from": "2023-08-25"},
    approximate="1",
    quote="At a range near Osipovichi, fire control instruction of servicemen from a missile brigade is in progress. "
          "The emphasis is on the cohesion of crews. A unit of missile forces armed with the Iskander-M tactical "
          "systems and a unit of Tochka tactical systems are taking part in the training.",
    note="The stored copy shows no headline: the title names the report by its dateline. From the day of the "
         "report.")
_BABEL_ZYABROVKA = dict(
    place="Gomel", country="BY", source_title="General Staff: Belarus handed the Zyabrovka airfield under the "
    "control of the Russians", source_publisher="Babel", source_url="https://babel.ua/en/news/81122-general-staff-"
    "belarus-handed-the-zyabrovka-airfield-under-the-control-of-the-russians", **{"from": "2022-07-07"},
    approximate="1",
    quote="\"The airport \"Zyabrovka\" in Belarus is already fully controlled by the Russians. Currently, a Russian "
          "military base is being set up there. The missile division of the \"Iskander-M\" missile complex and the "
          "S-400 division are located on the territory of the airfield,\" said Oleksiy Hromov.",
    note="Zyabrovka airfield is near Gomel; the gazetteer has no Zyabrovka, so the ring is centred on Gomel (about "
         "15 km off). From the General Staff briefing of 7 July 2022 the article reports.")
SITES_ROWS = [
    dict(name="Osipovichi missile brigade (Iskander-M)", system="iskander-m", **_TASS_OSIPOVICHI),
    dict(name="Osipovichi missile brigade (Tochka)", system="tochka-u", **_TASS_OSIPOVICHI),
    dict(name="Zyabrovka airfield (Iskander-M)", system="iskander-m", **_BABEL_ZYABROVKA),
    dict(name="Zyabrovka airfield (S-400)", system="s-400", **_BABEL_ZYABROVKA),
    dict(name="Machulishchy airbase (Kinzhal carriers)", place="Machulishchy", country="BY", system="kinzhal",
         source_title="Explosions occur at Machulishchy airbase in Belarus, Russian aircraft damaged",
         source_publisher="Ukrainska Pravda (Yahoo News)",
         source_url="https://www.yahoo.com/news/explosions-occur-machulishchy-airbase-belarus-143337249.html",
         quote="It is from Machulishchy airfield that Kinzhal missile carriers usually take off, which is why Ukraine "
               "issued an air-raid warning.",
         note="Kinzhal is air-launched (MiG-31K): the ring is the missile's declared range from the airfield, not the "
              "aircraft's radius."),
    dict(name="Luninets airfield (S-300 or S-400)", place="Luninets", country="BY", system="s-400",
         source_title="Радио \"Свобода\": Лунинецкий военный аэродром расчищают и расширяют",
         source_publisher="Euroradio",
         source_url="https://euroradio.fm/ru/radio-svoboda-lunineckiy-voennyy-aerodrom-raschishchayut-i-rasshiryayut",
         quote="По снимкам журналисты заметили, что сейчас военной техники на аэродроме немного: только несколько "
               "комплексов С-300 или С-400.",
         note="The source says S-300 or S-400; drawn with the S-400's declared reach, the larger."),
    dict(name="Polonez, Gomel and Mozyr regions", place="Mozyr", country="BY", system="polonez", min_km="50",
         **{"from": "2024-08-10"}, approximate="1",
         source_title="Belarus announces transfer of Iskanders and Polonez artillery systems to Ukraine border regions",
         source_publisher="RBC-Ukraine", source_url="https://newsukraine.rbc.ua/news/belarus-announces-transfer-of-"
         "iskanders-and-1723291082.html", source_published="2024-08-10",
         quote="Belarus has announced that it will strengthen the regions bordering Ukraine. Troops and Iskander and "
               "Polonez systems are set to be deployed there, according to Belarusian Defense Minister Viktor Khrenin. "
               "According to him, Belarusian self-proclaimed President Alexander Lukashenko allegedly ordered the "
               "reinforcement of troops in the Gomel and Mozyr regions, which border the northern areas of Ukraine.",
         note="Centred on Mozyr (Mazyr), the town the region is named after. min_km 50 from belsat.eu after BelTA "
              "(udf.by, 24 Feb 2021): \"MRLS Polonez can deliver strikes as far as 50-200km with a high degree of "
              "precision.\""),
]


def write_sites(out: Path) -> None:
    with open(out / "sites-belarus.csv", "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, SITES_COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(SITES_ROWS)


def main(argv: list[str]) -> None:
    out = Path(argv[0]) if argv else HERE
    out.mkdir(parents=True, exist_ok=True)
    write_acled(out)
    write_acled_deletions(out)
    write_incidents(out)
    write_sites(out)


if __name__ == "__main__":
    main(sys.argv[1:])
