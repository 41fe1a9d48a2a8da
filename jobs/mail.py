"""Notifications by email: plain SMTP, off unless SMTP_HOST is set, one mail per notification.

Sent inside the delivery's transaction, before its commit: a failed send rolls the
notifications back and the task retries (so a mail may go twice, never not at all), and a
redelivery that writes no new notification sends nothing (db/notifications.py RETURNING).
"""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

from sqlalchemy.orm import Session

from core.settings import Settings
from db import notifications

SUBJECTS = {
    "follow": "{actor} followed you",
    "comment": "{actor} commented on {title}",
    "favorite": "{actor} favorited {title}",
    "article": "{actor} published {title}",
}


def send_for(settings: Settings, session: Session, ids: list[int]) -> int:
    """Mail the notifications `ids` to recipients who want email: how many were sent."""
    if not settings.smtp_host or not ids:
        return 0
    rows = notifications.mails(session, ids)
    if not rows:
        return 0
    with smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=10) as smtp:
        for kind, email, actor, title in rows:
            message = EmailMessage()
            message["From"] = settings.smtp_from
            message["To"] = email
            message["Subject"] = SUBJECTS[kind].format(actor=actor, title=title or "")
            message.set_content(
                message["Subject"] + ".\n\nTurn these mails off in your settings.\n"
            )
            smtp.send_message(message)
    return len(rows)
