"""Every audit event type Tessera promises is written by the HTTP request that causes it.

One parametrized scenario: each case is an event type and a small action that drives the API
(django test `Client`, JSON bodies, Bearer tokens from `POST /api/v1/auth/login`) against a fresh
world — tenant `acme` with an administrator and a member. An action may prepare what it needs
first (enrol MFA, create the role it then deletes, …), then calls `world.start()` right before
the causing request(s): only events written after that mark count. The case passes when the
answer is the expected success (or refusal), and a new event of the type is in acme's chain (or
the platform chain, for changes of the global identity that have no tenant) about the right
resource.

Failing changes leave no event: a refused change writes nothing of its type, in any chain.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.http import HttpResponse
from django.test import Client, TestCase
from django.utils import timezone

from tessera.audit.models import AuditEvent, AuditEventType
from tessera.audit.services import PLATFORM_CHAIN
from tessera.identity import totp
from tessera.tenancy.models import Invitation, Membership, Tenant
from tests.factories import DEFAULT_PASSWORD, make_member, make_tenant

API = "/api/v1"
ADMIN_EMAIL = "admin@acme.test"
MEMBER_EMAIL = "member@acme.test"
WRONG = "not the password, clearly"
NEW_PASSWORD = "a completely new passphrase"

REQUIRED = frozenset(
    {
        "LOGIN",
        "LOGIN_FAILED",
        "LOGOUT",
        "SESSION_REVOKED",
        "TOKEN_REUSE_DETECTED",
        "PASSWORD_CHANGE",
        "PASSWORD_RESET",
        "ACCOUNT_LOCKED",
        "MFA_ENABLED",
        "MFA_DISABLED",
        "BACKUP_CODE_USED",
        "PROFILE_UPDATE",
        "USER_CREATED",
        "USER_DEACTIVATED",
        "MEMBERSHIP_REMOVED",
        "ROLE_CREATED",
        "ROLE_UPDATED",
        "ROLE_DELETED",
        "ROLE_ASSIGNED",
        "ROLE_REMOVED",
        "PERMISSION_CHANGE",
        "GRANT_CREATED",
        "GRANT_REVOKED",
        "DELEGATION_CREATED",
        "DELEGATION_APPROVED",
        "DELEGATION_REVOKED",
        "API_KEY_CREATED",
        "API_KEY_REVOKED",
        "TENANT_SETTINGS_CHANGED",
        "DATA_EXPORTED",
        "DATA_ERASED",
        "SUSPICIOUS_ACTIVITY",
        "INVITATION_CREATED",
        "INVITATION_RESENT",
        "INVITATION_REVOKED",
        "INVITATION_ACCEPTED",
        "EMAIL_VERIFIED",
    }
)


# --- the world ----------------------------------------------------------------------------------


@dataclass
class World:
    acme: Tenant
    admin: Membership
    member: Membership
    client: Client = field(default_factory=Client)
    baseline: frozenset = frozenset()
    _tokens: dict[str, str] = field(default_factory=dict)

    def start(self) -> None:
        """From here on, new events count as caused by the action."""
        self.baseline = frozenset(AuditEvent.objects.values_list("pk", flat=True))

    def new_events(self, event_type: str | None = None) -> list[AuditEvent]:
        """Events written since `start()` (of one type, or all)."""
        events = AuditEvent.objects.exclude(pk__in=self.baseline)
        if event_type is not None:
            events = events.filter(type=event_type)
        return list(events)

    def login(self, email: str, password: str = DEFAULT_PASSWORD, *, client=None, **extra):
        return (client or self.client).post(
            f"{API}/auth/login",
            {"email": email, "password": password, "tenant": "acme", **extra},
            content_type="application/json",
        )

    def session(self, email: str) -> dict[str, Any]:
        """A fresh session of that person in acme (the login answer)."""
        r = self.login(email)
        assert r.status_code == 200, r.content
        return r.json()

    def token(self, who: Membership) -> str:
        email = who.user.email
        if email not in self._tokens:
            self._tokens[email] = self.session(email)["access_token"]
        return self._tokens[email]

    def call(
        self, method: str, path: str, body=None, *, token: str | None = None, client=None
    ) -> HttpResponse:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        send = getattr(client or self.client, method)
        if method in ("get", "delete") and body is None:
            return send(API + path, headers=headers)
        data = body if body is not None else {}
        return send(API + path, data, content_type="application/json", headers=headers)

    def as_admin(self, method: str, path: str, body=None) -> HttpResponse:
        return self.call(method, path, body, token=self.token(self.admin))

    def as_member(self, method: str, path: str, body=None) -> HttpResponse:
        return self.call(method, path, body, token=self.token(self.member))


@pytest.fixture
def world(db) -> World:
    acme = make_tenant("acme")
    return World(
        acme=acme,
        admin=make_member(acme, ADMIN_EMAIL, roles=["admin"]),
        member=make_member(acme, MEMBER_EMAIL, roles=["member"], department="Sales"),
    )


@dataclass(frozen=True)
class Caused:
    """What an action did: the answer, the status expected, and the event it must have written."""

    response: HttpResponse
    status: int
    resource_type: str = ""
    resource_id: Any = ""  # "" when the event names no resource worth checking
    platform: bool = False  # the event belongs to the platform chain (no tenant)
    changes: dict[str, Any] = field(default_factory=dict)  # a subset the event's changes hold


def code_now(secret: str, offset_steps: int = 0) -> str:
    """The TOTP code `offset_steps` steps from now (a later step than one already used)."""
    return totp.code_at_step(secret, totp.time_step(time.time()) + offset_steps)


def enrol_mfa(w: World, who: Membership) -> tuple[str, str, list[str]]:
    """TOTP on for that person: (access token, secret, backup codes)."""
    token = w.session(who.user.email)["access_token"]
    setup = w.call("post", "/auth/mfa/totp/setup", token=token)
    assert setup.status_code == 200, setup.content
    secret = setup.json()["secret"]
    confirm = w.call("post", "/auth/mfa/totp/confirm", {"code": code_now(secret)}, token=token)
    assert confirm.status_code == 200, confirm.content
    return token, secret, confirm.json()["backup_codes"]


def window(days: float = 1.0) -> dict[str, str]:
    return {"ends_at": (timezone.now() + timedelta(days=days)).isoformat()}


def doc_grant(user_id) -> dict[str, Any]:
    return {
        "subject": {"user_id": str(user_id)},
        "permission": "user:read",
        "resource_type": "document",
        "resource_id": "42",
    }


# --- authentication -----------------------------------------------------------------------------


def login_ok(w: World) -> Caused:
    r = w.login(MEMBER_EMAIL)
    return Caused(r, 200, "session", r.json().get("session_id", "?"))


def login_wrong_password(w: World) -> Caused:
    r = w.login(MEMBER_EMAIL, WRONG)
    return Caused(r, 401, "user", w.member.user_id, changes={"reason": "bad_credentials"})


def logout(w: World) -> Caused:
    body = w.session(MEMBER_EMAIL)
    w.start()
    r = w.call("post", "/auth/logout", token=body["access_token"])
    return Caused(r, 204, "session", body["session_id"])


def revoke_own_other_session(w: World) -> Caused:
    other = w.session(MEMBER_EMAIL)
    current = w.session(MEMBER_EMAIL)
    w.start()
    r = w.call("delete", f"/auth/sessions/{other['session_id']}", token=current["access_token"])
    return Caused(r, 204, "session", other["session_id"])


def present_a_spent_refresh_token(w: World) -> Caused:
    body = w.session(MEMBER_EMAIL)
    rotated = w.call("post", "/auth/refresh", {"refresh_token": body["refresh_token"]})
    assert rotated.status_code == 200, rotated.content
    w.start()
    thief = Client(REMOTE_ADDR="203.0.113.66", HTTP_USER_AGENT="stolen-token/1.0")
    r = w.call("post", "/auth/refresh", {"refresh_token": body["refresh_token"]}, client=thief)
    return Caused(r, 401, "session", body["session_id"])


def change_own_password(w: World) -> Caused:
    token = w.token(w.member)
    w.start()
    r = w.call(
        "post",
        "/auth/password/change",
        {"current_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD},
        token=token,
    )
    # made from a session in acme: the tenant's administrators see it in their trail
    return Caused(r, 204, "user", w.member.user_id)


def reset_password_by_email(w: World) -> Caused:
    asked = w.call("post", "/auth/password/reset", {"email": MEMBER_EMAIL})
    assert asked.status_code == 202, asked.content
    (message,) = [m for m in mail.outbox if m.to == [MEMBER_EMAIL]]
    found = re.search(r"/reset/\?token=([A-Za-z0-9_-]+)", message.body)
    assert found, message.body
    w.start()
    r = w.call(
        "post",
        "/auth/password/reset/confirm",
        {"token": found.group(1), "new_password": NEW_PASSWORD},
    )
    return Caused(r, 204, "user", w.member.user_id, platform=True, changes={"stage": "completed"})


def five_wrong_passwords(w: World) -> Caused:
    """The tenant's lockout threshold (5): the fifth failure locks, the right password is 429."""
    for _ in range(5):
        failed = w.login(MEMBER_EMAIL, WRONG)
        assert failed.status_code == 401, failed.content
    r = w.login(MEMBER_EMAIL)
    return Caused(r, 429, "user", w.member.user_id, changes={"scope": "account"})


