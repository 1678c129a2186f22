"""The Events page's editor through Streamlit's AppTest, on a real store of each backend: add, edit, refusals as one
sentence, a conflict with a second store object saving first, delete and restore, history, hostile titles."""

from __future__ import annotations

from datetime import date

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.errors import NotFoundError
from dashboard.ingest import open_store

DESNA = "desna-missile-strike-2022-06-25"
HOSTILE = "<script>alert(1)</script> ssti<{{7*7}}>end ${alert(1)} [x](javascript:alert(1))"


def _events_page():
    from dashboard.ui import events_page

    events_page.render()


@pytest.fixture
def page(store_location, gazetteer, monkeypatch):
    monkeypatch.setenv("REACHMAP_USER", "alice")
    monkeypatch.delenv("REACHMAP_USER_HEADER", raising=False)
    with open_store(gazetteer=gazetteer):  # created and seeded with the story before the page opens it
        pass
    return AppTest.from_function(_events_page, default_timeout=120)


def stored(gazetteer, event_id: str):
    with open_store(gazetteer=gazetteer) as store:
        return store.get_event(event_id), store.version(event_id)


def click(at: AppTest, label: str) -> AppTest:
    next(b for b in at.button if b.label == label).click().run()
    assert not at.exception, at.exception
    return at


def fill(at: AppTest, prefix: str, **values) -> None:
    for name, value in values.items():
        key = prefix + name
        for kind in ("text_input", "text_area", "date_input", "number_input", "selectbox", "radio"):
            found = [w for w in getattr(at, kind) if w.key == key]
            if found:
                found[0].set_value(value)
                break
        else:
            raise AssertionError(f"no widget {key}")


NEW_EVENT = dict(title="Strike near Chernihiv", event_type="missile strike", start=date(2022, 6, 26),
                 end=date(2022, 6, 26), place_name="Chernihiv", source_title="Report", publisher="Kyiv Independent",
                 url="https://example.org/r", quote="Missiles struck near Chernihiv on 26 June.")


def open_editor(at: AppTest, event_id: str = DESNA) -> AppTest:
    at.query_params["edit"] = event_id
    at.run()
    assert not at.exception, at.exception
    return at


def frames(at: AppTest, column: str) -> list:
    """The tables shown that have this column, in page order (the history lists the newest change first)."""
    return [d.value for d in at.dataframe if column in d.value.columns]


def texts(at: AppTest) -> str:
    return " ".join(e.value for kind in ("markdown", "caption", "warning", "error", "success", "info", "subheader")
                    for e in getattr(at, kind))


def test_the_page_says_who_edits_and_that_a_shared_server_without_a_login_names_nobody(page, monkeypatch):
    at = page.run()
    assert not at.exception and "You edit as alice." in [c.value.replace("\\", "") for c in at.caption]
    monkeypatch.setenv("REACHMAP_USER_HEADER", "X-Forwarded-User")
    at = AppTest.from_function(_events_page, default_timeout=120).run()
    assert "X\\-Forwarded\\-User header naming you" in at.warning[0].value


def test_an_event_added_by_place_name_is_stored_listed_and_recorded(page, gazetteer):
    at = page.run()
    fill(at, "new_", **NEW_EVENT)
    click(at, "Add event")
    assert not at.error, [e.value for e in at.error]
    assert "as version 1" in at.success[0].value
    titles = list(at.dataframe[0].value["title"])
    assert "Strike near Chernihiv" in titles  # the columnar table beside the store was reloaded
    with open_store(gazetteer=gazetteer) as store:
        event = next(e for e in store.events() if e.title == "Strike near Chernihiv")
        changes = store.history(event.id)
    assert event.place.name == "Chernihiv" and event.place.country == "UA"
    assert event.source.quote == NEW_EVENT["quote"] and event.time.start == date(2022, 6, 26)
    assert [(c.version, c.action, c.user, c.origin) for c in changes] == [(1, "created", "alice", "edit")]
    assert at.text_input(key="new_title").value == ""  # the form is ready for the next one


def test_an_event_added_by_coordinates_takes_the_country_by_name(page, gazetteer):
    at = page.run()
    fill(at, "new_", **{**NEW_EVENT, "title": "Drill", "place_name": ""})
    fill(at, "new_", place_mode="point", lat=52.1, lon=27.3, country="Belarus", point_name="Range")
    click(at, "Add event")
    assert not at.error, [e.value for e in at.error]
    with open_store(gazetteer=gazetteer) as store:
        event = next(e for e in store.events() if e.title == "Drill")
    assert (event.place.name, event.place.country, event.place.lonlat) == ("Range", "BY", (27.3, 52.1))


