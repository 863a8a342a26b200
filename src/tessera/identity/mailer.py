"""Transactional mail: invitation, email verification and password reset, from templates.

Each mail is three Django templates under `identity/templates/emails/`: `<name>.subject.txt`,
`<name>.txt` (plain text) and `<name>.html` (the alternative part). `mail_queue` renders the
message at once (the same work whoever it is for) and hands it over after the transaction commits,
so a rolled-back change mails nothing. Delivery then runs on a short-lived background thread, so
the answer never waits for (or reveals anything through) the mail server; the in-memory backend
of the test suite delivers inline, so tests read `django.core.mail.outbox` at once.

With the console backend (the development default of `make run`) the link is also printed on a
line of its own: quoted-printable encoding would break it inside the printed message.
"""

from __future__ import annotations

import logging
import sys
import threading
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)

CONSOLE_BACKEND = "django.core.mail.backends.console.EmailBackend"
INLINE_BACKENDS = ("django.core.mail.backends.locmem.EmailBackend",)

PAGES = {
    "invitation": "/invitations/accept/",
    "verify_email": "/verify-email/",
    "password_reset": "/reset/",
    "member_added": "/signin/",
}


def page_link(kind: str, token: str | None = None) -> str:
    """The public page a mail of `kind` links to (API.md "Pages"), with its token."""
    url = f"{settings.PUBLIC_URL}{PAGES[kind]}"
    return f"{url}?token={token}" if token else url


def mail_render(kind: str, *, to: str, context: dict[str, Any]) -> EmailMultiAlternatives:
    """The message of `kind` for `to`: subject, plain text and HTML from the templates."""
    ctx = {"public_url": settings.PUBLIC_URL, "email": to, **context}
    subject = " ".join(render_to_string(f"emails/{kind}.subject.txt", ctx).split())
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"emails/{kind}.txt", ctx),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
    )
    message.attach_alternative(render_to_string(f"emails/{kind}.html", ctx), "text/html")
    return message


def _deliver(message: EmailMultiAlternatives, kind: str, link: str | None) -> None:
    if link and settings.EMAIL_BACKEND == CONSOLE_BACKEND:
        # one write, so the server's own log lines (other threads) never split the link
        sys.stdout.write(f"[tessera] {kind} link for {message.to[0]}: {link}\n")
        sys.stdout.flush()
    try:
        message.send()
    except Exception:  # the mail server's trouble must not fail the request that caused it
        logger.exception("could not send the %s mail", kind)  # never the link: it holds a token


def mail_queue(kind: str, *, to: str | None, context: dict[str, Any], link: str | None) -> None:
    """Render the mail now; send it after the current transaction commits (`to=None`: render
    only, so an unknown address costs the same work and sends nothing)."""
    message = mail_render(kind, to=to or "nobody@invalid", context={**context, "link": link})
    if to is None:
        return

    def send() -> None:
        if settings.EMAIL_BACKEND in INLINE_BACKENDS:
            _deliver(message, kind, link)
        else:
            threading.Thread(
                target=_deliver, args=(message, kind, link), name="tessera-mail", daemon=True
            ).start()

    connection = transaction.get_connection()
    if all(getattr(block, "_from_testcase", False) for block in connection.atomic_blocks):
        send()  # nothing of ours to wait for (the test runner's wrapping transactions aside)
    else:
        transaction.on_commit(send)
