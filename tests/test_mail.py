"""Mail through the outbox: to a real SMTP server (aiosmtpd, started here), or to files."""

import socket
import threading
import time
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from registry import mail
from registry.db import db
from registry.mail import MailStatus, OutboxMail


class Inbox:
    """aiosmtpd's handler: every message it accepts, parsed."""

    def __init__(self) -> None:
        self.messages = []
        self.refuse = False

    async def handle_DATA(self, server, session, envelope):
        if self.refuse:
            return "451 Try again later"
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def smtp():
    """A real SMTP server on a free local port; its inbox."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    inbox.port = controller.port
    yield inbox
    controller.stop()


def queue_one(app, recipient="iemand@example.org"):
    with app.test_request_context():
        mail.queue(recipient, "password_changed", user=type("U", (), {"email": recipient})())
        db.session.commit()
        return mail.g.pop("queued_mail")


def test_a_mail_goes_to_the_smtp_server_as_text_and_html_and_its_body_is_then_emptied(app, smtp):
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port)
    ids = queue_one(app)
    with app.app_context():
        assert mail.deliver(ids) == (1, 0)
        row = db.session.get(OutboxMail, ids[0])
        assert row.status is MailStatus.SENT and row.text_body is None and row.html_body is None
    [message] = smtp.messages
    assert message["To"] == "iemand@example.org"
    assert message["Subject"].startswith("[Register SWV PO 22.03] Uw wachtwoord")
    assert message["Message-ID"] == row.message_id
    assert message.get_body("plain").get_content().startswith("Goedendag")
    assert "<html" in message.get_body("html").get_content()


def test_a_mail_the_server_refuses_stays_in_the_outbox_and_retry_sends_it_once(app, smtp):
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port)
    ids = queue_one(app)
    smtp.refuse = True
    with app.app_context():
        assert mail.deliver(ids) == (0, 1)
        row = db.session.get(OutboxMail, ids[0])
        assert row.status is MailStatus.FAILED and "451" in row.last_error
        assert row.text_body  # kept for the next try
        row.next_attempt_at = row.created_at  # due again now
        db.session.commit()
    smtp.refuse = False
    runner = app.test_cli_runner()
    assert "Verstuurd: 1" in runner.invoke(args=["mail", "retry"]).output
    assert "Verstuurd: 0" in runner.invoke(args=["mail", "retry"]).output
    assert len(smtp.messages) == 1


def test_a_server_that_is_down_loses_nothing(app):
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=free_port(), MAIL_TIMEOUT=2)
    ids = queue_one(app)
    with app.app_context():
        assert mail.deliver(ids) == (0, 1)
        assert db.session.get(OutboxMail, ids[0]).status is MailStatus.FAILED


def test_two_processes_delivering_at_once_send_each_mail_once(app, smtp):
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port)
    for i in range(6):
        queue_one(app, f"p{i}@example.org")
    barrier = threading.Barrier(3)

    def deliver():
        with app.app_context():
            barrier.wait()
            mail.deliver()
            db.session.remove()

    threads = [threading.Thread(target=deliver) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(m["To"] for m in smtp.messages) == [f"p{i}@example.org" for i in range(6)]


def test_a_claim_left_by_a_dead_process_is_taken_up_again_later(app, smtp):
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port)
    ids = queue_one(app)
    with app.app_context():
        row = db.session.get(OutboxMail, ids[0])
        row.status, row.claimed_at = MailStatus.SENDING, mail.utcnow()
        db.session.commit()
        assert mail.deliver() == (0, 0)  # another process may still be sending it
        row.claimed_at = mail.utcnow() - mail.CLAIM_EXPIRES * 2
        db.session.commit()
        assert mail.deliver() == (1, 0)


def test_without_a_server_each_mail_is_an_eml_file_and_the_log_says_where(app, caplog):
    ids = queue_one(app)
    with app.app_context(), caplog.at_level("INFO", logger="registry.mail"):
        mail.deliver(ids)
    [path] = (Path(app.instance_path) / "mail").glob("*.eml")
    assert str(path) in caplog.text
    message = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert message["To"] == "iemand@example.org"


def test_a_request_does_not_wait_for_a_slow_mail_server(app):
    """A server that accepts the connection and then says nothing: the request answers at
    once, the thread waits (MAIL_TIMEOUT) and the mail stays in the outbox."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    app.config.update(
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=silent.getsockname()[1],
        MAIL_TIMEOUT=3,
        MAIL_IN_BACKGROUND=True,
    )

    @app.get("/test-mail")
    def send_one():
        mail.queue("a@example.org", "password_changed", user=type("U", (), {"email": "a"})())
        db.session.commit()
        return "ok"

    started = time.monotonic()
    answer = app.test_client().get("/test-mail")
    assert answer.status_code == 200
    answer.close()  # as a server does once the answer is sent: the thread starts then
    assert time.monotonic() - started < 1.5
    time.sleep(4)
    with app.app_context():
        row = db.session.scalar(select(OutboxMail))
        assert row.status is MailStatus.FAILED
    silent.close()
