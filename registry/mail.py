"""Mail: every message goes through an outbox in the database, then to SMTP or to a file.

A message is written to the outbox inside the transaction that causes it, so it exists exactly
when what it reports does. It is delivered after the request has answered (in a thread, so no
visitor waits on a slow mail server), or by `flask --app wsgi mail retry` on a timer when that
failed. Each delivery first claims its row (one UPDATE that only one process can win), so a
message is never sent twice by two processes; a claim left behind by a process that died while
sending is taken up again after CLAIM_EXPIRES (the same Message-ID, so a receiving server can
tell the copy). Without REGISTRY_MAIL_SERVER (as under `make run`) each message is written as
an .eml file to instance/mail/ and the log says where.
"""

import contextlib
import enum
import functools
import logging
import smtplib
import ssl
import threading
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from pathlib import Path

import click
from flask import Flask, current_app, g, has_request_context, render_template, url_for
from flask.cli import AppGroup
from flask_babel import force_locale
from sqlalchemy import DateTime, String, Text, or_, select, update
from sqlalchemy.orm import Mapped, mapped_column

from .db import db
from .i18n import gettext, ngettext
from .models import portable_enum, utcnow

log = logging.getLogger(__name__)

# A claim older than this belongs to a process that died while sending: deliver it again.
CLAIM_EXPIRES = timedelta(minutes=15)
# Waits between attempts, then every hour: a mail server that is down for a day loses nothing.
BACKOFF = (timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=30), timedelta(hours=1))
SUBJECT_PREFIX = "[Register SWV PO 22.03] "


class MailStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"  # tried, will be tried again


