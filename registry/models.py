"""The domain: municipalities, networks, boards, schools, pupil counts and support; the accounts
that maintain them and the log of DUO imports."""

import enum
import secrets
from datetime import UTC, date, datetime
from functools import partial

from flask import current_app
from sqlalchemy import (
    CheckConstraint,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
    func,
    inspect,
    or_,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import (
    Mapped,
    Session,
    declared_attr,
    mapped_column,
    relationship,
    validates,
)
from werkzeug.security import check_password_hash, generate_password_hash

from . import validation
from .db import db
from .i18n import lazy_gettext as _l
from .text import fold


def utcnow() -> datetime:
    return datetime.now(UTC)


def portable_enum(cls: type[enum.Enum], name: str) -> Enum:
    """A portable enum: a VARCHAR with a CHECK constraint, storing the member's value."""
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        values_callable=lambda members: [member.value for member in members],
        validate_strings=True,
    )


class SchoolType(enum.StrEnum):
    BAO = "BAO"
    SBO = "SBO"
    SO = "SO"
    SO_VSO = "SO+VSO"


class LocationPrecision(enum.StrEnum):
    """How exactly a school's point is known, from best to worst."""

    BUILDING = "building"
    PC6 = "pc6"
    PC4 = "pc4"


class SupportLevel(enum.StrEnum):
    BASIS = "basis"
    EXTRA = "extra"


class CorrectionStatus(enum.StrEnum):
    OPEN = "open"
    ACCEPTED = "accepted"  # the registry changed as the correction said (perhaps edited)
    UNCHANGED = "unchanged"  # handled without a change (already right, or done otherwise)
    REJECTED = "rejected"


class Timestamped:
    """Created and updated times, and a version that stops two editors overwriting each other.

    SQLAlchemy raises StaleDataError when an UPDATE finds the row at another version than
    it read; the admin carries the version in its forms to tell the user before saving.
    """

    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), default=utcnow, onupdate=utcnow
    )
    version: Mapped[int] = mapped_column(default=1, server_default="1")

    @declared_attr.directive
    def __mapper_args__(cls):
        return {"version_id_col": cls.__table__.c.version}


