"""Django authentication backend for the admin login: email + password, active users only."""

from __future__ import annotations

from django.contrib.auth.backends import BaseBackend

from tessera.errors import ValidationFailed
from tessera.identity.emails import normalize_email
from tessera.identity.models import User

_DUMMY = User(email="dummy@invalid.example")


class EmailBackend(BaseBackend):
    def authenticate(self, request, username=None, password=None, email=None, **kwargs):
        raw = email or username or ""
        try:
            user = User.objects.get(email=normalize_email(raw))
        except (User.DoesNotExist, ValidationFailed):
            _DUMMY.set_password(password or "")  # comparable time for unknown emails
            return None
        if user.check_password(password or "") and user.is_active and not user.is_service_account:
            return user
        return None

    def get_user(self, user_id):
        try:
            user = User.objects.get(pk=user_id)
        except (User.DoesNotExist, ValueError):
            return None
        return user if user.is_active else None