def brute_force_one_account(w: World) -> Caused:
    """Five failed logins on one account within ten minutes: the `brute_force_account` rule."""
    r = None
    for _ in range(5):
        r = w.login(MEMBER_EMAIL, WRONG)
        assert r.status_code == 401, r.content
    return Caused(r, 401, "user", w.member.user_id, changes={"rule": "brute_force_account"})


# --- MFA ----------------------------------------------------------------------------------------


def enable_mfa(w: World) -> Caused:
    token = w.session(MEMBER_EMAIL)["access_token"]
    setup = w.call("post", "/auth/mfa/totp/setup", token=token)
    assert setup.status_code == 200, setup.content
    w.start()
    r = w.call(
        "post", "/auth/mfa/totp/confirm", {"code": code_now(setup.json()["secret"])}, token=token
    )
    return Caused(r, 200, "user", w.member.user_id, changes={"factor": "totp"})


def disable_mfa(w: World) -> Caused:
    token, secret, _ = enrol_mfa(w, w.member)
    w.start()
    # a later time step than the one confirm used: replay protection refuses that one
    r = w.call(
        "post",
        "/auth/mfa/disable",
        {"password": DEFAULT_PASSWORD, "code": code_now(secret, 1)},
        token=token,
    )
    return Caused(r, 204, "user", w.member.user_id)


