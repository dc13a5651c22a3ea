"""MailSender on Azure Communication Services Email (managed identity, no keys).

The operation id is derived from the Message-ID, so a retry of one email is the same ACS
operation: ACS refuses to start an operation id twice, and that refusal means "already
accepted" here.
"""

from __future__ import annotations

import base64
import uuid
from typing import Any

from azure.core.exceptions import ResourceExistsError
from azure.identity.aio import DefaultAzureCredential

from shared.mail import OutgoingMail


def acs_message(mail: OutgoingMail, sender: str) -> dict[str, Any]:
    """The ACS Email request body for ``mail``."""
    return {
        "senderAddress": sender,
        "recipients": {"to": [{"address": mail.to, "displayName": mail.to_name}]},
        "content": {"subject": mail.subject, "plainText": mail.text, "html": mail.html},
        "headers": {"Message-ID": mail.message_id},
        "attachments": [
            {"name": a.filename, "contentType": a.content_type,
             "contentInBase64": base64.b64encode(a.data).decode(),
             **({"contentId": a.content_id} if a.content_id else {})}
            for a in mail.attachments],
        "userEngagementTrackingDisabled": True,
    }


def operation_id(mail: OutgoingMail) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"leap-ticketing:{mail.message_id}"))


class AcsMail:
    def __init__(self, endpoint: str, sender: str) -> None:
        self._endpoint = endpoint
        self._sender = sender

    async def send(self, mail: OutgoingMail) -> None:
        from azure.communication.email.aio import EmailClient

        async with DefaultAzureCredential() as credential, \
                EmailClient(self._endpoint, credential) as client:
            try:
                poller = await client.begin_send(acs_message(mail, self._sender),
                                                 operation_id=operation_id(mail))
            except ResourceExistsError:
                return  # this operation id was accepted before: already sent
            result = await poller.result()
            if str(result.get("status", "")).lower() != "succeeded":
                raise RuntimeError(f"ACS Email: {result.get('status')}: {result.get('error')}")
