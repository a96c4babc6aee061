"""Flask-Mail 0.10.0 (its sdist ships no tests): messages sent from views, as documented.

Recorded in tests (``mail.record_messages()``) and sent for real over SMTP
to a small SMTP receiver on a free loopback port that the test starts.
"""

from __future__ import annotations

import email
import socketserver
import threading
from collections.abc import Callable, Iterator
from typing import Any

import flask
import pytest
from flask_mail import Mail, Message

from redis_server import free_port


def make_app(**config: Any) -> tuple[flask.Flask, Mail]:
    app = flask.Flask(__name__)
    app.config.update(MAIL_DEFAULT_SENDER="Kettle <noreply@example.com>", **config)
    mail = Mail(app)

    @app.post("/welcome")
    def welcome() -> str:
        msg = Message(
            subject="Welcome",
            recipients=[flask.request.form["to"]],
            body=f"Hello {flask.request.form['name']}",
            html=flask.render_template_string(
                "<p>Hello {{ name }}</p>", name=flask.request.form["name"]
            ),
        )
        msg.attach("note.txt", "text/plain", b"attached text")
        mail.send(msg)
        return "sent"

    return app, mail


def test_record_messages_sees_what_a_view_sends(make_client: Callable[..., Any]) -> None:
    app, mail = make_app(TESTING=True)
    client = make_client(app)
    with mail.record_messages() as outbox:
        response = client.post("/welcome", data={"to": "ada@example.com", "name": "<Ada>"})
    assert response.status_code == 200
    assert len(outbox) == 1
    msg = outbox[0]
    assert msg.subject == "Welcome"
    assert msg.recipients == ["ada@example.com"]
    assert msg.sender == "Kettle <noreply@example.com>"
    assert msg.body == "Hello <Ada>"
    assert msg.html == "<p>Hello &lt;Ada&gt;</p>"
    assert msg.attachments[0].filename == "note.txt"


def test_testing_suppresses_sending_but_still_records(make_client: Callable[..., Any]) -> None:
    # MAIL_SUPPRESS_SEND defaults to TESTING: no SMTP server is contacted here.
    app, mail = make_app(TESTING=True, MAIL_PORT=free_port())
    assert mail.state.suppress is True  # type: ignore[attr-defined]
    with mail.record_messages() as outbox:
        assert (
            make_client(app).post("/welcome", data={"to": "a@example.com", "name": "A"}).text
            == "sent"
        )
    assert [m.subject for m in outbox] == ["Welcome"]


class _SMTPHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP for smtplib: records each message's envelope and data."""

    def handle(self) -> None:
        server: Any = self.server
        envelope: dict[str, Any] = {"to": []}
        self._reply("220 localhost ready")
        while True:
            line = self.rfile.readline(4096)
            if not line:
                return
            verb = line[:4].upper()
            if verb in (b"EHLO", b"HELO"):
                self._reply("250 localhost")
            elif verb == b"MAIL":
                envelope["from"] = line.decode().split(":", 1)[1].strip()
                self._reply("250 OK")
            elif verb == b"RCPT":
                envelope["to"].append(line.decode().split(":", 1)[1].strip())
                self._reply("250 OK")
            elif verb == b"DATA":
                self._reply("354 end with .")
                data = bytearray()
                while (chunk := self.rfile.readline(65536)) not in (b".\r\n", b""):
                    data += chunk
                envelope["data"] = bytes(data)
                server.messages.append(envelope)
                envelope = {"to": []}
                self._reply("250 queued")
            elif verb == b"QUIT":
                self._reply("221 bye")
                return
            else:
                self._reply("250 OK")

    def _reply(self, text: str) -> None:
        self.wfile.write(text.encode() + b"\r\n")


@pytest.fixture
def smtp_server() -> Iterator[Any]:
    server: Any = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SMTPHandler)
    server.daemon_threads = True
    server.messages = []
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_a_view_sends_over_smtp(smtp_server: Any, make_client: Callable[..., Any]) -> None:
    app, _ = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_server.server_address[1])
    response = make_client(app).post("/welcome", data={"to": "grace@example.com", "name": "Grace"})
    assert response.status_code == 200
    assert len(smtp_server.messages) == 1
    sent = smtp_server.messages[0]
    assert "noreply@example.com" in sent["from"]
    assert sent["to"] == ["<grace@example.com>"]
    parsed = email.message_from_bytes(sent["data"])
    assert parsed["Subject"] == "Welcome"
    assert parsed["To"] == "grace@example.com"
    parts = {part.get_content_type(): part for part in parsed.walk()}
    assert parts["text/plain"].get_payload(decode=True) in (b"Hello Grace", b"attached text")
    assert parts["text/html"].get_payload(decode=True) == b"<p>Hello Grace</p>"
    names = [part.get_filename() for part in parsed.walk() if part.get_filename()]
    assert names == ["note.txt"]


def test_bulk_connection_sends_several(smtp_server: Any) -> None:
    app, mail = make_app(MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp_server.server_address[1])
    with app.app_context(), mail.connect() as conn:
        for name in ("a", "b", "c"):
            conn.send(Message(subject=f"to {name}", recipients=[f"{name}@example.com"], body="x"))
    subjects = [email.message_from_bytes(m["data"])["Subject"] for m in smtp_server.messages]
    assert subjects == ["to a", "to b", "to c"]


def test_sending_outside_an_app_context_is_a_clear_error() -> None:
    _, mail = make_app(TESTING=True)
    with pytest.raises(RuntimeError, match="application context"):
        mail.send(Message(subject="x", recipients=["a@example.com"], body="x"))