class OutboxMail(db.Model):
    """One message to one person; its body is emptied once delivered (it may hold a link that
    opens an account, which must not outlive its use in the database)."""

    __tablename__ = "mail_outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    recipient: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(300))
    kind: Mapped[str] = mapped_column(String(50))
    text_body: Mapped[str | None] = mapped_column(Text)
    html_body: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[str] = mapped_column(String(250), unique=True)
    status: Mapped[MailStatus] = mapped_column(
        portable_enum(MailStatus, "mail_status"), default=MailStatus.PENDING, index=True
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(String(500))

    def __str__(self) -> str:
        return f"{self.kind} → {self.recipient}"


def public_link(endpoint: str, **values) -> str:
    """An absolute link for a mail: on PUBLIC_URL, whichever host the request came in on."""
    base = current_app.config["PUBLIC_URL"].rstrip("/")
    if has_request_context():
        return base + url_for(endpoint, **values)
    with current_app.test_request_context(base_url=base):
        return base + url_for(endpoint, **values)


def queue(recipient: str, kind: str, language: str = "nl", **context) -> OutboxMail:
    """Write the mail `kind` (templates/mail/KIND.txt and .html) for `recipient` to the outbox,
    in the caller's transaction; it is delivered once that commits (see deliver_queued)."""
    language = language if language in current_app.config["LANGUAGES"] else "nl"
    with force_locale(language):
        # Plain text is not HTML: its translations take their values unescaped.
        plain = {"_": gettext, "ngettext": ngettext}
        subject = render_template(f"mail/{kind}.subject.txt", **plain, **context).strip()
        text_body = render_template(f"mail/{kind}.txt", **plain, **context)
        html_body = render_template(f"mail/{kind}.html", subject=subject, **context)
    domain = current_app.config["MAIL_SENDER"].rpartition("@")[2].strip("> ") or "localhost"
    mail = OutboxMail(
        recipient=recipient,
        kind=kind,
        subject=SUBJECT_PREFIX + " ".join(subject.split()),
        text_body=text_body,
        html_body=html_body,
        message_id=make_msgid(domain=domain),
    )
    db.session.add(mail)
    db.session.flush()
    g.setdefault("queued_mail", []).append(mail.id)
    return mail


def message(mail: OutboxMail, sender: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = mail.recipient
    msg["Subject"] = mail.subject
    msg["Message-ID"] = mail.message_id
    msg["Date"] = mail.created_at
    msg["Auto-Submitted"] = "auto-generated"
    msg.set_content(mail.text_body or "")
    if mail.html_body:
        msg.add_alternative(mail.html_body, subtype="html")
    return msg


class FileTransport:
    """No mail server configured: each message becomes a file a person can open."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def send(self, msg: EmailMessage, mail: OutboxMail) -> None:
        path = self.folder / f"{mail.created_at:%Y%m%d-%H%M%S}-{mail.id:06d}-{mail.kind}.eml"
        path.write_bytes(bytes(msg))
        log.info("mail %s voor %s geschreven naar %s", mail.kind, mail.recipient, path)

    def close(self) -> None:
        pass


class SMTPTransport:
    """One connection for a batch of messages, opened on the first."""

    def __init__(self, config) -> None:
        self.config = config
        self.connection: smtplib.SMTP | None = None

    def open(self) -> smtplib.SMTP:
        c = self.config
        timeout = c["MAIL_TIMEOUT"]
        if c["MAIL_USE_SSL"]:
            context = ssl.create_default_context()
            connection = smtplib.SMTP_SSL(
                c["MAIL_SERVER"], c["MAIL_PORT"], timeout=timeout, context=context
            )
        else:
            connection = smtplib.SMTP(c["MAIL_SERVER"], c["MAIL_PORT"], timeout=timeout)
            if c["MAIL_USE_TLS"]:
                connection.starttls(context=ssl.create_default_context())
        if c["MAIL_USERNAME"]:
            connection.login(c["MAIL_USERNAME"], c["MAIL_PASSWORD"] or "")
        return connection

    def send(self, msg: EmailMessage, mail: OutboxMail) -> None:
        if self.connection is None:
            self.connection = self.open()
        self.connection.send_message(msg)
        log.info("mail %s verstuurd aan %s", mail.kind, mail.recipient)

    def close(self) -> None:
        if self.connection is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                self.connection.quit()


def transport():
    config = current_app.config
    if config.get("MAIL_SERVER"):
        return SMTPTransport(config)
    return FileTransport(Path(current_app.instance_path) / "mail")


def _due(now: datetime):
    return or_(
        (OutboxMail.status.in_([MailStatus.PENDING, MailStatus.FAILED]))
        & (OutboxMail.next_attempt_at <= now),
        (OutboxMail.status == MailStatus.SENDING) & (OutboxMail.claimed_at < now - CLAIM_EXPIRES),
    )


def _claim(mail_id: int, now: datetime) -> OutboxMail | None:
    """Take one due message for this process, or None when another took it first."""
    claimed = db.session.execute(
        update(OutboxMail)
        .where(OutboxMail.id == mail_id, _due(now))
        .values(status=MailStatus.SENDING, claimed_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return db.session.get(OutboxMail, mail_id) if claimed else None


def deliver(ids: list[int] | None = None) -> tuple[int, int]:
    """Deliver the due messages (only `ids` when given); returns (sent, failed)."""
    now = utcnow()
    query = select(OutboxMail.id).where(_due(now)).order_by(OutboxMail.id)
    if ids is not None:
        query = query.where(OutboxMail.id.in_(ids))
    due = db.session.scalars(query).all()
    sent = failed = 0
    if not due:
        return sent, failed
    sender = current_app.config["MAIL_SENDER"]
    channel = transport()
    try:
        for mail_id in due:
            mail = _claim(mail_id, utcnow())
            if mail is None:
                continue
            try:
                channel.send(message(mail, sender), mail)
            except (smtplib.SMTPException, OSError, ssl.SSLError) as error:
                failed += 1
                mail.attempts += 1
                mail.status = MailStatus.FAILED
                wait = BACKOFF[min(mail.attempts, len(BACKOFF)) - 1]
                mail.next_attempt_at = utcnow() + wait
                mail.last_error = f"{type(error).__name__}: {error}"[:500]
                log.warning("mail %s aan %s niet afgeleverd: %s", mail.id, mail.recipient, error)
                channel.close()
                channel = transport()  # a broken connection is not reused
            else:
                sent += 1
                mail.attempts += 1
                mail.status = MailStatus.SENT
                mail.sent_at = utcnow()
                mail.text_body = mail.html_body = None
                mail.last_error = None
            db.session.commit()
    finally:
        channel.close()
    return sent, failed


def _deliver_in_thread(app: Flask, ids: list[int]) -> None:
    with app.app_context():
        try:
            deliver(ids)
        except Exception:  # a thread's error would otherwise vanish; the outbox keeps the mail
            log.exception("mail: aflevering mislukt; `flask mail retry` probeert het opnieuw")
        finally:
            db.session.remove()


def deliver_queued() -> None:
    """Deliver at once what this command (or request, without the thread) queued."""
    ids = g.pop("queued_mail", None)
    if ids:
        deliver(ids)


def _deliver_after_the_answer(response):
    """What this request queued goes out in a thread started once the answer has been sent
    (call_on_close): the visitor never waits for it, and the answer's timing does not tell
    whether mail was sent (a forgotten password for an address with or without an account)."""
    if current_app.config["MAIL_IN_BACKGROUND"] and (ids := g.pop("queued_mail", None)):
        app = current_app._get_current_object()
        response.call_on_close(functools.partial(_start_thread, app, ids))
    return response


def _start_thread(app: Flask, ids: list[int]) -> None:
    threading.Thread(target=_deliver_in_thread, args=(app, ids), daemon=True).start()


def _deliver_before_teardown(error) -> None:
    """Without the thread (MAIL_IN_BACKGROUND off, as in the tests): at the request's end."""
    if error is None and "queued_mail" in g:
        try:
            deliver_queued()
        except Exception:  # the request has answered; the outbox keeps the mail for a retry
            log.exception("mail: aflevering mislukt; `flask mail retry` probeert het opnieuw")


mail_cli = AppGroup("mail", help="De uitgaande mail.")


@mail_cli.command("retry")
def retry_command() -> None:
    """Bezorg elk bericht dat aan de beurt is (voor een timer, bijvoorbeeld elke 5 minuten)."""
    sent, failed = deliver()
    waiting = db.session.scalar(
        select(db.func.count(OutboxMail.id)).where(OutboxMail.status != MailStatus.SENT)
    )
    click.echo(f"Verstuurd: {sent}; mislukt: {failed}; nog in de wachtrij: {waiting}.")
    if failed:
        raise SystemExit(1)


def mail_settings(app: Flask) -> None:
    """The mail settings (REGISTRY_MAIL_*), with sender and sending port defaults."""
    app.config.setdefault("MAIL_SERVER", None)
    app.config.setdefault("MAIL_PORT", 465 if app.config.get("MAIL_USE_SSL") else 587)
    app.config.setdefault("MAIL_USE_TLS", False)
    app.config.setdefault("MAIL_USE_SSL", False)
    app.config.setdefault("MAIL_USERNAME", None)
    app.config.setdefault("MAIL_PASSWORD", None)
    app.config.setdefault("MAIL_TIMEOUT", 10)
    app.config.setdefault("MAIL_IN_BACKGROUND", True)
    app.config.setdefault(
        "MAIL_SENDER", formataddr(("Register SWV PO 22.03", "noreply@register.invalid"))
    )


def init_app(app: Flask) -> None:
    mail_settings(app)
    app.after_request(_deliver_after_the_answer)
    app.teardown_request(_deliver_before_teardown)
    app.cli.add_command(mail_cli)
