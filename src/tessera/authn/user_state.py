"""A person's platform-level switch (`User.is_active`) holds on the next request, everywhere.

Deactivating a user — in the admin site, by erasure, from a shell — must stop every credential of
that person at once on both backends: sessions, refresh tokens and API keys of every membership.
The database answers `user.is_active` directly, but with Redis the live state of sessions and
memberships is cached (`tessera.authn.session_state`, an hour), so a changed `is_active` bumps the
version of each of the person's memberships (compiled policies and cached key rows are re-read;
`permissions.changed` is pushed) and rewrites the cached state of their live sessions after commit;
the sessions themselves (and their refresh tokens) are revoked. API keys are blocked, not revoked:
they work again if the person is reactivated. Reactivation bumps the versions too, so a reactivated
person is not locked out by a stale cache either.

Wired as `pre_save`/`post_save` receivers on the user model (see `AuthnConfig.ready`), so no path
that saves a user can forget it; `user_credentials_refresh` is the function to call after a
bulk `update()` that bypasses signals.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models.signals import post_save, pre_save

from tessera.authn.models import Session
from tessera.authn.session_state import state_invalidate_session
from tessera.authn.sessions import sessions_revoke_for_user
from tessera.tenancy.models import Membership
from tessera.tenancy.services import membership_version_bump


def user_credentials_refresh(*, user_id) -> None:
    """Invalidate every cached credential state of the person (call in the changing transaction)."""

    with transaction.atomic():
        for membership_id in Membership.objects.filter(user_id=user_id).values_list(
            "pk", flat=True
        ):
            membership_version_bump(membership_id=membership_id)
        for session_id, tenant_id in Session.objects.filter(
            user_id=user_id, revoked_at__isnull=True
        ).values_list("pk", "tenant_id"):
            state_invalidate_session(tenant_id=tenant_id, session_id=session_id)


def _before_user_save(sender, instance, update_fields=None, **kwargs) -> None:
    instance._tessera_active_changed = False
    if instance._state.adding or instance.pk is None:
        return
    if update_fields is not None and "is_active" not in update_fields:
        return
    before = sender.objects.filter(pk=instance.pk).values_list("is_active", flat=True).first()
    instance._tessera_active_changed = before is not None and before != instance.is_active


def _after_user_save(sender, instance, created=False, **kwargs) -> None:
    if created or not getattr(instance, "_tessera_active_changed", False):
        return
    instance._tessera_active_changed = False
    with transaction.atomic():
        if not instance.is_active:
            sessions_revoke_for_user(user=instance, reason="user_deactivated")
        user_credentials_refresh(user_id=instance.pk)


def connect_user_signals() -> None:
    user_model = get_user_model()
    pre_save.connect(_before_user_save, sender=user_model, dispatch_uid="tessera.user.active.pre")
    post_save.connect(_after_user_save, sender=user_model, dispatch_uid="tessera.user.active.post")