def sign_in_with_a_backup_code(w: World) -> Caused:
    _, _, backup_codes = enrol_mfa(w, w.member)
    pending = w.login(MEMBER_EMAIL)
    assert pending.status_code == 200 and pending.json().get("mfa_required"), pending.content
    w.start()
    r = w.call(
        "post",
        "/auth/mfa/verify",
        {"mfa_token": pending.json()["mfa_token"], "code": backup_codes[0]},
    )
    return Caused(r, 200, "user", w.member.user_id, changes={"backup_codes_remaining": 9})


# --- members ------------------------------------------------------------------------------------


def update_profile(w: World) -> Caused:
    w.token(w.admin)
    w.start()
    r = w.as_admin("patch", f"/users/{w.member.user_id}", {"job_title": "Account executive"})
    return Caused(r, 200, "user", w.member.user_id)


def create_user(w: World) -> Caused:
    w.token(w.admin)
    w.start()
    r = w.as_admin("post", "/users", {"email": "newcomer@acme.test", "roles": ["viewer"]})
    return Caused(r, 201, "user", r.json().get("id", "?"))


def deactivate_user(w: World) -> Caused:
    w.token(w.admin)
    w.start()
    r = w.as_admin("post", f"/users/{w.member.user_id}/deactivate")
    return Caused(r, 200, "user", w.member.user_id)


