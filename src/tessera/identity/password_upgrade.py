"""Password verification that keeps stored hashes current.

When the hashing parameters change (docs/decisions/0021: Argon2id from m=64 MiB, t=3 to OWASP's
m=19 MiB, t=2), or a hash was made by an older hasher (PBKDF2), the next successful verification
re-encodes the password with the current hasher and parameters (Django's `must_update`).
"""

from __future__ import annotations

from django.contrib.auth.hashers import check_password, make_password

from tessera.identity.models import User


def password_verify_and_upgrade(user: User, raw: str) -> bool:
    """Whether `raw` is the user's password; a correct one stored under outdated parameters is
    stored again with the current ones.

    The write is one conditional UPDATE of that row (only while the stored hash is still the one
    verified), so a password changed concurrently is never overwritten, and it needs no
    surrounding transaction. The password itself does not change: its history, its age and the
    user's sessions stay as they are.
    """
    verified = user.password

    def upgrade(password: str) -> None:
        encoded = make_password(password)
        if User.objects.filter(pk=user.pk, password=verified).update(password=encoded):
            user.password = encoded

    return check_password(raw, verified, setter=upgrade)
