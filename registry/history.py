"""The change history: every create, update and delete that goes through the database
session — admin, CLI, imports — is recorded per field with who, when, old and new value.

Who is taken from `acting_as(...)` when a process set it, else the logged-in user, else
"publiek" (a web visitor) or "systeem".
"""

import contextlib
from contextvars import ContextVar
from datetime import date, datetime

from flask import g, has_request_context
from flask_babel import format_date, format_datetime
from flask_login import current_user
from sqlalchemy import ForeignKey, Index, String, Text, and_, insert, inspect, or_
from sqlalchemy.orm import Mapped, Session, mapped_column

from .db import db, listen_once
from .models import (
    Board,
    BoardContact,
    CorrectionRequest,
    Municipality,
    Network,
    ParentWord,
    Partnership,
    PupilCount,
    Role,
    School,
    SchoolSupport,
    SupportArea,
    User,
    utcnow,
)

CREATED, UPDATED, DELETED = "aangemaakt", "gewijzigd", "verwijderd"
# Bookkeeping that changes with every write and says nothing a reader needs.
NOT_RECORDED = {
    "search_text",
    "created_at",
    "updated_at",
    "version",
    "password_hash",
    "session_token",
    "last_login_at",
    "totp_secret",
    "totp_last_step",
    "digest_sent_at",
}
TRACKED = (
    School,
    Board,
    BoardContact,
    Municipality,
    Network,
    SupportArea,
    ParentWord,
    Partnership,
    CorrectionRequest,
    User,
)
# Foreign keys shown by the name of what they point at, under the relationship's name.
REFERENCES = {
    "board_id": ("board", Board),
    "network_id": ("network", Network),
    "municipality_id": ("municipality", Municipality),
    "support_area_id": ("support_area", SupportArea),
    "school_id": ("school", School),
}

# Who reads what the history holds besides the public data: accounts (e-mail addresses,
# roles, activation) are the beheerder's business, the contact details of the people who
# sent corrections, and of the boards' contact persons, the coordinators'.
ACCOUNT_READERS = {Role.BEHEERDER}
SENDER_READERS = {Role.BEHEERDER, Role.COORDINATOR}

_actor: ContextVar[tuple[str, int | None] | None] = ContextVar("history_actor", default=None)
_note: ContextVar[str | None] = ContextVar("history_note", default=None)


