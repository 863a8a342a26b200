"""What the domain announces to the real-time feed, without importing it.

`tessera.realtime` subscribes its publishers in `RealtimeConfig.ready()`; they push after the
announcing transaction commits. Facts are keyword arguments, as named below.
"""

from __future__ import annotations

from tessera.observers import Topic

permissions_changed = Topic("permissions_changed")
"""tenant_id, user_id (None: every member of the tenant may be affected)."""

membership_changed = Topic("membership_changed")
"""tenant_id, user_id, status."""

session_revoked = Topic("session_revoked")
"""user_id, session_id, reason, tenant_id (None: a session bound to no tenant)."""

api_key_revoked = Topic("api_key_revoked")
"""api_key_id: its sockets close."""

security_alert = Topic("security_alert")
"""tenant_id, alert, risk_score, and details (detail, user_id)."""

impersonation_changed = Topic("impersonation_changed")
"""event ("started" | "ended"), tenant_id, user_id, impersonator_id, session_id, reason, ends_at."""

qualification_expiring = Topic("qualification_expiring")
"""tenant_id, user_ids (holder and managers), holder_user_id, record_id, code, level,
valid_until."""
