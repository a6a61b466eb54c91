"""Notification channels: the inbox row is the record; e-mail copies go through a real SMTP
conversation (a small server on 127.0.0.1) at most once per message; another gateway (an SMS one,
say) plugs in through ``register_channel``, and a failing gateway does not stop the others."""
from __future__ import annotations

import email
import socketserver
import threading

import pytest
from sqlalchemy import select

from app.audit import acting_as
from app.extensions import db
from app.models import AppUser, Message
from app.infra import notify
from tests.factories import unique


class _SMTPHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP for smtplib: EHLO/HELO, MAIL, RCPT, DATA, QUIT."""

    def reply(self, line: str) -> None:
        self.wfile.write((line + "\r\n").encode())

    def handle(self):
        self.reply("220 test ESMTP")
        rcpt, data = [], None
        while True:
            line = self.rfile.readline().decode("utf-8", "replace").rstrip("\r\n")
            if not line:
                return
            verb = line.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                self.reply("250 test")
            elif verb == "MAIL":
                rcpt = []
                self.reply("250 OK")
            elif verb == "RCPT":
                rcpt.append(line.split(":", 1)[1].strip(" <>"))
                self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 go on")
                chunks = []
                while True:
                    chunk = self.rfile.readline()
                    if chunk in (b".\r\n", b".\n", b""):
                        break
                    chunks.append(chunk)
                data = b"".join(chunks)
                self.server.received.append((rcpt, email.message_from_bytes(data)))
                self.reply("250 queued")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("250 OK")


@pytest.fixture()
def smtp_server():
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SMTPHandler)
    server.daemon_threads = True
    server.received = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture()
def messages(app, world, ctx):
    """Two fresh inbox messages to clerk_a (who has an e-mail address)."""
    user = db.session.execute(select(AppUser).where(AppUser.username == world.users["clerk_a"])).scalar_one()
    ids = []
    with acting_as("测试", "task"):
        for i in range(2):
            m = Message(recipient_id=user.id, unit_id=world.units["a"], kind="逾期通知", title=f"测试通知{i}",
                        body="初次提交已逾期", link="/cases/show/1", dedup_key=unique("notify"))
            db.session.add(m)
            db.session.flush()
            ids.append(m.id)
        db.session.commit()
    return user, ids


def test_without_an_smtp_host_nothing_is_claimed(app, messages):
    _, ids = messages
    app.config["JISHI_SMTP_HOST"] = ""
    assert notify.deliver(ids) == 0
    assert all(db.session.get(Message, i).emailed_at is None for i in ids)


def test_email_copies_go_out_once(app, messages, smtp_server):
    user, ids = messages
    app.config.update(JISHI_SMTP_HOST="127.0.0.1", JISHI_SMTP_PORT=smtp_server.server_address[1])
    try:
        assert notify.deliver(ids) == 2
        assert notify.deliver(ids) == 0  # already claimed: never twice
    finally:
        app.config["JISHI_SMTP_HOST"] = ""
    assert len(smtp_server.received) == 2
    rcpt, mail = smtp_server.received[0]
    assert rcpt == [user.email]
    subject = str(email.header.make_header(email.header.decode_header(mail["Subject"])))
    assert subject.startswith("【记实系统】测试通知")
    body = mail.get_payload(decode=True).decode("utf-8")
    assert "初次提交已逾期" in body and "/cases/show/1" in body
    db.session.expire_all()
    assert all(db.session.get(Message, i).emailed_at is not None for i in ids)


def test_a_gateway_plugs_in_and_a_failing_one_does_not_stop_the_others(app, messages):
    _, ids = messages
    sent = []

    class Sms(notify.Channel):
        name = "sms"

        def enabled(self):
            return True

        def send(self, user, message):
            sent.append((user.username, message.title))

    class Broken(notify.Channel):
        name = "broken"

        def enabled(self):
            return True

        def send(self, user, message):
            raise ConnectionError("网关不可达")

    notify.register_channel(Broken())
    notify.register_channel(Sms())
    try:
        assert notify.deliver(ids) == 2
    finally:
        notify._EXTRA.clear()
    assert [title for _, title in sent] == ["测试通知0", "测试通知1"]
