"""The Redis state cache cannot be refilled with what a reader loaded before a revocation."""

import pytest
from django.utils import timezone
from tests.factories import make_member

from tessera.access.versions import cache_fill
from tessera.authn import session_state as state
from tessera.authn.sessions import session_create, session_revoke

pytestmark = pytest.mark.redis


def test_a_reader_that_loaded_before_a_revocation_cannot_cache_the_live_state(
    tenant, django_capture_on_commit_callbacks
):
    member = make_member(tenant, "race@example.test")
    session = session_create(user=member.user, tenant=tenant, membership=member, ip="127.0.0.1")
    key = state._session_key(tenant.pk, session.pk)
    stale = state._load_session(session.pk)  # a reader's DB read, just before the commit

    with django_capture_on_commit_callbacks(execute=True):
        session_revoke(session=session, reason="logout")
    cache_fill({key: stale})  # ... whose cache fill lands after it

    now = timezone.now()
    answer = state.access_state(
        session_id=session.pk, tenant_id=tenant.pk, membership_id=member.pk, now=now
    )
    assert answer.session_ok is False
