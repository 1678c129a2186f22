"""ACLED's deletions file: the events ACLED removed from its dataset, to remove from the store too (issue 18).

ACLED publishes, beside its exports, a table of deleted events: `event_id_cnty` and `deleted_timestamp`
(Unix seconds; a date text in re-saved files), as CSV or Excel. Importing it deletes each listed event that
the store holds ("acled:" + event_id_cnty, as acled.py names them) through `EventStore.delete_events`: one
transaction, each deletion recorded in the history with origin "acled-deletions:<file>", so any of them can
be restored. The whole file is checked first: one bad row and nothing is deleted, with a sentence naming
the line, the field and the value. A deletion older than the revision the store holds (the event's ACLED
`timestamp` is later than its `deleted_timestamp`: ACLED published it again after deleting it) is skipped
and counted, as an older export's row is.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dashboard.errors import DashboardError
from dashboard.ingest.rows import clean_table, shown, stripped
from dashboard.ingest.table import Table, check_size, container, read_csv, read_head, read_xlsx
from dashboard.store import EventStore
from dashboard.store.history import revision_order

FORMAT = "acled-deletions"
COLUMNS = ("event_id_cnty", "deleted_timestamp")


@dataclass(frozen=True)
class Deletions:
    """The events a deletions file lists, checked: store ids in file order, each once."""

    source: str
    rows: int
    ids: tuple[str, ...]
    stamps: tuple[float, ...] = ()  # each id's deleted_timestamp (revision_order); its latest when listed twice


@dataclass(frozen=True)
class DeletionReport:
    source: str
    rows: int
    deleted: int
    not_stored: int
    skipped: int = 0  # deletions older than the stored revision

    def __str__(self) -> str:
        skipped = (f", {self.skipped:,} skipped (the store holds a revision newer than the deletion)"
                   if self.skipped else "")
        return (f"{self.source} ({FORMAT}): {self.rows:,} rows, {self.deleted:,} deleted, {self.not_stored:,} not in "
                f"the store{skipped}; each deletion is in the event's history and can be restored")


def is_deletions(keys: set[str]) -> bool:
    """Whether a table with these normalised column names is an ACLED deletions file (not an export)."""
    return set(COLUMNS) <= keys and "event_date" not in keys


def read_deletions(path: Path, source_name: str | None = None) -> Deletions:
    """The checked ids of a deletions file; DashboardError (one sentence) for a file or a row that is not one."""
    path = Path(path)
    name = source_name or path.name
    check_size(path)
    kind = container(read_head(path), path)
    if kind not in ("text", "xlsx"):
        raise DashboardError(f"The file {name} is not a CSV or Excel table; an ACLED deletions file is one, with the "
                             f"columns {', '.join(COLUMNS)}.")
    table: Table = clean_table(read_xlsx(path, name) if kind == "xlsx" else read_csv(path, name))
    found = {key: table.find(key) for key in COLUMNS}
    missing = [key for key, column in found.items() if column is None]
    if missing:
        raise DashboardError(f"The file {name} has no {' or '.join(missing)} column, so it is not an ACLED deletions "
                             f"file (that has {', '.join(COLUMNS)}); nothing was deleted. To import events, use "
                             "format auto or acled.")
    ids = stripped(table.frame, found["event_id_cnty"]).tolist()
    stamps = stripped(table.frame, found["deleted_timestamp"]).tolist()
    for i, line in enumerate(table.lines.tolist()):
        if i in table.problems:
            field, value, reason = table.problems[i]
            raise _bad(name, line, field, value, reason)
        if not ids[i] or ids[i].lower() == "nan":
            raise _bad(name, line, "event_id_cnty", ids[i], "is empty; every row names the ACLED event deleted")
        if revision_order(stamps[i]) is None or stamps[i].lower() == "nan":
            raise _bad(name, line, "deleted_timestamp", stamps[i],
                       "is not a Unix time in seconds or a date (YYYY-MM-DD)")
    latest: dict[str, float] = {}
    for event_id, stamp in zip(ids, stamps):
        key = f"acled:{event_id}"
        latest[key] = max(latest.get(key, float("-inf")), revision_order(stamp))
    return Deletions(name, len(ids), tuple(latest), tuple(latest.values()))


def import_deletions(path: Path, store: EventStore, user: str | None = None,
                     source_name: str | None = None) -> DeletionReport:
    """Delete the events a deletions file lists, in one transaction; ids the store does not hold are counted."""
    from dashboard import settings

    found = read_deletions(path, source_name)
    stale = _newer_than_deletion(store, found)
    wanted = [i for i in found.ids if i not in stale]
    deleted = store.delete_events(wanted, settings.user() if user is None else user, f"{FORMAT}:{found.source}")
    return DeletionReport(found.source, found.rows, deleted, len(wanted) - deleted, len(stale))


def _newer_than_deletion(store: EventStore, found: Deletions) -> set[str]:
    """The listed ids whose stored event carries an ACLED timestamp later than its deletion's."""
    from dashboard.errors import NotFoundError

    held = []
    for event_id in found.ids:
        try:
            store.version(event_id)
        except NotFoundError:
            continue
        held.append(event_id)
    when = dict(zip(found.ids, found.stamps))
    stale = set()
    for at in range(0, len(held), 10_000):
        for event in store.events_by_id(held[at:at + 10_000]):
            stored = revision_order(event.attribute("timestamp"))
            if stored is not None and when.get(event.id) is not None and stored > when[event.id]:
                stale.add(event.id)
    return stale


def _bad(name: str, line: int, field: str, value: object, reason: str) -> DashboardError:
    return DashboardError(f"The ACLED deletions file {name}, line {line}: {field} {shown(value)!r} {reason}; fix "
                          "that row and import the file again (nothing was deleted).")