class Change(db.Model):
    """One changed field (or one created or deleted record) in the history."""

    __tablename__ = "change_log"
    __table_args__ = (Index("ix_change_log_record", "record_type", "record_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    changed_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(254))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    record_type: Mapped[str] = mapped_column(String(50))
    record_id: Mapped[int]
    record_label: Mapped[str] = mapped_column(String(300))
    action: Mapped[str] = mapped_column(String(20))
    field: Mapped[str | None] = mapped_column(String(100))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(String(300))
    record_version: Mapped[int | None]

    def __str__(self) -> str:
        return f"{self.record_label}: {self.field or self.action}"


def readable_changes(role: Role):
    """The part of the change log this role may read, as a condition for a query."""
    conditions = []
    if role not in ACCOUNT_READERS:
        conditions.append(Change.record_type != User.__tablename__)
    if role not in SENDER_READERS:
        # The people boards name as contacts are no public data either.
        conditions.append(Change.record_type != BoardContact.__tablename__)
        conditions.append(
            or_(
                Change.record_type != CorrectionRequest.__tablename__,
                Change.field.is_(None),
                Change.field != "contact",
            )
        )
    return and_(True, *conditions)


@contextlib.contextmanager
def acting_as(actor: str, user_id: int | None = None):
    """Record the changes inside the block as done by `actor` (e.g. 'seed', 'import: file')."""
    token = _actor.set((actor, user_id))
    try:
        yield
    finally:
        _actor.reset(token)


@contextlib.contextmanager
def noting(note: str):
    """Attach a note to the changes inside the block (e.g. the correction they carry out)."""
    token = _note.set(note)
    try:
        yield
    finally:
        _note.reset(token)


def note_this_request(note: str) -> None:
    """Attach a note to every change the current request makes (ended with the request)."""
    g.history_note_token = _note.set(note)


def _end_request_note(_error) -> None:
    token = g.pop("history_note_token", None)
    if token is not None:
        _note.reset(token)


def current_actor() -> tuple[str, int | None]:
    if (actor := _actor.get()) is not None:
        return actor
    if has_request_context():
        if current_user and current_user.is_authenticated:
            return current_user.email, current_user.id
        return "publiek", None
    return "systeem", None


def _text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value.value) if hasattr(value, "value") else str(value)


def when(moment: datetime | None) -> str:
    """A moment as people read it, in the partnership's time zone: '30 nov 2026 09:12'."""
    # CLDR abbreviates Dutch months with a full stop ("nov."); the issue asks for none.
    return format_datetime(moment, "d MMM y HH:mm").replace(".", "") if moment else ""


def day(value: date | None) -> str:
    """A calendar day as people read it: '30 nov 2026'."""
    return format_date(value, "d MMM y").replace(".", "") if value else ""


def readable_text(text: str) -> str:
    """A stored value as people read it: the ISO dates and moments _text wrote, in words."""
    if len(text) >= 10 and text[4:5] == "-" and text[:4].isdigit():
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            return text
        return day(moment.date()) if len(text) == 10 else when(moment)
    return text


def _owner(obj):
    """The record a change is filed under: a school's support and pupils belong to the school."""
    if isinstance(obj, SchoolSupport | PupilCount):
        return "school", obj.school_id, obj.school
    return type(obj).__tablename__, obj.id, obj


def _child_field(obj) -> str:
    if isinstance(obj, SchoolSupport):
        return (
            f"ondersteuning: {obj.support_area.name if obj.support_area else obj.support_area_id}"
        )
    return pupil_field(obj.reference_date)


def pupil_field(reference_date: date) -> str:
    return f"leerlingen {reference_date.isoformat()}"


def _child_value(obj) -> str | None:
    return _text(obj.level if isinstance(obj, SchoolSupport) else obj.pupils)


def _field_changes(session: Session, obj) -> list[tuple[str, str | None, str | None]]:
    changes = []
    for attribute in inspect(obj).mapper.column_attrs:
        key = attribute.key
        if key in NOT_RECORDED:
            continue
        history = inspect(obj).attrs[key].history
        if not history.has_changes():
            continue
        old = history.deleted[0] if history.deleted else None
        new = history.added[0] if history.added else None
        if old == new:
            continue
        if key in REFERENCES:
            key, model = REFERENCES[key]
            old = session.get(model, old) if old is not None else None
            new = session.get(model, new) if new is not None else None
        changes.append((key, _text(old), _text(new)))
    return changes


def _touch_parent_school(session: Session, _context, _instances) -> None:
    """A change to a school's support or pupils is a change to the school: bump its version."""
    # session.new and .deleted build a fresh set on every access: take them once.
    new, deleted = session.new, session.deleted
    with session.no_autoflush:
        for obj in new | session.dirty | deleted:
            if isinstance(obj, SchoolSupport | PupilCount):
                school = obj.school or (
                    session.get(School, obj.school_id) if obj.school_id else None
                )
                if school is not None and school not in deleted and school not in new:
                    school.updated_at = utcnow()


def change_row(record_type, record_id, label, action, field=None, old=None, new=None, version=None):
    """One history row as the listener writes it; also for code that inserts past the ORM."""
    actor, user_id = current_actor()
    return {
        "changed_at": utcnow(),
        "actor": actor,
        "user_id": user_id,
        "note": _note.get(),
        "record_type": record_type,
        "record_id": record_id,
        "record_label": str(label)[:300],
        "action": action,
        "field": field,
        "old_value": _text(old),
        "new_value": _text(new),
        "record_version": version,
    }


def record(rows: list[dict]) -> None:
    """Write history rows made by change_row (bulk inserts do not pass the listener)."""
    if rows:
        db.session.connection().execute(insert(Change.__table__), rows)


def _record_changes(session: Session, _context) -> None:
    rows = []
    with session.no_autoflush:
        for obj, action, field, old, new in _flushed_changes(session):
            record_type, record_id, owner = _owner(obj)
            version = getattr(owner, "version", None)
            rows.append(change_row(record_type, record_id, owner, action, field, old, new, version))
    if rows:
        session.connection().execute(insert(Change), rows)


def _flushed_changes(session: Session):
    """(record, action, field, old, new) for what this flush creates, changes and deletes; a
    support level or pupil count is a change of its school's field."""
    for obj in session.new:
        yield from _created(obj)
    for obj in session.dirty:
        yield from _changed(session, obj)
    for obj in session.deleted:
        yield from _deleted(obj)


def _created(obj):
    if isinstance(obj, SchoolSupport | PupilCount):
        yield obj, UPDATED, _child_field(obj), None, _child_value(obj)
    elif isinstance(obj, TRACKED):
        yield obj, CREATED, None, None, None


def _changed(session: Session, obj):
    if isinstance(obj, SchoolSupport | PupilCount):
        for field, old, new in _field_changes(session, obj):
            if field in ("level", "pupils"):
                yield obj, UPDATED, _child_field(obj), old, new
    elif isinstance(obj, TRACKED):
        for field, old, new in _field_changes(session, obj):
            yield obj, UPDATED, field, old, new


def _deleted(obj):
    if isinstance(obj, SchoolSupport | PupilCount):
        yield obj, UPDATED, _child_field(obj), _child_value(obj), None
    elif isinstance(obj, TRACKED):
        yield obj, DELETED, None, None, None


def init_app(app) -> None:
    """Every flush keeps the change history (the hooks hold for the whole process)."""
    listen_once(Session, "before_flush", _touch_parent_school)
    listen_once(Session, "after_flush", _record_changes)
    app.teardown_request(_end_request_note)