@pytest.mark.parametrize("change, words", [
    ({"quote": ""}, "Quote: needs the sentence of the source the event rests on."),
    ({"publisher": ""}, "Publisher: must be a non-empty text."),
    ({"source_title": "  "}, "Source title"),
    ({"title": ""}, "Title: must be a non-empty text."),
    ({"end": date(2022, 6, 20)}, "End “2022-06-20”: end is before start 2022-06-26."),
    ({"start": None}, "Start: must be a date"),
    ({"place_name": "Xyzzyqq"}, "Place “Xyzzyqq”: no place of that name in the gazetteer"),
    ({"place_name": "Chernihiv", "country": "Atlantis"}, "Country “Atlantis”: unknown country"),
    ({"url": "javascript:alert(1)"}, "Source URL “javascript:alert(1)”"),
    ({"url": "https://exa mple.org"}, "Source URL"),
    ({"place_mode": "point", "lat": 52.1, "lon": 27.3}, "Country: coordinates need the country"),
    ({"place_mode": "point", "lat": None, "lon": 27.3, "country": "BY"}, "Latitude: latitude must be a number"),
])
def test_a_refused_field_is_one_sentence_beside_the_form_and_nothing_is_stored(page, gazetteer, change, words):
    with open_store(gazetteer=gazetteer) as store:
        before = store.count()
    at = page.run()
    fill(at, "new_", **{**NEW_EVENT, **change})
    click(at, "Add event")
    shown = [e.value.replace("\\", "") for e in at.error]
    assert len(shown) == 1 and shown[0].startswith(words), shown
    if "title" not in change:
        assert at.text_input(key="new_title").value == NEW_EVENT["title"]  # what was typed stays to correct
    with open_store(gazetteer=gazetteer) as store:
        assert store.count() == before


def test_editing_saves_a_new_version_with_its_history(page, gazetteer):
    at = open_editor(page)
    _, first = stored(gazetteer, DESNA)
    assert at.text_input(key="ed_title").value == "Massive missile strike on Desna launched from Belarus"
    at.text_input(key="ed_title").input("Strike on Desna (edited)")
    click(at, "Save changes")
    event, version = stored(gazetteer, DESNA)
    assert event.title == "Strike on Desna (edited)" and version == first + 1
    assert event.place.name == "Desna"  # "Keep" the place: not looked up again
    history = " ".join(m.value for m in at.markdown)
    assert f"Version {version} · updated · by alice" in history.replace("\\", "")
    changed = frames(at, "before")[0]
    assert changed.values.tolist() == [["title", "Massive missile strike on Desna launched from Belarus",
                                        "Strike on Desna (edited)"]]


def test_an_edited_place_is_looked_up_again_and_coordinates_start_from_where_it_was(page, gazetteer):
    at = open_editor(page)
    assert (at.number_input(key="ed_lat").value, at.number_input(key="ed_lon").value) == (50.92744, 30.76678)
    fill(at, "ed_", place_mode="name", place_name="Chernihiv")
    click(at, "Save changes")
    assert stored(gazetteer, DESNA)[0].place.name == "Chernihiv"
    fill(at, "ed_", place_mode="point", lat=51.0, lon=31.0, point_name="Field")
    click(at, "Save changes")
    place = stored(gazetteer, DESNA)[0].place
    assert (place.name, place.country, place.lonlat) == ("Field", "UA", (31.0, 51.0))


def _theirs(gazetteer, version: int, title: str) -> int:
    """Someone else (bob) saves the event first, through a store object of their own."""
    from dataclasses import replace

    with open_store(gazetteer=gazetteer) as store:
        event = store.get_event(DESNA)
        return store.save_event(replace(event, title=title), "bob", version)


def test_a_save_over_a_newer_version_is_a_conflict_shown_side_by_side_then_saved_deliberately(page, gazetteer):
    at = open_editor(page)
    _, opened_at = stored(gazetteer, DESNA)
    theirs = _theirs(gazetteer, opened_at, "Their title")
    at.text_input(key="ed_title").input("My title")
    click(at, "Save changes")
    warning = at.warning[0].value.replace("\\", "")
    assert f"Someone saved this event (version {theirs}, by bob at " in warning and "UTC) while you edited" in warning
    side = frames(at, "yours (not saved)")[0]
    title = side[side["field"] == "title"].iloc[0].tolist()
    assert title == ["title", "≠", "My title", "Their title"]
    assert stored(gazetteer, DESNA) == (stored(gazetteer, DESNA)[0], theirs)
    assert stored(gazetteer, DESNA)[0].title == "Their title"  # nothing overwritten
    restorable = {b.label for b in at.button if b.label.startswith("Restore version")}
    assert restorable == {f"Restore version {opened_at}"}  # the version I opened; theirs is the current one
    assert at.text_input(key="ed_title").value == "My title"  # mine kept in the form
    click(at, f"Save mine over their version {theirs}")
    event, version = stored(gazetteer, DESNA)
    assert (event.title, version) == ("My title", theirs + 1)
    assert not [w for w in at.warning if "Someone saved" in w.value]


def test_after_a_conflict_their_version_can_be_loaded_into_the_form(page, gazetteer):
    at = open_editor(page)
    _, opened_at = stored(gazetteer, DESNA)
    theirs = _theirs(gazetteer, opened_at, "Their title")
    at.text_input(key="ed_title").input("My title")
    click(at, "Save changes")
    click(at, "Load their version")
    assert at.text_input(key="ed_title").value == "Their title"
    assert f"Version {theirs} ·" in " ".join(c.value for c in at.caption)
    at.text_input(key="ed_title").input("Mine, on theirs")
    click(at, "Save changes")
    assert stored(gazetteer, DESNA) == (stored(gazetteer, DESNA)[0], theirs + 1)
    assert stored(gazetteer, DESNA)[0].title == "Mine, on theirs"