class Municipality(Timestamped, db.Model):
    """A gemeente that belongs to the partnership wholly or for some postcode areas."""

    __tablename__ = "municipality"

    id: Mapped[int] = mapped_column(primary_key=True)
    cbs_code: Mapped[str] = mapped_column(String(6), unique=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    province: Mapped[str] = mapped_column(String(50))

    postcode_areas: Mapped[list["PartnershipPostcodeArea"]] = relationship(
        back_populates="municipality",
        cascade="all, delete-orphan",
        order_by="PartnershipPostcodeArea.pc4",
    )
    schools: Mapped[list["School"]] = relationship(back_populates="municipality")

    @property
    def wholly_in_partnership(self) -> bool:
        """A municipality without listed postcode areas belongs to the partnership entirely."""
        return not self.postcode_areas

    @property
    def label(self) -> str:
        return self.name

    def __str__(self) -> str:
        return self.name


class PartnershipPostcodeArea(db.Model):
    """A 4-digit postcode area by which a partly included municipality belongs."""

    __tablename__ = "partnership_postcode_area"
    __table_args__ = (UniqueConstraint("municipality_id", "pc4"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    municipality_id: Mapped[int] = mapped_column(
        ForeignKey("municipality.id", ondelete="CASCADE"), index=True
    )
    pc4: Mapped[str] = mapped_column(String(4))

    municipality: Mapped[Municipality] = relationship(back_populates="postcode_areas")

    def __str__(self) -> str:
        return self.pc4


class Network(Timestamped, db.Model):
    """A regional network of schools (since 2025); seeded unconfirmed for coordinators."""

    __tablename__ = "network"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    contact_name: Mapped[str | None] = mapped_column(String(200))
    contact_email: Mapped[str | None] = mapped_column(String(254))
    contact_phone: Mapped[str | None] = mapped_column(String(30))
    confirmed: Mapped[bool] = mapped_column(default=False)

    schools: Mapped[list["School"]] = relationship(back_populates="network")

    @property
    def label(self) -> str:
        return self.name

    def __str__(self) -> str:
        return self.name


class ContactDetails:
    """A visiting address and the ways to reach someone: a board's, the partnership's."""

    street: Mapped[str | None] = mapped_column(String(200))
    house_number: Mapped[str | None] = mapped_column(String(20))
    postcode: Mapped[str | None] = mapped_column(String(7))
    place: Mapped[str | None] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(30))
    email: Mapped[str | None] = mapped_column(String(254))
    website: Mapped[str | None] = mapped_column(String(300))


# Their names in the order forms and documents list them.
CONTACT_FIELDS = ("street", "house_number", "postcode", "place", "phone", "email", "website")


class Board(Timestamped, ContactDetails, db.Model):
    """A bevoegd gezag: the legal body that runs one or more schools."""

    __tablename__ = "board"

    id: Mapped[int] = mapped_column(primary_key=True)
    board_number: Mapped[str] = mapped_column(String(5), unique=True)
    # Empty for a board first met in DUO's address file, which gives only its number.
    name: Mapped[str | None] = mapped_column(String(200))
    other_names: Mapped[str | None] = mapped_column(Text)
    kvk_number: Mapped[str | None] = mapped_column(String(8))
    dissolved_on: Mapped[date | None] = mapped_column(Date)

    schools: Mapped[list["School"]] = relationship(back_populates="board")
    contacts: Mapped[list["BoardContact"]] = relationship(
        back_populates="board", cascade="all, delete-orphan", order_by="BoardContact.name"
    )

    @hybrid_property
    def active(self) -> bool:
        return self.dissolved_on is None

    @hybrid_property
    def label(self) -> str:
        """The name, or the number while the name is unknown."""
        return self.name or self.board_number

    @label.inplace.expression
    @classmethod
    def _label_expression(cls):
        return func.coalesce(cls.name, cls.board_number)

    def __str__(self) -> str:
        return f"{self.name} ({self.board_number})" if self.name else self.board_number


class BoardContact(db.Model):
    """A person at a board whom the partnership asks about its schools (in update rounds)."""

    __tablename__ = "board_contact"
    __table_args__ = (UniqueConstraint("board_id", "email"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("board.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    # What the person does at the board ("bestuurssecretaris", "IB-coördinator").
    position: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    board: Mapped[Board] = relationship(back_populates="contacts")

    def __str__(self) -> str:
        return f"{self.name} <{self.email}>"


class School(Timestamped, db.Model):
    """A school location (vestiging), known to the public by its vestigingscode."""

    __tablename__ = "school"
    __table_args__ = (
        CheckConstraint(
            "substr(vestigingscode, 1, 4) = brin", name="vestigingscode_starts_with_brin"
        ),
        CheckConstraint(
            "(latitude IS NULL AND longitude IS NULL AND location_precision IS NULL) OR"
            " (latitude IS NOT NULL AND longitude IS NOT NULL"
            " AND location_precision IS NOT NULL)",
            name="location_complete",
        ),
        CheckConstraint("latitude BETWEEN -90 AND 90", name="latitude_range"),
        CheckConstraint("longitude BETWEEN -180 AND 180", name="longitude_range"),
        CheckConstraint(
            "closed_on IS NULL OR opened_on IS NULL OR closed_on >= opened_on",
            name="closed_after_opened",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    vestigingscode: Mapped[str] = mapped_column(String(6), unique=True)
    brin: Mapped[str] = mapped_column(String(4), index=True)
    name: Mapped[str] = mapped_column(String(200))
    school_type: Mapped[SchoolType] = mapped_column(portable_enum(SchoolType, "school_type"))
    denomination: Mapped[str | None] = mapped_column(String(100))

    street: Mapped[str | None] = mapped_column(String(200))
    house_number: Mapped[str | None] = mapped_column(String(20))
    postcode: Mapped[str | None] = mapped_column(String(7))
    place: Mapped[str | None] = mapped_column(String(100))
    municipality_id: Mapped[int] = mapped_column(ForeignKey("municipality.id"), index=True)
    board_id: Mapped[int] = mapped_column(ForeignKey("board.id"), index=True)
    network_id: Mapped[int | None] = mapped_column(ForeignKey("network.id"), index=True)

    phone: Mapped[str | None] = mapped_column(String(30))
    email: Mapped[str | None] = mapped_column(String(254))
    website: Mapped[str | None] = mapped_column(String(300))
    # The special education a location gives, as DUO's file 09 writes it ("SO ZMLK + VSO
    # ZMLK", cluster "3"); registry/special.py says it in plain words.
    special_education: Mapped[str | None] = mapped_column(String(200))
    cluster: Mapped[str | None] = mapped_column(String(10))

    latitude: Mapped[float | None]
    longitude: Mapped[float | None]
    location_precision: Mapped[LocationPrecision | None] = mapped_column(
        portable_enum(LocationPrecision, "location_precision")
    )

    opened_on: Mapped[date | None] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date)
    # Folded words of the fields people search on, kept current on every flush.
    search_text: Mapped[str] = mapped_column(Text, default="", server_default="")
    support_profile_url: Mapped[str | None] = mapped_column(String(500))
    support_profile_adopted_on: Mapped[date | None] = mapped_column(Date)
    verified_on: Mapped[date | None] = mapped_column(Date)
    # When the school's board last confirmed its record in an update round (rounds.py).
    board_confirmed_on: Mapped[date | None] = mapped_column(Date)

    municipality: Mapped[Municipality] = relationship(back_populates="schools")
    board: Mapped[Board] = relationship(back_populates="schools")
    network: Mapped[Network | None] = relationship(back_populates="schools")
    pupil_counts: Mapped[list["PupilCount"]] = relationship(
        back_populates="school", cascade="all, delete-orphan", order_by="PupilCount.reference_date"
    )
    support_offers: Mapped[list["SchoolSupport"]] = relationship(
        back_populates="school", cascade="all, delete-orphan"
    )

    @hybrid_property
    def is_open(self) -> bool:
        return self.closed_on is None or self.closed_on > date.today()  # noqa: DTZ011

    @is_open.inplace.expression
    @classmethod
    def _is_open_expression(cls):
        return or_(cls.closed_on.is_(None), cls.closed_on > date.today())  # noqa: DTZ011

    def refresh_search_text(
        self, board: "Board | None", municipality: "Municipality | None"
    ) -> None:
        self.search_text = search_text(
            self.vestigingscode,
            self.name,
            self.street,
            self.place,
            self.postcode,
            board,
            municipality,
        )

    def __str__(self) -> str:
        return f"{self.name} ({self.vestigingscode})"


def search_text(
    vestigingscode: str,
    name: str,
    street: str | None,
    place: str | None,
    postcode: str | None,
    board: Board | None,
    municipality: Municipality | None,
) -> str:
    """Fold every searchable field of a school into one string, each word after a space.

    A word-prefix search is then `LIKE '% word%'`, the same on SQLite and PostgreSQL.
    """
    postcode = postcode or ""
    parts = [
        vestigingscode,
        name,
        street,
        place,
        postcode,
        postcode.replace(" ", ""),
        board.name if board else "",
        board.other_names if board else "",
        municipality.name if municipality else "",
    ]
    return " " + fold(" ".join(p for p in parts if p))


class PupilCount(db.Model):
    """DUO's pupil count for one school on one reference date (1 October)."""

    __tablename__ = "pupil_count"
    __table_args__ = (
        UniqueConstraint("school_id", "reference_date"),
        CheckConstraint("pupils >= 0", name="pupils_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id", ondelete="CASCADE"), index=True)
    reference_date: Mapped[date] = mapped_column(Date, index=True)
    pupils: Mapped[int] = mapped_column(Integer)

    school: Mapped[School] = relationship(back_populates="pupil_counts")

    def __str__(self) -> str:
        return f"{self.reference_date:%d-%m-%Y}: {self.pupils}"


class SupportArea(db.Model):
    """One of the partnership's own support categories (learning, behaviour, ...)."""

    __tablename__ = "support_area"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(50), unique=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    name_en: Mapped[str] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(Text)
    position: Mapped[int] = mapped_column(default=0)

    offers: Mapped[list["SchoolSupport"]] = relationship(
        back_populates="support_area", cascade="all, delete-orphan"
    )

    def __str__(self) -> str:
        return self.name


class ParentWord(db.Model):
    """A word parents use for the support they look for, and the area that covers it
    (parent_words.py): 'dyslexie' -> leren."""

    __tablename__ = "parent_word"

    id: Mapped[int] = mapped_column(primary_key=True)
    # As a coordinator typed it; searches compare it folded (case, accents, punctuation).
    word: Mapped[str] = mapped_column(String(60), unique=True)
    support_area_id: Mapped[int] = mapped_column(
        ForeignKey("support_area.id", ondelete="CASCADE"), index=True
    )

    support_area: Mapped["SupportArea"] = relationship()

    def __str__(self) -> str:
        return self.word


class SchoolSupport(db.Model):
    """That a school offers support in one area, at the basic or the extra level."""

    __tablename__ = "school_support"
    __table_args__ = (UniqueConstraint("school_id", "support_area_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id", ondelete="CASCADE"), index=True)
    support_area_id: Mapped[int] = mapped_column(
        ForeignKey("support_area.id", ondelete="CASCADE"), index=True
    )
    level: Mapped[SupportLevel] = mapped_column(portable_enum(SupportLevel, "support_level"))
    note: Mapped[str | None] = mapped_column(Text)

    school: Mapped[School] = relationship(back_populates="support_offers")
    support_area: Mapped[SupportArea] = relationship(back_populates="offers")

    def __str__(self) -> str:
        return f"{self.support_area}: {self.level.value}"


class Partnership(Timestamped, ContactDetails, db.Model):
    """The samenwerkingsverband's own contact and how admission to SBO and SO works: one row,
    made by its migration and filled in by coordinators; no public source gives the values."""

    __tablename__ = "partnership"
    __table_args__ = (CheckConstraint("id = 1", name="one_row"),)

    id: Mapped[int] = mapped_column(primary_key=True, default=1)
    name: Mapped[str | None] = mapped_column(String(200))
    # How a toelaatbaarheidsverklaring for SBO or SO is asked for, in a few lines for parents.
    admission: Mapped[str | None] = mapped_column(Text)

    def __str__(self) -> str:
        return self.name or "samenwerkingsverband"


class CorrectionRequest(db.Model):
    """A correction a member of the public proposed for a school, for coordinators to judge."""

    __tablename__ = "correction_request"

    id: Mapped[int] = mapped_column(primary_key=True)
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id", ondelete="CASCADE"), index=True)
    field: Mapped[str] = mapped_column(String(50))
    proposed_value: Mapped[str] = mapped_column(Text)
    # An address is proposed in the parts the school record keeps (the text reads them too).
    proposed_street: Mapped[str | None] = mapped_column(String(200))
    proposed_house_number: Mapped[str | None] = mapped_column(String(20))
    proposed_postcode: Mapped[str | None] = mapped_column(String(7))
    proposed_place: Mapped[str | None] = mapped_column(String(100))
    contact: Mapped[str | None] = mapped_column(String(200))
    # The language the sender wrote in: the mail with the outcome is in it too.
    language: Mapped[str | None] = mapped_column(String(5))
    status: Mapped[CorrectionStatus] = mapped_column(
        portable_enum(CorrectionStatus, "correction_status"),
        default=CorrectionStatus.OPEN,
        index=True,
    )
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    handled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    handled_by: Mapped[str | None] = mapped_column(String(254))
    reason: Mapped[str | None] = mapped_column(Text)
    # What the registry took over, as saved (the coordinator may have edited the proposal).
    applied_value: Mapped[str | None] = mapped_column(Text)

    school: Mapped[School] = relationship()

    def __str__(self) -> str:
        return f"correctie #{self.id}: {self.field}"


# Accounts: who may log in to the admin, with which rights.


class Role(enum.StrEnum):
    BEHEERDER = "beheerder"  # everything, including accounts
    COORDINATOR = "coordinator"  # edits schools, boards, networks, municipalities, support
    BESTUUR = "bestuur"  # board staff: edits their own board's schools only
    MEDEWERKER = "medewerker"  # staff: reads and exports


ROLE_LABELS = {
    Role.BEHEERDER: _l("Beheerder"),
    Role.COORDINATOR: _l("Coördinator"),
    Role.BESTUUR: _l("Bestuursmedewerker"),
    Role.MEDEWERKER: _l("Medewerker"),
}


class CorrectionMail(enum.StrEnum):
    DIRECT = "direct"  # a mail for each new correction
    DAILY = "daily"  # one digest a day (`flask mail digest`)
    NEVER = "never"


CORRECTION_MAIL_LABELS = {
    CorrectionMail.DIRECT: _l("Meteen, per correctie"),
    CorrectionMail.DAILY: _l("Eén keer per dag, samengevat"),
    CorrectionMail.NEVER: _l("Nooit"),
}


def new_token() -> str:
    return secrets.token_urlsafe(32)


class User(db.Model):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    # The rights: changing any of them ends the account's sessions (see the listener below).
    # active_history loads the old value before a change, so that assigning the same value
    # again, as Flask-Admin does with every field on each save, counts as no change.
    role: Mapped[Role] = mapped_column(portable_enum(Role, "user_role"), active_history=True)
    board_id: Mapped[int | None] = mapped_column(ForeignKey("board.id"), active_history=True)
    active: Mapped[bool] = mapped_column(default=True, active_history=True)
    # Empty until the person chooses a password through their invitation link.
    password_hash: Mapped[str] = mapped_column(String(255), default="")
    session_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_token)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]
    # The second factor (second_factor.py): an authenticator app's secret, the last time step
    # a code was accepted for (no code works twice), and since when it is set up (the
    # history shows this one, never the secret).
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_last_step: Mapped[int | None]
    second_factor_since: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Which mails about corrections the public reported this account wants (notifications.py).
    correction_mail: Mapped[CorrectionMail] = mapped_column(
        portable_enum(CorrectionMail, "correction_mail"), default=CorrectionMail.DIRECT
    )
    digest_sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    language: Mapped[str] = mapped_column(String(5), default="nl")

    board: Mapped[Board | None] = relationship(active_history=True)

    @validates("email")
    def _check_email(self, _key, value):
        return validation.email(value).lower()

    def set_password(self, password: str) -> None:
        """Store a new password and end every session that used the old one."""
        self.password_hash = generate_password_hash(
            password, method=current_app.config["PASSWORD_HASH_METHOD"]
        )
        self.session_token = new_token()

    def check_password(self, password: str) -> bool:
        return bool(self.password_hash) and check_password_hash(self.password_hash, password)

    @property
    def has_password(self) -> bool:
        return bool(self.password_hash)

    @property
    def needs_second_factor(self) -> bool:
        """Whether logging in takes a code too: set up, or required for the role."""
        return self.totp_secret is not None or self.role.value in current_app.config["MFA_ROLES"]

    # Flask-Login's user protocol.
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return self.session_token

    def has_role(self, *roles: Role) -> bool:
        return self.role in roles

    def __str__(self) -> str:
        return self.email


RIGHTS = ("role", "board_id", "board", "active")


@event.listens_for(Session, "before_flush")
def _end_sessions_on_new_rights(session: Session, _context, _instances) -> None:
    """A new role or board, or (de)activation, ends the account's sessions wherever it is made."""
    for obj in session.dirty:
        if isinstance(obj, User) and any(
            inspect(obj).attrs[key].history.has_changes() for key in RIGHTS
        ):
            obj.session_token = new_token()


class ImportLog(db.Model):
    """One applied DUO import: when, who, which files (with checksums) and what it changed."""

    __tablename__ = "duo_import"

    id: Mapped[int] = mapped_column(primary_key=True)
    applied_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    actor: Mapped[str] = mapped_column(String(254))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    # One line per file: "<sha256>  <file name>", as sha256sum writes them.
    files: Mapped[str] = mapped_column(Text)
    area: Mapped[str] = mapped_column(String(20))
    selection: Mapped[str] = mapped_column(Text)
    new: Mapped[int] = mapped_column(default=0)
    closed: Mapped[int] = mapped_column(default=0)
    changed: Mapped[int] = mapped_column(default=0)
    board_changes: Mapped[int] = mapped_column(default=0)
    pupil_counts: Mapped[int] = mapped_column(default=0)

    def __str__(self) -> str:
        return f"DUO-import {self.applied_at:%Y-%m-%d %H:%M}"


@event.listens_for(Session, "before_flush")
def _refresh_search_text(session: Session, _context, _instances) -> None:
    """Keep School.search_text in step with the school, its board and its municipality."""
    with session.no_autoflush:
        schools = {obj for obj in session.new | session.dirty if isinstance(obj, School)}
        for obj in session.dirty:
            if isinstance(obj, Board | Municipality):
                schools.update(obj.schools)
        for school in schools:
            board = school.board or (
                session.get(Board, school.board_id) if school.board_id else None
            )
            municipality = school.municipality or (
                session.get(Municipality, school.municipality_id)
                if school.municipality_id
                else None
            )
            school.refresh_search_text(board, municipality)


def _check_on_set(model, key: str, check) -> None:
    """Pass every value set on the attribute, by anyone, through check; it returns what is kept."""
    event.listen(getattr(model, key), "set", lambda _t, value, _o, _i: check(value), retval=True)


def refuse_control_characters(*models) -> None:
    """Every text column of these models refuses control characters, whoever sets it (forms,
    accepted corrections, the command line, imports): one rule instead of one per field."""
    for model in models:
        for column in model.__table__.columns:
            if isinstance(column.type, String):
                key = model.__mapper__.get_property_by_column(column).key
                multiline = isinstance(column.type, Text)
                _check_on_set(
                    model, key, partial(validation.plain_text, field=key, multiline=multiline)
                )


def apply_rules(*models) -> None:
    """Check every attribute validation.RULES names whenever it is set, keeping its canonical
    form: listeners derived from the table, so a new rule is one line there, not a @validates."""
    for model in models:
        for attribute in model.__mapper__.column_attrs:
            if attribute.key in validation.RULES:
                _check_on_set(model, attribute.key, partial(validation.check, attribute.key))


refuse_control_characters(
    Municipality,
    Network,
    Board,
    BoardContact,
    School,
    SupportArea,
    ParentWord,
    SchoolSupport,
    CorrectionRequest,
    Partnership,
)
# After the control characters: a rule trims spaces, and must not hide a pasted line break.
apply_rules(
    Municipality,
    PartnershipPostcodeArea,
    Network,
    Board,
    BoardContact,
    School,
    PupilCount,
    SupportArea,
    SchoolSupport,
    CorrectionRequest,
    Partnership,
)
