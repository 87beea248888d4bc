"""Update rounds: the partnership asks every board to complete and confirm its schools' data.

A coordinator starts a round with a deadline (admin, or `flask --app wsgi rounds start`). Every
board that can be reached (a contact person, or a bestuur account) gets a mail listing its
schools and a link to its round page; a contact without an account gets a bestuur account and,
in the same mail, a link to choose its password. On that page the board confirms each school
("Klopt"), after changing what is wrong; a confirmation dates the school's record for parents.
`rounds remind` (daily) mails the boards that have not finished, at most once a day; `rounds
status` and the dashboard show the progress; `rounds close` ends the round and keeps its record.
"""

import enum
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

import click
from flask import Flask, g, request
from flask.cli import AppGroup
from flask_login import current_user
from sqlalchemy import (
    Date,
    DateTime,
    ForeignKey,
    String,
    Text,
    UniqueConstraint,
    func,
    or_,
    select,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column, relationship

from . import mail
from .account_tokens import Purpose, issue
from .accounts import AccountRefused, new_account
from .db import db
from .history import Change, acting_as, note_this_request
from .i18n import gettext as _
from .i18n import lazy_gettext as _l
from .models import (
    Board,
    Role,
    School,
    SchoolSupport,
    User,
    portable_enum,
    refuse_control_characters,
    utcnow,
)
from .quality import SCHOOL_GAPS
from .validation import InvalidValue

LOCAL = ZoneInfo("Europe/Amsterdam")
# In the last days before the deadline a reminder says so in its subject.
URGENT_DAYS = 7
# The query parameter the round page puts on the forms it links to: their saves are noted
# in the history as part of the round.
ROUND_PARAMETER = "ronde"


def today() -> date:
    """The calendar day in the partnership's time zone."""
    return datetime.now(LOCAL).date()


class Outcome(enum.StrEnum):
    CONFIRMED = "confirmed"  # "Klopt": confirmed as it was
    CHANGED = "changed"  # changed during the round, then confirmed


OUTCOME_LABELS = {Outcome.CONFIRMED: _l("bevestigd"), Outcome.CHANGED: _l("gewijzigd")}


class UpdateRound(db.Model):
    __tablename__ = "update_round"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    started_by: Mapped[str] = mapped_column(String(254))
    deadline: Mapped[date] = mapped_column(Date)
    note: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_by: Mapped[str | None] = mapped_column(String(254))
    # The day the coordinators last got the summary of who has not finished.
    summary_sent_on: Mapped[date | None] = mapped_column(Date)
    # True while open, NULL once closed: unique, so two coordinators starting a round at the
    # same moment cannot both open one (the database refuses the second).
    open_marker: Mapped[bool | None] = mapped_column(default=True, unique=True)

    @property
    def is_open(self) -> bool:
        return self.closed_at is None

    @property
    def history_note(self) -> str:
        """Stored with each change the round brought, and looked for again: one wording, not
        the language of whoever made the change."""
        return f"updateronde {self.id}"

    def __str__(self) -> str:
        return _("Updateronde %(id)d", id=self.id)


# Control characters are refused in a round's note as in every text the registry keeps.
refuse_control_characters(UpdateRound)


class RoundBoard(db.Model):
    """A board in a round: whether it could be reached, and when it was mailed."""

    __tablename__ = "round_board"
    __table_args__ = (UniqueConstraint("round_id", "board_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("update_round.id", ondelete="CASCADE"))
    board_id: Mapped[int] = mapped_column(ForeignKey("board.id", ondelete="CASCADE"))
    reachable: Mapped[bool]
    mailed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    reminded_on: Mapped[date | None] = mapped_column(Date)
    reminders: Mapped[int] = mapped_column(default=0)

    board: Mapped[Board] = relationship()


class RoundSchool(db.Model):
    """A school a board confirmed in a round (changed or as it was), by whom and when."""

    __tablename__ = "round_school"
    __table_args__ = (UniqueConstraint("round_id", "school_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("update_round.id", ondelete="CASCADE"))
    school_id: Mapped[int] = mapped_column(ForeignKey("school.id", ondelete="CASCADE"))
    outcome: Mapped[Outcome] = mapped_column(portable_enum(Outcome, "round_outcome"))
    confirmed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    confirmed_by: Mapped[str] = mapped_column(String(254))


class RoundRefused(Exception):
    """What cannot be done with a round, in words for the person."""


def open_round() -> UpdateRound | None:
    return db.session.scalar(select(UpdateRound).where(UpdateRound.closed_at.is_(None)))


def latest_round() -> UpdateRound | None:
    return db.session.scalar(select(UpdateRound).order_by(UpdateRound.id.desc()).limit(1))


def board_schools(board: Board) -> list[School]:
    return db.session.scalars(
        select(School).where(School.board_id == board.id, School.is_open).order_by(School.name)
    ).all()


def boards_with_schools() -> list[Board]:
    return db.session.scalars(
        select(Board)
        .where(Board.id.in_(select(School.board_id).where(School.is_open)))
        .order_by(Board.label)
    ).all()


def recipients(board: Board) -> list[User]:
    """Who at the board gets the round's mails: its active bestuur accounts and its contact
    persons; a contact without an account gets a bestuur account (invited in the mail)."""
    users = {
        u.email: u
        for u in db.session.scalars(
            select(User).where(User.board_id == board.id, User.active, User.role == Role.BESTUUR)
        )
    }
    for contact in board.contacts:
        email = contact.email.lower()
        if email in users:
            continue
        user = db.session.scalar(select(User).filter_by(email=email))
        if user is None:
            try:
                user = new_account(email, Role.BESTUUR, board.board_number, contact.name)
            except AccountRefused:
                continue
        if user.active:
            users[email] = user
    return list(users.values())


def _mail_board(rnd: UpdateRound, board: Board, kind: str, people: list[User], **extra) -> None:
    schools = board_schools(board)
    link = mail.public_link("rounds.board_page", number=board.board_number)
    for user in people:
        invitation = None
        if not user.has_password:
            invitation = mail.public_link(
                "accounts.invitation", token=issue(user, Purpose.INVITATION)
            )
        mail.queue(
            user.email,
            kind,
            language=user.language,
            round=rnd,
            board=board,
            schools=schools,
            link=link,
            invitation=invitation,
            user=user,
            **extra,
        )


@dataclass
class Started:
    round: UpdateRound
    mailed: list[tuple[Board, int]]  # each board mailed and to how many people
    unreachable: list[Board]


def start(deadline: date, note: str | None, by: str) -> Started:
    """Open a round and mail every reachable board (the caller commits, then delivers)."""
    if open_round() is not None:
        raise RoundRefused(_("Er loopt al een updateronde; sluit die eerst."))
    if deadline <= today():
        raise RoundRefused(_("Kies een uiterste datum na vandaag."))
    try:
        rnd = UpdateRound(deadline=deadline, note=(note or "").strip() or None, started_by=by)
        db.session.add(rnd)
        db.session.flush()
    except InvalidValue as error:
        db.session.rollback()
        raise RoundRefused(str(error.message)) from error
    except IntegrityError as error:  # another round was opened at the same moment
        db.session.rollback()
        raise RoundRefused(_("Er loopt al een updateronde; sluit die eerst.")) from error
    mailed, unreachable = [], []
    for board in boards_with_schools():
        people = recipients(board)
        db.session.add(
            RoundBoard(
                round_id=rnd.id,
                board_id=board.id,
                reachable=bool(people),
                mailed_at=utcnow() if people else None,
            )
        )
        if people:
            _mail_board(rnd, board, "round_started", people)
            mailed.append((board, len(people)))
        else:
            unreachable.append(board)
    return Started(rnd, mailed, unreachable)


def close(rnd: UpdateRound, by: str) -> None:
    rnd.closed_at = utcnow()
    rnd.closed_by = by
    rnd.open_marker = None


# Progress


@dataclass
class BoardProgress:
    board: Board
    schools: int
    confirmed: int
    changed: int
    gaps: int  # open gaps (SCHOOL_GAPS) among its schools, all kinds counted
    reachable: bool

    @property
    def done(self) -> int:
        return self.confirmed + self.changed

    @property
    def waiting(self) -> int:
        return self.schools - self.done

    @property
    def finished(self) -> bool:
        return self.waiting == 0


def gaps_per_school(board: Board | None = None) -> dict[int, list[str]]:
    """For each open school (of one board) the labels of its data gaps."""
    found: dict[int, list[str]] = {}
    for gap in SCHOOL_GAPS:
        query = select(School.id).where(gap.where())
        if board is not None:
            query = query.where(School.board_id == board.id)
        for school_id in db.session.scalars(query):
            found.setdefault(school_id, []).append(str(gap.filter_name))
    return found


def outcomes(rnd: UpdateRound) -> dict[int, RoundSchool]:
    return {
        r.school_id: r for r in db.session.scalars(select(RoundSchool).filter_by(round_id=rnd.id))
    }


def progress(rnd: UpdateRound) -> list[BoardProgress]:
    done = outcomes(rnd)
    gaps = gaps_per_school()
    reachable = {
        r.board_id: r.reachable
        for r in db.session.scalars(select(RoundBoard).filter_by(round_id=rnd.id))
    }
    # The open schools of every board in one query, not one per board (the dashboard lists all).
    schools_of: dict[int, list[int]] = {}
    for school_id, board_id in db.session.execute(
        select(School.id, School.board_id).where(School.is_open)
    ):
        schools_of.setdefault(board_id, []).append(school_id)
    rows = []
    for board in boards_with_schools():
        schools = schools_of.get(board.id, [])
        results = [done[s].outcome for s in schools if s in done]
        rows.append(
            BoardProgress(
                board,
                len(schools),
                results.count(Outcome.CONFIRMED),
                results.count(Outcome.CHANGED),
                sum(len(gaps.get(s, ())) for s in schools),
                reachable.get(board.id, False),
            )
        )
    return rows


@dataclass
class Completeness:
    label: str
    count: int
    total: int

    @property
    def percent(self) -> int:
        return round(100 * self.count / self.total) if self.total else 0


def completeness() -> list[Completeness]:
    """The region's open schools with support recorded, an e-mail address and a website."""
    total = db.session.scalar(select(func.count(School.id)).where(School.is_open))
    fields = [
        (_("Ondersteuning vastgelegd"), School.id.in_(select(SchoolSupport.school_id))),
        (_("E-mailadres"), School.email.is_not(None)),
        (_("Website"), School.website.is_not(None)),
        (_("Gecontroleerd door het bestuur"), School.board_confirmed_on.is_not(None)),
    ]
    return [
        Completeness(
            str(label),
            db.session.scalar(select(func.count(School.id)).where(School.is_open, condition)),
            total,
        )
        for label, condition in fields
    ]


# Confirming


def changed_in_round(rnd: UpdateRound, school: School) -> bool:
    """Whether the school's record changed during the round through the board or its page."""
    board_users = select(User.id).where(User.board_id == school.board_id)
    return bool(
        db.session.scalar(
            select(func.count(Change.id)).where(
                Change.record_type == School.__tablename__,
                Change.record_id == school.id,
                Change.changed_at >= rnd.started_at,
                Change.field.not_in(["board_confirmed_on", "verified_on"]),
                or_(Change.note == rnd.history_note, Change.user_id.in_(board_users)),
            )
        )
    )


def confirm(rnd: UpdateRound, school: School, who: str) -> Outcome:
    """The board says the school's record is right (the caller commits)."""
    outcome = Outcome.CHANGED if changed_in_round(rnd, school) else Outcome.CONFIRMED
    row = db.session.scalar(select(RoundSchool).filter_by(round_id=rnd.id, school_id=school.id))
    if row is None:
        row = RoundSchool(round_id=rnd.id, school_id=school.id, outcome=outcome, confirmed_by=who)
        db.session.add(row)
    row.outcome, row.confirmed_by, row.confirmed_at = outcome, who, utcnow()
    school.board_confirmed_on = today()
    school.verified_on = today()
    return outcome


# Reminders


def remind(rnd: UpdateRound) -> tuple[list[Board], bool]:
    """Mail each unfinished, reachable board not reminded today; the coordinators get one
    summary a day. Returns the boards mailed and whether the summary went (caller commits)."""
    day = today()
    urgent = (rnd.deadline - day).days <= URGENT_DAYS
    kept = {
        r.board_id: r for r in db.session.scalars(select(RoundBoard).filter_by(round_id=rnd.id))
    }
    reminded, unfinished = [], []
    for row in progress(rnd):
        if row.finished:
            continue
        unfinished.append(row)
        state = kept.get(row.board.id)
        if state is None:
            state = RoundBoard(round_id=rnd.id, board_id=row.board.id, reachable=False)
            db.session.add(state)
        if state.reminded_on == day:
            continue
        people = recipients(row.board)
        state.reachable = bool(people)
        if not people:
            continue
        _mail_board(
            rnd,
            row.board,
            "round_reminder",
            people,
            urgent=urgent,
            days_left=(rnd.deadline - day).days,
            waiting=row.waiting,
        )
        state.reminded_on = day
        state.reminders += 1
        reminded.append(row.board)
    summary = False
    if unfinished and rnd.summary_sent_on != day:
        for user in db.session.scalars(
            select(User).where(User.active, User.role.in_([Role.COORDINATOR, Role.BEHEERDER]))
        ):
            mail.queue(
                user.email,
                "round_summary",
                language=user.language,
                round=rnd,
                unfinished=unfinished,
                link=mail.public_link("rounds.index"),
            )
        rnd.summary_sent_on = day
        summary = True
    return reminded, summary


# The round's note on what the board changes through the forms its page links to.


def _note_round_changes() -> None:
    """A form opened from the round page (?ronde=N) saves with the round in the history."""
    number = request.args.get(ROUND_PARAMETER, "")
    if not (number.isdigit() and len(number) < 10):
        return
    if not (current_user and current_user.is_authenticated):
        return
    rnd = open_round()
    if rnd is not None and rnd.id == int(number):
        note_this_request(rnd.history_note)
        g.update_round = rnd.id


# The command line


rounds_cli = AppGroup("rounds", help="Updaterondes: besturen controleren hun scholen.")


def _parse_day(_ctx, _param, value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is geen datum als 2027-05-12.") from None


@rounds_cli.command("start")
@click.option("--deadline", required=True, callback=_parse_day, help="Uiterste datum, JJJJ-MM-DD.")
@click.option("--note", help="Een toelichting voor de besturen, in elke mail.")
def start_command(deadline: date, note: str | None) -> None:
    """Start een ronde: mail elk bestuur met een contactpersoon of een bestuursaccount."""
    with acting_as("command line"):
        try:
            started = start(deadline, note, "command line")
        except RoundRefused as refused:
            raise click.ClickException(str(refused)) from None
        db.session.commit()
    mail.deliver_queued()
    click.echo(f"{started.round} gestart; uiterste datum {deadline:%d-%m-%Y}.")
    for board, people in started.mailed:
        who = "1 persoon" if people == 1 else f"{people} personen"
        click.echo(f"  gemaild   {board.board_number}  {board.label}  ({who})")
    for board in started.unreachable:
        click.echo(f"  niet te bereiken  {board.board_number}  {board.label}")


def _status_lines(rnd: UpdateRound) -> list[str]:
    lines = []
    for row in progress(rnd):
        lines.append(
            f"{row.board.board_number}  {row.board.label[:40]:<40}  "
            f"{row.done:>2} van {row.schools:>2} klaar ({row.confirmed} bevestigd, "
            f"{row.changed} gewijzigd), {row.waiting} nog niet, {row.gaps} open gaten"
            + ("" if row.reachable else "  [niet te bereiken]")
        )
    return lines


@rounds_cli.command("status")
def status_command() -> None:
    """Eén regel per bestuur: scholen bevestigd, gewijzigd, nog niet, en de open gaten."""
    rnd = open_round() or latest_round()
    if rnd is None:
        raise click.ClickException("Er is nog geen updateronde geweest.")
    state = "loopt" if rnd.is_open else "gesloten"
    click.echo(f"{rnd} ({state}), uiterste datum {rnd.deadline:%d-%m-%Y}")
    for line in _status_lines(rnd):
        click.echo(line)
    for field in completeness():
        click.echo(f"regio: {field.label}: {field.percent}% ({field.count} van {field.total})")


@rounds_cli.command("remind")
def remind_command() -> None:
    """Herinner de besturen die nog niet klaar zijn (voor een dagelijkse timer; hooguit één
    keer per dag)."""
    rnd = open_round()
    if rnd is None:
        click.echo("Er loopt geen updateronde.")
        return
    with acting_as("command line"):
        reminded, summary = remind(rnd)
        db.session.commit()
    mail.deliver_queued()
    click.echo(
        f"Herinnerd: {len(reminded)} besturen; overzicht aan coördinatoren: "
        + ("verstuurd" if summary else "vandaag al verstuurd of niet nodig")
        + "."
    )


@rounds_cli.command("close")
def close_command() -> None:
    """Sluit de open ronde; het verslag en de cijfers blijven."""
    rnd = open_round()
    if rnd is None:
        raise click.ClickException("Er loopt geen updateronde.")
    close(rnd, "command line")
    db.session.commit()
    click.echo(f"{rnd} gesloten.")


def init_app(app: Flask) -> None:
    app.before_request(_note_round_changes)
    app.cli.add_command(rounds_cli)
