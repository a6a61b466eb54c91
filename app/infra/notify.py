"""Notification channels. The in-app inbox (站内消息) is the record: every notice is an
``inbox_message`` row first. Other channels send a copy of rows already committed:

* e-mail over SMTP, off unless ``JISHI_SMTP_HOST`` is set;
* any other gateway (an SMS gateway, say) registered with ``register_channel``.

A copy is claimed (``emailed_at`` set where it is still empty, in its own commit) before it is
sent, so it goes out at most once even when two workers deliver the same ids.
"""
from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage

from flask import current_app
from flask_appbuilder.security.sqla.models import Role
from sqlalchemy import select, update

from app.extensions import db
from app.models import AppUser
from app.models.audit import utcnow
from app.models.deadlines import Message

log = logging.getLogger(__name__)


class Channel:
    """A way to pass a notice on. ``enabled`` says whether it is configured; ``send`` delivers
    one message to one user and raises on failure."""

    name = "channel"

    def enabled(self) -> bool:
        return False

    def send(self, user: AppUser, message: Message) -> None:
        raise NotImplementedError


class EmailChannel(Channel):
    name = "email"

    def enabled(self) -> bool:
        return bool(current_app.config.get("JISHI_SMTP_HOST"))

    def send(self, user: AppUser, message: Message) -> None:
        if not user.email:
            return
        cfg = current_app.config
        mail = EmailMessage()
        mail["Subject"] = f"【记实系统】{message.title}"
        mail["From"] = cfg["JISHI_MAIL_FROM"]
        mail["To"] = user.email
        link = f"{cfg['JISHI_BASE_URL'].rstrip('/')}{message.link}" if message.link else ""
        mail.set_content(f"{message.body}\n\n{link}\n\n（本邮件由干部选拔任用工作记实监督系统自动发送，请登录系统查看。）")
        with smtplib.SMTP(cfg["JISHI_SMTP_HOST"], cfg["JISHI_SMTP_PORT"], timeout=10) as smtp:
            if cfg.get("JISHI_SMTP_STARTTLS"):
                smtp.starttls()
            if cfg.get("JISHI_SMTP_USER"):
                smtp.login(cfg["JISHI_SMTP_USER"], cfg["JISHI_SMTP_PASSWORD"])
            smtp.send_message(mail)


_EXTRA: list[Channel] = []


def register_channel(channel: Channel) -> None:
    """Plug in another gateway (e.g. an SMS gateway implementing ``Channel``)."""
    _EXTRA.append(channel)


def channels() -> list[Channel]:
    return [c for c in (EmailChannel(), *_EXTRA) if c.enabled()]


def deliver(message_ids) -> int:
    """Send copies of these committed inbox messages through every enabled channel; returns the
    number of messages passed on. A failing channel is logged and does not stop the others."""
    active = channels()
    if not active or not message_ids:
        return 0
    sent = 0
    for message_id in message_ids:
        claimed = db.session.execute(
            update(Message).where(Message.id == message_id, Message.emailed_at.is_(None))
            .values(emailed_at=utcnow())).rowcount
        db.session.commit()
        if not claimed:
            continue  # another worker has it
        message = db.session.get(Message, message_id)
        user = db.session.get(AppUser, message.recipient_id)
        for channel in active:
            try:
                channel.send(user, message)
            except Exception:  # noqa: BLE001 - the inbox copy stands; the gateway's failure is logged
                log.exception("通知渠道 %s 发送消息 %s 失败", channel.name, message_id)
        sent += 1
    return sent


# Who hears of a decision about a unit's case: its clerks and its leaders (the roles of app.security).
CLERK_ROLE, SIGNER_ROLE = "填报员", "签字领导"
UNIT_ROLES = (CLERK_ROLE, SIGNER_ROLE)


def unit_recipients(unit_id: int, roles=UNIT_ROLES) -> list[int]:
    """The active users of the unit holding one of ``roles``, by id."""
    return list(db.session.execute(
        select(AppUser.id).join(AppUser.roles)
        .where(AppUser.active.is_(True), AppUser.unit_id == unit_id, Role.name.in_(roles))
        .distinct().order_by(AppUser.id)).scalars())


def post_to_unit(unit_id: int, *, kind: str, title: str, body: str, link: str | None, case_id: int | None,
                 dedup: str, roles=UNIT_ROLES) -> list[int]:
    """Inbox messages about a decision to the unit's clerks and leaders, in the caller's transaction
    (nothing is committed here: the decision and its messages are written together). ``dedup`` names
    the decision; each recipient gets it once. Returns the new message ids, for ``deliver`` after the
    commit."""
    ids = []
    for user_id in unit_recipients(unit_id, roles):
        message = Message(recipient_id=user_id, unit_id=unit_id, kind=kind[:20], title=title[:200], body=body,
                          link=link, case_id=case_id, dedup_key=f"{dedup}:{user_id}"[:200], created_at=utcnow())
        db.session.add(message)
        db.session.flush()
        ids.append(message.id)
    return ids


def deliver_after_commit(message_ids) -> None:
    """Copies through the configured channels once the decision is committed; a channel's failure is
    logged and leaves the decision and its inbox messages as they are."""
    try:
        deliver(message_ids)
    except Exception:  # noqa: BLE001 - the inbox copy stands
        db.session.rollback()
        log.exception("消息 %s 的渠道副本发送失败", list(message_ids)[:10])


def unread_count(user_id: int) -> int:
    from sqlalchemy import func

    return db.session.execute(select(func.count(Message.id)).where(
        Message.recipient_id == user_id, Message.read_at.is_(None))).scalar() or 0
