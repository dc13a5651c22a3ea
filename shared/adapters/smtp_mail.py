"""MailSender over SMTP (smtplib in a worker thread): the local host's sink, or any relay."""

from __future__ import annotations

import asyncio
import smtplib
from email.message import EmailMessage
from email.utils import formataddr

from shared.mail import OutgoingMail


def mime(mail: OutgoingMail, sender: str) -> EmailMessage:
    """The message as MIME: text and HTML alternatives, inline QR images, attachments."""
    msg = EmailMessage()
    msg["From"] = formataddr(("Leap Ticketing", sender))
    msg["To"] = formataddr((mail.to_name, mail.to))
    msg["Subject"] = mail.subject
    msg["Message-ID"] = mail.message_id
    msg.set_content(mail.text)
    msg.add_alternative(mail.html, subtype="html")
    html_part = msg.get_body(("html",))
    assert isinstance(html_part, EmailMessage)
    for a in mail.attachments:
        maintype, subtype = a.content_type.split("/", 1)
        if a.content_id:
            html_part.add_related(a.data, maintype=maintype, subtype=subtype,
                                  cid=f"<{a.content_id}>", filename=a.filename)
    for a in mail.attachments:
        if not a.content_id:
            maintype, subtype = a.content_type.split("/", 1)
            msg.add_attachment(a.data, maintype=maintype, subtype=subtype,
                               filename=a.filename)
    return msg


class SmtpMail:
    def __init__(self, host: str, port: int, sender: str) -> None:
        self._host = host
        self._port = port
        self._sender = sender

    async def send(self, mail: OutgoingMail) -> None:
        msg = mime(mail, self._sender)

        def run() -> None:
            with smtplib.SMTP(self._host, self._port, timeout=30) as smtp:
                smtp.send_message(msg)

        await asyncio.to_thread(run)
