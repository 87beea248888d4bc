"""How the admin writes what it stores: enumerations by their labels, fields by their names,
dates and moments as people read them, and what changed in a record since a form was opened."""

from collections.abc import Callable
from datetime import date, datetime
from enum import Enum

from sqlalchemy import select

from ..corrections import STATUS_LABELS
from ..db import db
from ..fields import PRECISION_WORDS
from ..filters import TYPE_LABELS
from ..history import Change, day, readable_text, when
from ..i18n import gettext as _
from ..i18n import lazy_gettext as _l
from ..models import CORRECTION_MAIL_LABELS, ROLE_LABELS

# How the admin names the stored values of enumerations: in forms, lists, filters, details and
# the history alike (each view's column_choices and the converter below read this table).
VALUE_LABELS = {
    "location_precision": PRECISION_WORDS,
    "school_type": TYPE_LABELS,
    "status": STATUS_LABELS,
    "role": ROLE_LABELS,
    "correction_mail": CORRECTION_MAIL_LABELS,
    "record_type": {
        "school": _l("school"),
        "board": _l("bestuur"),
        "municipality": _l("gemeente"),
        "network": _l("netwerk"),
        "support_area": _l("ondersteuningsgebied"),
        "correction_request": _l("correctie"),
        "user_account": _l("account"),
        "board_contact": _l("contactpersoon bestuur"),
        "parent_word": _l("woord van ouders"),
        "partnership": _l("samenwerkingsverband"),
    },
}


def choices(*fields: str) -> dict[str, list[tuple[str, object]]]:
    """Flask-Admin's column_choices for these enumerations, from VALUE_LABELS."""
    return {field: list(VALUE_LABELS[field].items()) for field in fields}


def field_label(field: str | None, labels) -> str:
    """A field of the history as a person names it ('phone' → 'telefoon', 'leerlingen
    2025-10-01' → 'leerlingen 1 okt 2025'); lower case, as it reads inside a table, unless the
    label is an abbreviation (BRIN, KvK-nummer)."""
    if not field:
        return ""
    label = str(labels.get(field, field))
    label = " ".join(readable_text(word) for word in label.split(" "))
    return label[0].lower() + label[1:] if label[1:2].islower() else label


def shown_value(field: str | None, text: str | None) -> str:
    """A value the history stored as text, as the admin shows it: an enumeration by its label,
    a moment as '30 nov 2026 09:12'."""
    if text is None:
        return ""
    if field in VALUE_LABELS:
        return str(VALUE_LABELS[field].get(text, text))
    return readable_text(text)


def changes_since(record, version: int, name: Callable[[str | None], str]) -> list[str]:
    """What others changed in a record after the version a form showed, as the admin says it:
    'telefoon: “…” → “…” (who, when)', each field as `name` calls it."""
    changes = db.session.scalars(
        select(Change)
        .where(
            Change.record_type == record.__tablename__,
            Change.record_id == record.id,
            Change.record_version > version,
        )
        .order_by(Change.changed_at, Change.id)
    )
    return [
        _(
            "%(field)s: “%(old)s” → “%(new)s” (%(who)s, %(when)s)",
            field=name(c.field) or c.action,
            old=shown_value(c.field, c.old_value),
            new=shown_value(c.field, c.new_value),
            who=c.actor,
            when=when(c.changed_at),
        )
        for c in changes
    ]


# Dates and moments as people read them, in lists and details; yes/no in words, not icons;
# an enumeration by its label (Flask-Admin's own shows the member's name: "SO_VSO").
TYPE_FORMATTERS = {
    datetime: lambda _view, value, _name: when(value),
    date: lambda _view, value, _name: day(value),
    bool: lambda _view, value, _name: _("ja") if value else _("nee"),
    Enum: lambda _view, value, name: str(VALUE_LABELS.get(name, {}).get(value, value.value)),
}