def test_an_event_deleted_while_edited_is_a_conflict_that_writes_nothing(page, gazetteer):
    at = open_editor(page)
    with open_store(gazetteer=gazetteer) as store:
        gone = store.delete_event(DESNA, "bob", store.version(DESNA))
    at.text_input(key="ed_title").input("My title")
    click(at, "Save changes")
    warning = at.warning[0].value.replace("\\", "")
    assert f"Someone deleted this event (version {gone}, by bob at " in warning
    assert frames(at, "theirs (deleted)")[0].iloc[0].tolist() == ["title", "≠", "My title", ""]
    with open_store(gazetteer=gazetteer) as store, pytest.raises(NotFoundError):
        store.get_event(DESNA)  # not brought back by a save
    click(at, "Discard my edit")
    assert not [t for t in at.text_input if t.key == "ed_title"]


def test_delete_asks_first_and_the_deleted_list_restores_it(page, gazetteer):
    at = open_editor(page)
    click(at, "Delete this event")
    assert "Delete “Massive missile strike" in at.warning[0].value.replace("\\", "")
    with open_store(gazetteer=gazetteer) as store:
        store.get_event(DESNA)  # asked, not deleted yet
    click(at, "Yes, delete")
    with open_store(gazetteer=gazetteer) as store, pytest.raises(NotFoundError):
        store.get_event(DESNA)
    assert "Massive missile strike on Desna" not in set(at.dataframe[0].value["title"])
    listed = " ".join(m.value for m in at.markdown).replace("\\", "")
    assert "Massive missile strike on Desna launched from Belarus — deleted by alice" in listed
    click(at, "Restore")
    event, _ = stored(gazetteer, DESNA)
    assert event.title == "Massive missile strike on Desna launched from Belarus"
    assert "Massive missile strike on Desna launched from Belarus" in set(at.dataframe[0].value["title"])
    with open_store(gazetteer=gazetteer) as store:
        assert [c.action for c in store.history(DESNA)][-2:] == ["deleted", "restored"]


def test_an_earlier_version_is_restored_from_the_history(page, gazetteer):
    at = open_editor(page)
    at.text_input(key="ed_title").input("A wrong title")
    click(at, "Save changes")
    with open_store(gazetteer=gazetteer) as store:
        first = store.history(DESNA)[0].version
    click(at, f"Restore version {first}")
    event, version = stored(gazetteer, DESNA)
    assert event.title == "Massive missile strike on Desna launched from Belarus"
    assert at.text_input(key="ed_title").value == event.title and f"Version {version} ·" in texts(at)
    with open_store(gazetteer=gazetteer) as store:
        assert store.history(DESNA)[-1].action == "restored"


@pytest.mark.parametrize("bad, words", [
    ("no-such-event", "No stored event has the id “no-such-event”"),
    ("x" * 300, "is longer than 200 characters"),
    ("a\x00b", "holds control characters"),
    ("\u202egpj.exe", "holds control characters"),
    (" ", "is empty"),
])
def test_a_broken_edit_link_is_one_sentence(page, bad, words):
    at = open_editor(page, bad)
    assert len(at.warning) == 1 and words in at.warning[0].value.replace("\\", "")
    assert "edit" not in at.query_params and not at.text_input(key="new_title").value  # the page still works
    assert not [t for t in at.text_input if t.key == "ed_title"]


def test_a_hostile_title_stays_text_in_the_form_the_history_and_the_heading(page, gazetteer):
    at = open_editor(page)
    at.text_input(key="ed_title").input(HOSTILE)
    click(at, "Save changes")
    assert stored(gazetteer, DESNA)[0].title == HOSTILE
    assert at.text_input(key="ed_title").value == HOSTILE  # a text box holds the characters, nothing runs
    shown = texts(at)
    assert "ssti<49>end" not in shown.replace("\\", "")  # {{7*7}} never evaluated
    assert "<script>" not in shown and "](javascript" not in shown
    assert "\\<script\\>alert\\(1\\)\\<\\/script\\> ssti\\<\\{\\{7\\*7\\}\\}\\>end \\$\\{alert\\(1\\)\\}" in shown
    assert HOSTILE in frames(at, "before")[0]["after"].tolist()


def test_a_hostile_place_name_is_text_in_the_keep_option(page, gazetteer):
    from dashboard.model import Place
    from tests.conftest import make_event

    hostile = "![x](http://127.0.0.1:9/b1) :red[x] <img src=x onerror=alert(1)>"
    with open_store(gazetteer=gazetteer) as store:
        store.put_events([make_event("hostile", place=Place.at("point:h", hostile, "point", 30.0, 50.0,
                                                                 country="UA"))], origin="test")
    at = open_editor(page, "hostile")
    keep = at.radio(key="ed_place_mode").options[0]
    assert keep.startswith("Keep: \\!\\[x\\]\\(http\\:") and "\\<img" in keep
