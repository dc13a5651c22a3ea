"""The mail adapters' message shapes: ACS Email's request body and its per-email operation
id (the same on every retry), and the SMTP MIME layout (inline QR images, PDF attached).
Nothing here reaches Azure: ACS itself cannot run in this environment."""

from __future__ import annotations

import base64

from shared.adapters.acs_mail import acs_message, operation_id
from shared.adapters.smtp_mail import mime
from shared.mail import Attachment, OutgoingMail

MAIL = OutgoingMail(
    to="ana@example.com", to_name="Ana", subject="Your tickets", text="plain",
    html='<p><img src="cid:ticket-1"></p>', message_id="<order-e.1@leap.example>",
    attachments=(Attachment("ticket-1.png", "image/png", b"\x89PNG", content_id="ticket-1"),
                 Attachment("tickets.pdf", "application/pdf", b"%PDF-1.3")))


def test_acs_body_carries_recipient_content_and_attachments() -> None:
    body = acs_message(MAIL, "DoNotReply@x.azurecomm.net")
    assert body["senderAddress"] == "DoNotReply@x.azurecomm.net"
    assert body["recipients"] == {"to": [{"address": "ana@example.com", "displayName": "Ana"}]}
    assert body["content"] == {"subject": "Your tickets", "plainText": "plain",
                               "html": '<p><img src="cid:ticket-1"></p>'}
    png, pdf = body["attachments"]
    assert png["contentId"] == "ticket-1" and "contentId" not in pdf
    assert base64.b64decode(pdf["contentInBase64"]) == b"%PDF-1.3"
    assert body["userEngagementTrackingDisabled"] is True


def test_one_email_is_one_acs_operation_on_every_retry() -> None:
    assert operation_id(MAIL) == operation_id(MAIL)
    other = OutgoingMail(**{**MAIL.__dict__, "message_id": "<order-e.2@leap.example>"})
    assert operation_id(other) != operation_id(MAIL)


def test_smtp_message_has_text_html_inline_images_and_the_pdf() -> None:
    msg = mime(MAIL, "tickets@leap.example")
    assert msg["Message-ID"] == "<order-e.1@leap.example>"
    layout = [(p.get_content_type(), p.get_filename(), p["Content-ID"]) for p in msg.walk()]
    assert layout == [
        ("multipart/mixed", None, None), ("multipart/alternative", None, None),
        ("text/plain", None, None), ("multipart/related", None, None),
        ("text/html", None, None), ("image/png", "ticket-1.png", "<ticket-1>"),
        ("application/pdf", "tickets.pdf", None)]
