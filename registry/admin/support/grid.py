"""The grid as a page posts it: every row read and checked, the rows someone else changed in
the meantime, and the save of all changed rows in one transaction."""

import contextlib

from flask import abort
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from ...db import db
from ...history import noting
from ...i18n import gettext as _
from ...models import School, SupportArea
from ...uploads import shown
from ...validation import InvalidValue
from ..access import SMALL_NUMBER_RE, record_id
from ..labels import changes_since
from ..views import LABELS
from .rows import (
    LEVELS,
    MAX_VALUE_LENGTH,
    Entry,
    Row,
    clean_date,
    clean_url,
    current_entry,
    differences,
    shown_row,
    write,
)


def entry_from_form(form, school_id: int, areas: list[SupportArea]) -> tuple[Entry, dict]:
    """One row as the grid posted it, and a message per field that cannot be stored."""
    levels = {}
    for area in areas:
        level = form.get(f"n-{school_id}-{area.id}", "")
        if level not in LEVELS:
            abort(400, _("Onbekend niveau; kies geen, basis of extra."))
        levels[area.id] = level
    entry, errors = Entry(levels), {}
    for name, attribute, clean in (("url", "url", clean_url), ("datum", "adopted", clean_date)):
        value = form.get(f"{name}-{school_id}", "")
        try:
            setattr(entry, attribute, clean(value))
        except InvalidValue as error:
            setattr(entry, attribute, value.strip()[:MAX_VALUE_LENGTH])
            errors[name] = str(error.message)
    return entry, errors


def posted_rows(form, schools: list[School], areas: list[SupportArea]):
    """Every school's row as posted (as stored when the page left it out), and the changed ones.

    A row is posted with its version ("v-<id>"); an id that is not a school of this grid is a
    crafted request.
    """
    posted = set()
    for name in form:
        if name.startswith("v-"):
            school_id = record_id(name[2:])
            if school_id is None:
                abort(400, _("%(value)s is geen geldig recordnummer.", value=shown(name[2:])))
            posted.add(school_id)
    if posted - {s.id for s in schools}:
        abort(403, _("Een van de scholen hoort niet bij dit rooster."))
    rows, changed = [], []
    for school in schools:
        if school.id not in posted:
            rows.append(shown_row(school, areas))
            continue
        entry, errors = entry_from_form(form, school.id, areas)
        version = form.get(f"v-{school.id}", "")
        version = int(version) if SMALL_NUMBER_RE.match(version) else 0
        row = Row(school, entry, version, form.get(f"was-{school.id}", ""), errors)
        rows.append(row)
        if entry.key(areas) != row.was:
            changed.append(row)
    return rows, changed


def _label(field: str | None) -> str:
    """A field as the grid's column headings name it ("Schoolondersteuningsprofiel")."""
    return str(LABELS.get(field, field or ""))


def others_changes(school: School, version: int) -> list[str]:
    """What others changed in a school after a version, said as the grid's conflicts say it."""
    return changes_since(school, version, _label)


def find_conflicts(changed: list[Row], areas: list[SupportArea]) -> list[tuple[School, list[str]]]:
    """The changed rows' schools that someone else changed since the page, with their changes."""
    found = []
    for row in changed:
        if row.version != row.school.version:
            found.append((row.school, others_changes(row.school, row.version)))
            # The next save overwrites them deliberately, with their changes in view.
            row.version = row.school.version
            row.was = current_entry(row.school, areas).key(areas)
    return found


def save(changed: list[Row], areas: list[SupportArea], note: str | None) -> tuple[int, int]:
    """Write the changed rows in one transaction: (cells changed, schools changed).

    StaleDataError or IntegrityError means another save committed between the version check
    and this write; it is raised after the rollback, so nothing of this save stays.
    """
    cells = schools = 0
    try:
        with noting(note) if note else contextlib.nullcontext():
            for row in changed:
                cells_here = differences(current_entry(row.school, areas), row.entry, areas)
                cells += len(cells_here)
                schools += bool(cells_here)
                write(row.school, row.entry, areas)
            db.session.commit()
    except (StaleDataError, IntegrityError):
        db.session.rollback()
        raise
    return cells, schools
