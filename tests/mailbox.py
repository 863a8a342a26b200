"""The links Tessera mails, read back from Django's test outbox."""

from __future__ import annotations

import re

from django.core import mail

TOKEN_IN = {
    "invitation": re.compile(r"/invitations/accept/\?token=([A-Za-z0-9_-]+)"),
    "verify_email": re.compile(r"/verify-email/\?token=([A-Za-z0-9_-]+)"),
    "password_reset": re.compile(r"/reset/\?token=([A-Za-z0-9_-]+)"),
}


def mailed_token(kind: str, to: str) -> str:
    """The token of the last mail of that kind to that address."""
    for message in reversed(mail.outbox):
        if message.to == [to]:
            found = TOKEN_IN[kind].search(message.body)
            if found:
                html = message.alternatives[0][0]
                assert found.group(0) in html  # the HTML part carries the same link
                return found.group(1)
    raise AssertionError(f"no {kind} mail to {to}: {[(m.to, m.subject) for m in mail.outbox]}")