def remove_member(w: World) -> Caused:
    w.token(w.admin)
    w.start()
    r = w.as_admin("delete", f"/users/{w.member.user_id}")
    return Caused(r, 204, "user", w.member.user_id)


def assign_role(w: World) -> Caused:
    w.token(w.admin)
    w.start()
    r = w.as_admin("post", f"/users/{w.member.user_id}/roles", {"roles": ["viewer"]})
    return Caused(r, 200, "membership", w.member.pk, changes={"role": "viewer"})


def unassign_role(w: World) -> Caused:
    w.token(w.admin)
    w.start()
    r = w.as_admin("delete", f"/users/{w.member.user_id}/roles/member")
    return Caused(r, 204, "membership", w.member.pk, changes={"role": "member"})


def set_overrides(w: World) -> Caused:
    w.token(w.admin)
    w.start()
    rules = [{"effect": "allow", "permission": "audit_log:read", "scope": "all"}]
    r = w.as_admin("put", f"/users/{w.member.user_id}/overrides", {"rules": rules})
    return Caused(r, 200, "membership", w.member.pk)


# --- roles --------------------------------------------------------------------------------------

EDITOR = {
    "slug": "editor",
    "name": "Editor",
    "rules": [{"effect": "allow", "permission": "user:update", "scope": "all"}],
}


def create_role(w: World) -> Caused:
    w.token(w.admin)
    w.start()
    r = w.as_admin("post", "/roles", EDITOR)
    return Caused(r, 201, "role", "editor")


def update_role(w: World) -> Caused:
    created = w.as_admin("post", "/roles", EDITOR)
    assert created.status_code == 201, created.content
    w.start()
    rules = [{"effect": "allow", "permission": "user:read", "scope": "all"}]
    r = w.as_admin("patch", "/roles/editor", {"description": "Edits profiles", "rules": rules})
    return Caused(r, 200, "role", "editor")


def delete_role(w: World) -> Caused:
    created = w.as_admin("post", "/roles", EDITOR)
    assert created.status_code == 201, created.content
    w.start()
    r = w.as_admin("delete", "/roles/editor")
    return Caused(r, 204, "role", "editor")


# --- grants and delegations ---------------------------------------------------------------------


def create_grant(w: World) -> Caused:
    w.token(w.admin)
    w.start()
    r = w.as_admin("post", "/grants", doc_grant(w.member.user_id))
    return Caused(r, 201, "grant", r.json().get("id", "?"))


def revoke_grant(w: World) -> Caused:
    created = w.as_admin("post", "/grants", doc_grant(w.member.user_id))
    assert created.status_code == 201, created.content
    grant_id = created.json()["id"]
    w.start()
    r = w.as_admin("delete", f"/grants/{grant_id}")
    return Caused(r, 204, "grant", grant_id)


def delegate_to_admin(w: World) -> dict[str, Any]:
    return {"delegate_id": str(w.admin.user_id), "permissions": ["grant:read"], **window()}


def create_delegation(w: World) -> Caused:
    w.token(w.member)
    w.start()
    r = w.as_member("post", "/delegations", delegate_to_admin(w))
    return Caused(r, 201, "delegation", r.json().get("id", "?"))


