"""Issue 18's "done when", in two browsers on one PostGIS store: one analyst imports a revised ACLED export on the
Import page while another edits an event in the editor; each sees the other's work after a rerun, and the
store's history names both, under the logins the proxy gives them (user_header)."""

from __future__ import annotations

import csv
from pathlib import Path

from dashboard.ingest import open_store
from dashboard.ingest.importer import import_file
from tests.browser.conftest import Page, serve_app

ACLED = Path(__file__).parents[1] / "data" / "import" / "acled_current.csv"
HEADER = "X-Forwarded-User"
DESNA = "desna-missile-strike-2022-06-25"
EDITED = "Desna strike, retitled by bob"
REVISED = "Shelling/artillery/missile attack in Desna (Chernihiv)"  # ACLED's title after its revision


def _revised(tmp_path: Path) -> Path:
    """ACLED's export a day later: its Desna event re-coded as shelling, with a newer timestamp."""
    rows = list(csv.DictReader(ACLED.open(encoding="utf-8")))
    desna = next(r for r in rows if r["location"] == "Desna")
    desna["sub_event_type"] = "Shelling/artillery/missile attack"
    desna["timestamp"] = str(int(desna["timestamp"]) + 86_400)
    path = tmp_path / "acled-revised.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def _as(browser, login: str) -> Page:
    page = Page(browser)
    page.context.set_extra_http_headers({HEADER: login})  # what the login proxy would add
    return page


def test_one_imports_while_another_edits_and_each_sees_the_other_s_work(browser, postgres, gazetteer,
                                                                         chromium_path, tmp_path):
    url = postgres.create()
    with open_store(url, gazetteer=gazetteer) as store:  # the stories, then ACLED's first export
        import_file(ACLED, store, gazetteer, user="setup")
        acled_id = next(e.id for e in store.events() if e.id.startswith("acled:") and e.place.name == "Desna")
    revised = _revised(tmp_path)
    env = {"REACHMAP_STORE_URL": url, "REACHMAP_STORE_PATH": None, "REACHMAP_USER_HEADER": HEADER,
           "REACHMAP_USER": "the-instance"}
    with serve_app(None, env=env) as app:
        alice, bob = _as(browser, "alice"), _as(browser, "bob")
        try:
            alice.open(f"{app}/import")
            alice.page.locator("input[type=file]").first.set_input_files(str(revised))
            bob.open(f"{app}/events?edit={DESNA}")
            bob.page.get_by_text(f"id {DESNA}").first.wait_for()
            title = bob.page.get_by_label("Title", exact=True).first
            bob.page.wait_for_function(f"() => [...document.querySelectorAll('input[aria-label=Title]')]"
                                       f".some(i => i.value.startsWith('Massive missile strike on Desna'))")
            title.fill(EDITED)
            alice.page.get_by_role("button", name="Import").click()  # both at once
            bob.page.get_by_role("button", name="Save changes").click()
            alice.page.get_by_text("1 updated").first.wait_for()
            bob.page.get_by_text(f"Saved “{EDITED}” as version 2").wait_for()

            alice.open(f"{app}/events")  # a rerun on alice's side: bob's title is in her table
            alice.page.get_by_text(EDITED).first.wait_for(state="attached")
            bob.open(f"{app}/events?edit={acled_id}")  # and alice's revision on bob's
            bob.page.get_by_text(f"Edit “{REVISED}”").first.wait_for()
        finally:
            alice.close()
            bob.close()
    with open_store(url, gazetteer=gazetteer) as store:
        edited, imported = store.history(DESNA), store.history(acled_id)
        assert [(c.version, c.action, c.user, c.origin) for c in edited][-1] == (2, "updated", "bob", "edit")
        assert edited[-1].before.title.startswith("Massive missile strike") and edited[-1].after.title == EDITED
        assert [(c.version, c.action, c.user) for c in imported] == [(1, "created", "setup"), (2, "updated", "alice")]
        assert imported[-1].after.title == REVISED and imported[-1].origin == "import:acled-revised.csv"
        assert store.count() == 13 + 4  # the stories' events and ACLED's four: nothing lost, nothing doubled
