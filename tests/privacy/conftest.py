"""The world of the GDPR tests: acme with an administrator, a colleague, a guest (no `user:read`)
and Zebulon — the person whose data is exported or erased, who signs in from his own address and
browser, holds an API key, MFA, a trusted device, a grant, an override and delegations; globex
with its own administrator (the outsider).

`personal_data_left(...)` scans every text, JSON and IP column of every installed model (new
tables are covered as soon as they exist) for the given strings and addresses.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import pyotp
import pytest
from django.apps import apps
from django.db.models import TextField
from django.db.models.functions import Cast
from django.utils import timezone

from tessera.access.models import Delegation, Role, RoleRule
from tessera.audit.services import Actor, audit_record
from tessera.authn.devices import device_trust
from tessera.identity.mfa import totp_confirm, totp_setup
from tessera.identity.models import PasswordHistory
from tests.api.conftest import Api
from tests.authn.conftest import bearer
from tests.factories import DEFAULT_PASSWORD, make_member, make_tenant, make_user

API = "/api/v1"
EMAIL = "zebulon.q@acme.test"
FIRST, LAST, PHONE = "Zebulon", "Quillfeather", "+15550142"
AVATAR = "https://img.example.test/zebulon-avatar.png"
IP = "198.51.100.23"
UA = "ZebBrowser/9.1 (privacy-test)"
TEXT_FIELDS = {"CharField", "TextField", "EmailField", "URLField", "SlugField"}


def personal_data_left(strings, ips) -> list[str]:
    """`model.field: value` for every row of any model that still holds one of them."""
    hits = []
    for model in apps.get_models():
        rows = model._base_manager.all()
        for f in model._meta.concrete_fields:
            kind = f.get_internal_type()
            if kind in TEXT_FIELDS:
                for value in (*strings, *ips):
                    if rows.filter(**{f"{f.attname}__icontains": value}).exists():
                        hits.append(f"{model._meta.label}.{f.name}: {value}")
            elif kind == "JSONField":
                as_text = rows.annotate(_scan=Cast(f.attname, TextField()))
                for value in (*strings, *ips):
                    if as_text.filter(_scan__icontains=value).exists():
                        hits.append(f"{model._meta.label}.{f.name}: {value}")
            elif kind == "GenericIPAddressField":
                for value in ips:
                    if rows.filter(**{f.attname: value}).exists():
                        hits.append(f"{model._meta.label}.{f.name}: {value}")
    return hits


def as_person(client, method, path, token=None, body=None, **headers):
    """A request from Zebulon's own address and browser."""
    if token:
        headers.update(bearer(token))
    call = getattr(client, method)
    kwargs = {"REMOTE_ADDR": IP, "HTTP_USER_AGENT": UA, "headers": headers}
    if method in ("get", "delete"):
        return call(API + path, **kwargs)
    return call(API + path, body or {}, content_type="application/json", **kwargs)


def person_login(client, tenant_slug="acme"):
    """Zebulon's password login (before his MFA is on: the fixture enables it afterwards)."""
    r = as_person(
        client,
        "post",
        "/auth/login",
        body={"email": EMAIL, "password": DEFAULT_PASSWORD, "tenant": tenant_slug},
    )
    assert r.status_code == 200, r.content
    return r.json()


@dataclass
class World:
    acme: object
    globex: object
    admin: object
    colleague: object
    guest: object
    person: object
    outsider: object
    token: str = ""
    api_key: str = ""
    extra: dict = field(default_factory=dict)

    def api(self, membership) -> Api:
        return Api(membership.user, membership.tenant.slug)

    @property
    def uid(self) -> str:
        return str(self.person.user_id)


@pytest.fixture
def world(db, client) -> World:
    acme, globex = make_tenant("acme"), make_tenant("globex")
    guest_role = Role.objects.create(tenant=acme, slug="guest", name="Guest")
    RoleRule.objects.create(role=guest_role, permission="tenant:read")
    user = make_user(
        EMAIL,
        first_name=FIRST,
        last_name=LAST,
        phone=PHONE,
        avatar_url=AVATAR,
        managed_by_tenant=acme,
    )
    person = make_member(
        acme,
        user=user,
        roles=["member"],
        department="Zebulon Lab",
        job_title="Quillfeather analyst",
        employee_id="ZQ-0142",
        attributes={"badge": "Zebulon-badge-0142"},
    )
    w = World(
        acme=acme,
        globex=globex,
        admin=make_member(acme, "boss@acme.test", roles=["admin"]),
        colleague=make_member(acme, "colleague@acme.test", roles=["member"]),
        guest=make_member(acme, "guest@acme.test", roles=["guest"]),
        person=person,
        outsider=make_member(globex, "admin@globex.test", roles=["admin"]),
    )
    # Zebulon signs in from his own machine and makes an API key
    tokens = person_login(client)
    w.token, w.extra["refresh"] = tokens["access_token"], tokens["refresh_token"]
    r = as_person(
        client, "post", "/api-keys", w.token, {"name": f"{FIRST}'s laptop", "scopes": ["user:read"]}
    )
    assert r.status_code == 201, r.content
    w.api_key = r.json()["key"]
    assert as_person(client, "get", "/auth/me", **{"X-API-Key": w.api_key}).status_code == 200
    # the administrator changes his profile, gives him a grant and an override
    admin = w.api(w.admin)
    assert admin.patch(f"/users/{w.uid}", {"last_name": f"{LAST}-Smythe"}).status_code == 200
    r = admin.post(
        "/grants",
        {
            "subject": {"user_id": w.uid},
            "permission": "grant:read",
            "resource_type": "document",
            "resource_id": "42",
        },
    )
    assert r.status_code == 201, r.content
    rules = [{"effect": "deny", "permission": "role:read", "scope": "all"}]
    assert admin.put(f"/users/{w.uid}/overrides", {"rules": rules}).status_code == 200
    # delegations given and received, with his name in the reason
    now = timezone.now()
    for delegator, delegate in ((person, w.colleague), (w.colleague, person)):
        Delegation.objects.create(
            tenant=acme,
            delegator=delegator,
            delegate=delegate,
            permissions=["grant:read"],
            starts_at=now,
            ends_at=now + timedelta(days=3),
            reason=f"{FIRST} {LAST} on leave",
        )
    # MFA on, a trusted device, a password reset asked from his address, an old password
    setup = totp_setup(user=user)
    mine = Actor(type="user", user_id=user.pk, ip=IP, user_agent=UA)
    totp_confirm(user=user, code=pyotp.TOTP(setup.secret).now(), actor=mine, tenant_id=acme.pk)
    device_trust(user=user, actor=mine, mfa_verified_at=now)
    PasswordHistory.objects.create(user=user, password=user.password)
    r = as_person(client, "post", "/auth/password/reset", body={"email": EMAIL})
    assert r.status_code == 202
    # an event that names him only by his email (no id links it to him)
    audit_record(
        type="USER_CREATED",
        tenant_id=acme.pk,
        resource_type="invitation",
        resource_id="inv-1",
        changes={"email": EMAIL, "source": "import"},
    )
    return w