def approve_delegation(w: World) -> Caused:
    """Four eyes: the member lends to a colleague, the administrator (neither party) approves."""
    setting = w.as_admin(
        "patch", "/tenant", {"settings": {"delegation": {"require_approval": True}}}
    )
    assert setting.status_code == 200, setting.content
    colleague = make_member(w.acme, "colleague@acme.test", roles=["member"])
    body = {"delegate_id": str(colleague.user_id), "permissions": ["grant:read"], **window()}
    created = w.as_member("post", "/delegations", body)
    assert created.status_code == 201 and created.json()["status"] == "pending", created.content
    delegation_id = created.json()["id"]
    w.start()
    r = w.as_admin("post", f"/delegations/{delegation_id}/approve")
    return Caused(r, 200, "delegation", delegation_id, changes={"status": "active"})


def revoke_delegation(w: World) -> Caused:
    created = w.as_member("post", "/delegations", delegate_to_admin(w))
    assert created.status_code == 201, created.content
    delegation_id = created.json()["id"]
    w.start()
    r = w.as_member("post", f"/delegations/{delegation_id}/revoke")
    return Caused(r, 200, "delegation", delegation_id, changes={"status": "revoked"})


# --- API keys, tenant settings, privacy ---------------------------------------------------------


def create_api_key(w: World) -> Caused:
    w.token(w.member)
    w.start()
    r = w.as_member("post", "/api-keys", {"name": "ci", "scopes": ["user:read"]})
    return Caused(r, 201, "api_key", r.json().get("id", "?"))


def revoke_api_key(w: World) -> Caused:
    created = w.as_member("post", "/api-keys", {"name": "ci", "scopes": ["user:read"]})
    assert created.status_code == 201, created.content
    key_id = created.json()["id"]
    w.start()
    r = w.as_member("delete", f"/api-keys/{key_id}")
    return Caused(r, 204, "api_key", key_id)


def change_tenant_settings(w: World) -> Caused:
    w.token(w.admin)
    w.start()
    r = w.as_admin("patch", "/tenant", {"settings": {"sessions": {"max_sessions": 3}}})
    return Caused(r, 200, "tenant", w.acme.pk)


def export_member_data(w: World) -> Caused:
    w.token(w.admin)
    w.start()
    r = w.as_admin("get", f"/users/{w.member.user_id}/export")
    if r.status_code == 200:
        b"".join(r.streaming_content)  # the whole answer, as a client would read it
    return Caused(r, 200, "user", w.member.user_id)


def export_audit_log(w: World) -> Caused:
    w.token(w.admin)
    w.start()
    r = w.as_admin("get", "/audit-events/export?format=jsonl")
    if r.status_code == 200:
        b"".join(r.streaming_content)
    return Caused(r, 200, "audit_log", changes={"format": "jsonl"})


def erase_member(w: World) -> Caused:
    w.token(w.admin)
    w.start()
    r = w.as_admin("post", f"/users/{w.member.user_id}/erase")
    return Caused(r, 200, "user", w.member.user_id)


# --- invitations and email verification ----------------------------------------------------------

GUEST = "guest@globex.test"


def _mailed(kind: str, to: str) -> str:
    for message in reversed(mail.outbox):
        found = re.search(rf"/{kind}/\?token=([A-Za-z0-9_-]+)", message.body)
        if message.to == [to] and found:
            return found.group(1)
    raise AssertionError(f"no {kind} mail to {to}")


def _invite_guest(w: World) -> HttpResponse:
    """Someone of another tenant, added to acme: an invited membership and its invitation."""
    make_member(make_tenant("globex"), GUEST)
    with TestCase.captureOnCommitCallbacks(execute=True):
        return w.as_admin("post", "/users", {"email": GUEST})


def invite_someone_elses_identity(w: World) -> Caused:
    w.token(w.admin)
    w.start()
    r = _invite_guest(w)
    invitation = Invitation.objects.filter(email=GUEST).first()
    return Caused(r, 201, "invitation", invitation.pk if invitation else "?")


def resend_invitation(w: World) -> Caused:
    _invite_guest(w)
    invitation = Invitation.objects.get(email=GUEST)
    w.start()
    r = w.as_admin("post", f"/invitations/{invitation.pk}/resend")
    return Caused(r, 200, "invitation", invitation.pk)


def revoke_invitation(w: World) -> Caused:
    _invite_guest(w)
    invitation = Invitation.objects.get(email=GUEST)
    w.start()
    r = w.as_admin("delete", f"/invitations/{invitation.pk}")
    return Caused(r, 204, "invitation", invitation.pk, changes={"membership_removed": True})


def accept_invitation(w: World) -> Caused:
    _invite_guest(w)
    invitation = Invitation.objects.get(email=GUEST)
    w.start()
    r = w.call(
        "post",
        "/auth/invitations/accept",
        {"token": _mailed("invitations/accept", GUEST), "password": NEW_PASSWORD},
    )
    return Caused(r, 200, "invitation", invitation.pk, changes={"identity_verified_now": True})


def verify_email(w: World) -> Caused:
    """The member's identity (created by acme, so managed by it) becomes the person's own."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        asked = w.call("post", "/auth/email/verify", {"email": MEMBER_EMAIL})
    assert asked.status_code == 202, asked.content
    w.start()
    r = w.call(
        "post",
        "/auth/email/verify/confirm",
        {"token": _mailed("verify-email", MEMBER_EMAIL), "password": NEW_PASSWORD},
    )
    return Caused(r, 204, "user", w.member.user_id)


Action = Callable[[World], Caused]

CASES: list[tuple[str, Action]] = [
    (AuditEventType.LOGIN, login_ok),
    (AuditEventType.LOGIN_FAILED, login_wrong_password),
    (AuditEventType.LOGOUT, logout),
    (AuditEventType.SESSION_REVOKED, revoke_own_other_session),
    (AuditEventType.TOKEN_REUSE_DETECTED, present_a_spent_refresh_token),
    (AuditEventType.PASSWORD_CHANGE, change_own_password),
    (AuditEventType.PASSWORD_RESET, reset_password_by_email),
    (AuditEventType.ACCOUNT_LOCKED, five_wrong_passwords),
    (AuditEventType.MFA_ENABLED, enable_mfa),
    (AuditEventType.MFA_DISABLED, disable_mfa),
    (AuditEventType.BACKUP_CODE_USED, sign_in_with_a_backup_code),
    (AuditEventType.PROFILE_UPDATE, update_profile),
    (AuditEventType.USER_CREATED, create_user),
    (AuditEventType.USER_DEACTIVATED, deactivate_user),
    (AuditEventType.MEMBERSHIP_REMOVED, remove_member),
    (AuditEventType.ROLE_CREATED, create_role),
    (AuditEventType.ROLE_UPDATED, update_role),
    (AuditEventType.ROLE_DELETED, delete_role),
    (AuditEventType.ROLE_ASSIGNED, assign_role),
    (AuditEventType.ROLE_REMOVED, unassign_role),
    (AuditEventType.PERMISSION_CHANGE, set_overrides),
    (AuditEventType.GRANT_CREATED, create_grant),
    (AuditEventType.GRANT_REVOKED, revoke_grant),
    (AuditEventType.DELEGATION_CREATED, create_delegation),
    (AuditEventType.DELEGATION_APPROVED, approve_delegation),
    (AuditEventType.DELEGATION_REVOKED, revoke_delegation),
    (AuditEventType.API_KEY_CREATED, create_api_key),
    (AuditEventType.API_KEY_REVOKED, revoke_api_key),
    (AuditEventType.TENANT_SETTINGS_CHANGED, change_tenant_settings),
    (AuditEventType.DATA_EXPORTED, export_member_data),
    (AuditEventType.DATA_EXPORTED, export_audit_log),
    (AuditEventType.DATA_ERASED, erase_member),
    (AuditEventType.SUSPICIOUS_ACTIVITY, brute_force_one_account),
    (AuditEventType.INVITATION_CREATED, invite_someone_elses_identity),
    (AuditEventType.INVITATION_RESENT, resend_invitation),
    (AuditEventType.INVITATION_REVOKED, revoke_invitation),
    (AuditEventType.INVITATION_ACCEPTED, accept_invitation),
    (AuditEventType.EMAIL_VERIFIED, verify_email),
]


def _describe(events: list[AuditEvent]) -> list[tuple]:
    return [(e.type, e.chain, e.resource_type, e.resource_id, e.changes) for e in events]


def test_every_required_type_has_an_action():
    assert {str(t) for t, _ in CASES} == REQUIRED
    assert REQUIRED <= set(AuditEventType.values)


@pytest.mark.parametrize(
    ("event_type", "action"),
    [pytest.param(t, a, id=f"{t}-{a.__name__}") for t, a in CASES],
)
def test_the_action_writes_its_audit_event(world, event_type, action):
    world.start()
    caused = action(world)
    assert caused.response.status_code == caused.status, caused.response.content

    written = world.new_events(event_type)
    assert written, f"no new {event_type} event; the action wrote {_describe(world.new_events())}"
    chain = PLATFORM_CHAIN if caused.platform else str(world.acme.pk)
    tenant_id = None if caused.platform else world.acme.pk
    in_chain = [e for e in written if e.chain == chain and e.tenant_id == tenant_id]
    assert in_chain, f"{event_type} written outside the expected chain: {_describe(written)}"
    matching = [
        e
        for e in in_chain
        if e.resource_type == caused.resource_type
        and (caused.resource_id == "" or e.resource_id == str(caused.resource_id))
        and all((e.changes or {}).get(k) == v for k, v in caused.changes.items())
    ]
    assert matching, (
        f"no {event_type} about {caused.resource_type}:{caused.resource_id} "
        f"with {caused.changes}: {_describe(in_chain)}"
    )


# --- a refused change writes nothing ------------------------------------------------------------


def bad_role(w: World) -> HttpResponse:
    return w.as_admin(
        "post",
        "/roles",
        {
            "slug": "broken",
            "name": "Broken",
            "rules": [{"effect": "allow", "permission": "x:y", "condition": {"nope": []}}],
        },
    )


def bad_tenant_settings(w: World) -> HttpResponse:
    return w.as_admin("patch", "/tenant", {"settings": {"lockout": {"max_failures": 0}}})


def bad_overrides(w: World) -> HttpResponse:
    rules = [{"effect": "allow", "permission": "not a permission", "scope": "all"}]
    return w.as_admin("put", f"/users/{w.member.user_id}/overrides", {"rules": rules})


def weak_new_password(w: World) -> HttpResponse:
    return w.as_member(
        "post",
        "/auth/password/change",
        {"current_password": DEFAULT_PASSWORD, "new_password": "short"},
    )


@pytest.mark.parametrize(
    ("event_type", "refused"),
    [
        pytest.param(AuditEventType.ROLE_CREATED, bad_role, id="ROLE_CREATED-invalid-rule"),
        pytest.param(
            AuditEventType.TENANT_SETTINGS_CHANGED,
            bad_tenant_settings,
            id="TENANT_SETTINGS_CHANGED-invalid-settings",
        ),
        pytest.param(
            AuditEventType.PERMISSION_CHANGE, bad_overrides, id="PERMISSION_CHANGE-invalid-rule"
        ),
        pytest.param(
            AuditEventType.PASSWORD_CHANGE, weak_new_password, id="PASSWORD_CHANGE-weak-password"
        ),
    ],
)
def test_a_refused_change_leaves_no_event(world, event_type, refused):
    world.token(world.admin)
    world.token(world.member)
    settings_before = Tenant.objects.get(pk=world.acme.pk).settings
    world.start()
    r = refused(world)
    assert r.status_code == 422, r.content
    assert world.new_events(event_type) == []
    assert Tenant.objects.get(pk=world.acme.pk).settings == settings_before
    assert not world.acme.roles.filter(slug="broken").exists()
