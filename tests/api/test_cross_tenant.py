"""Tenant isolation, walked over the OpenAPI document: every operation whose path takes a
parameter (an id or a slug) is called by tenant B's administrator on tenant A's object, and must
answer 404 and change nothing. The operations come from the served document, so a new endpoint
is walked as soon as it exists; a path parameter this suite cannot fill fails loudly.

Platform paths (/api/v1/tenants/{id}) answer 403 to a tenant administrator instead: they are not
tenant-scoped, and B's admin is not a platform administrator. The start of a single sign-on
(`/api/v1/auth/sso/{provider_id}/start`) is public on purpose — anyone's browser starts a sign-in
at any tenant's provider — and is walked by tests/sso instead.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import timedelta

import pytest
from django.utils import timezone

import tessera.urls  # noqa: F401  (mounts the API so the document has its real paths)
from tessera.access.models import Delegation, Grant, Role, RoleAssignment, RoleRule
from tessera.api.app import api as ninja_api
from tessera.audit.models import AuditChain
from tessera.authn.models import ApiKey, RefreshToken, Session, TrustedDevice
from tessera.directory.models import Domain
from tessera.lifecycle.models import Offboarding
from tessera.qualifications.models import QualificationRecord, QualificationType
from tessera.reviews.models import AccessReview, AccessReviewItem
from tessera.reviews.services import access_review_create_for_member
from tessera.scim.models import ScimToken
from tessera.sso.models import IdentityProvider
from tessera.tenancy.models import Invitation, Membership, MembershipStatus, Tenant
from tests.admin_api.test_revocation import make_session
from tests.api.conftest import Api
from tests.factories import make_member, make_tenant

METHODS = ("get", "post", "put", "patch", "delete")
PLATFORM_PREFIX = "/api/v1/tenants/"
PARAM = re.compile(r"{([^}]+)}")
PUBLIC = {"/api/v1/auth/sso/{provider_id}/start"}  # a sign-in's first step: no caller, no tenant


def _operations(document) -> list[tuple[str, str]]:
    return sorted(
        (method, path)
        for path, item in document["paths"].items()
        if PARAM.search(path) and path not in PUBLIC
        for method in METHODS
        if method in item
    )


OPERATIONS = _operations(ninja_api.get_openapi_schema())


# --- tenant A's objects, one per kind of path parameter -----------------------------------------


@pytest.fixture
def victim(db):
    """Tenant A ("acme") with one object of every kind; tenant B ("globex") with an admin."""
    acme, globex = make_tenant("acme"), make_tenant("globex")
    make_member(acme, "a-admin@acme.test", roles=["admin"])
    target = make_member(acme, "target@acme.test", roles=["member"])
    other = make_member(acme, "other@acme.test", roles=["viewer"])
    role = Role.objects.create(tenant=acme, slug="acme-only", name="Acme only")
    RoleRule.objects.create(role=role, permission="document:read")
    RoleAssignment.objects.create(membership=target, role=role)
    grant = Grant.objects.create(
        tenant=acme,
        membership=target,
        permission="document:read",
        resource_type="doc",
        resource_id="1",
    )
    now = timezone.now()
    delegation = Delegation.objects.create(
        tenant=acme,
        delegator=target,
        delegate=other,
        permissions=["grant:read"],
        starts_at=now,
        ends_at=now + timedelta(days=1),
        status="pending",
    )
    session = make_session(target)
    key = ApiKey.objects.create(
        tenant=acme,
        membership=target,
        name="k",
        prefix="victim01",
        key_hash="0" * 64,
        scopes=["user:read"],
        created_at=now,
    )
    device = TrustedDevice.objects.create(
        user=target.user,
        token_hash="1" * 64,
        created_at=now,
        mfa_verified_at=now,
        expires_at=now + timedelta(days=30),
    )
    intruder = make_member(globex, "b-admin@globex.test", roles=["admin"])
    invited = make_member(acme, "invited@acme.test", roles=[], status=MembershipStatus.INVITED)
    invitation = Invitation.objects.create(
        tenant=acme,
        membership=invited,
        email=invited.user.email,
        token_hash="2" * 64,
        created_at=now,
        sent_at=now,
        expires_at=now + timedelta(days=7),
    )
    review = access_review_create_for_member(membership=target, after_days=7)
    qualification = QualificationRecord.objects.create(
        tenant=acme,
        membership=target,
        type=QualificationType.objects.create(tenant=acme, code="hplc", name="HPLC"),
        level=2,
        valid_from=now,
    )
    Offboarding.objects.create(  # a cancelled one: the member is active, its export readable
        tenant=acme,
        membership=target,
        user_id=target.user_id,
        status="cancelled",
        erase_at=now + timedelta(days=30),
        export={"profile": {}},
    )
    provider = IdentityProvider.objects.create(
        tenant=acme, name="Acme IdP", issuer="https://idp.acme.test", client_id="acme"
    )
    domain = Domain.objects.create(tenant=acme, domain="acme.test", verification_token="t")
    scim_token = ScimToken.objects.create(
        tenant=acme, name="directory", prefix="victim02", token_hash="3" * 64, created_at=now
    )
    values = {
        "review_id": str(review.pk),
        "item_id": str(review.items.first().pk),
        "record_id": str(qualification.pk),
        "provider_id": str(provider.pk),
        "domain_id": str(domain.pk),
        "user_id": str(target.user_id),
        "slug": role.slug,
        "role_slug": role.slug,
        "grant_id": str(grant.pk),
        "delegation_id": str(delegation.pk),
        "session_id": str(session.pk),
        "tenant_id": str(acme.pk),
        "key_id": str(key.pk),
        "device_id": str(device.pk),
        "invitation_id": str(invitation.pk),
        "token_id": str(scim_token.pk),
    }
    return acme, intruder, values


def fingerprint(tenant) -> str:
    """Everything of tenant A an intruder could change, hashed."""
    rows = {
        "tenant": list(Tenant.objects.filter(pk=tenant.pk).values()),
        "memberships": list(Membership.objects.filter(tenant=tenant).order_by("pk").values()),
        "roles": list(Role.objects.filter(tenant=tenant).order_by("pk").values()),
        "rules": list(RoleRule.objects.filter(role__tenant=tenant).order_by("pk").values()),
        "assignments": list(
            RoleAssignment.objects.filter(role__tenant=tenant).order_by("pk").values()
        ),
        "grants": list(Grant.objects.filter(tenant=tenant).order_by("pk").values()),
        "delegations": list(Delegation.objects.filter(tenant=tenant).order_by("pk").values()),
        "sessions": list(Session.objects.filter(tenant=tenant).order_by("pk").values()),
        "refresh": list(
            RefreshToken.objects.filter(session__tenant=tenant).order_by("pk").values()
        ),
        "audit": list(AuditChain.objects.filter(key=str(tenant.pk)).values()),
        "api_keys": list(ApiKey.objects.filter(tenant=tenant).order_by("pk").values()),
        "access_reviews": list(AccessReview.objects.filter(tenant=tenant).values()),
        "review_items": list(
            AccessReviewItem.objects.filter(review__tenant=tenant).order_by("pk").values()
        ),
        "invitations": list(Invitation.objects.filter(tenant=tenant).order_by("pk").values()),
        "scim_tokens": list(ScimToken.objects.filter(tenant=tenant).order_by("pk").values()),
        "devices": list(
            TrustedDevice.objects.filter(user__memberships__tenant=tenant).order_by("pk").values()
        ),
        "qualifications": list(
            QualificationRecord.objects.filter(tenant=tenant).order_by("pk").values()
        ),
        "offboardings": list(Offboarding.objects.filter(tenant=tenant).order_by("pk").values()),
        "identity_providers": list(
            IdentityProvider.objects.filter(tenant=tenant).order_by("pk").values()
        ),
        "domains": list(Domain.objects.filter(tenant=tenant).order_by("pk").values()),
    }
    return hashlib.sha256(json.dumps(rows, default=str, sort_keys=True).encode()).hexdigest()


# --- a valid body for each operation, from its schema -------------------------------------------


def _resolve(document, schema):
    while "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = document["components"]["schemas"][name]
    return schema


def sample(document, schema):
    """A value that passes the schema (so that validation cannot answer before the lookup)."""
    schema = _resolve(document, schema or {})
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            options = [s for s in schema[key] if _resolve(document, s).get("type") != "null"]
            return sample(document, options[0]) if options else None
    if "default" in schema:
        return schema["default"]
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        props = schema.get("properties", {})
        return {name: sample(document, props[name]) for name in schema.get("required", [])}
    if kind == "array":
        return []
    if kind == "integer":
        return max(1, schema.get("minimum", 1))
    if kind == "number":
        return 1
    if kind == "boolean":
        return False
    fmt = schema.get("format")
    if fmt == "date-time":
        return (timezone.now() + timedelta(days=1)).isoformat()
    if fmt == "email":
        return "someone@example.test"
    if fmt == "uuid":
        return "00000000-0000-4000-8000-000000000000"
    return "x" * max(1, schema.get("minLength", 1))


def request_body(document, operation):
    content = (operation.get("requestBody") or {}).get("content") or {}
    if "application/json" in content:
        value = sample(document, content["application/json"].get("schema"))
        if isinstance(value, dict) and "users" in value:
            value["users"] = [{"email": "someone@example.test"}]
        return value
    return None


# --- the walk -----------------------------------------------------------------------------------


def test_the_walk_covers_the_served_document(client, db):
    served = client.get("/api/openapi.json").json()
    assert _operations(served) == OPERATIONS
    assert len(OPERATIONS) >= 14  # users, roles, grants, delegations, tenants at least


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_another_tenants_object_answers_404_and_stays_unchanged(victim, method, path):
    tenant, intruder, values = victim
    missing = [name for name in PARAM.findall(path) if name not in values]
    assert not missing, (
        f"{method.upper()} {path}: no tenant-A object for {missing}; add one to the `victim` "
        "fixture so this endpoint is checked for tenant isolation"
    )
    url = PARAM.sub(lambda m: values[m.group(1)], path).removeprefix("/api/v1")
    document = ninja_api.get_openapi_schema()
    body = request_body(document, document["paths"][path][method])
    client = Api(intruder.user, intruder.tenant.slug)
    before = fingerprint(tenant)

    if method in ("get", "delete"):
        response = getattr(client, method)(url)
    else:
        response = getattr(client, method)(url, body if body is not None else {})

    expected = 403 if path.startswith(PLATFORM_PREFIX) else 404
    assert response.status_code == expected, (method, url, response.content[:300])
    assert response["Content-Type"] == "application/problem+json"
    assert fingerprint(tenant) == before, f"{method.upper()} {path} changed tenant A's data"


READS = [(m, p) for m, p in OPERATIONS if m == "get"]


@pytest.mark.parametrize(("method", "path"), READS, ids=[p for _, p in READS])
def test_control_the_same_reads_succeed_inside_tenant_a(victim, platform_admin, method, path):
    """The walk is not vacuous: the URLs it builds find the objects for the right caller."""
    tenant, _, values = victim
    url = PARAM.sub(lambda m: values[m.group(1)], path).removeprefix("/api/v1")
    if path.startswith(PLATFORM_PREFIX):
        client = Api(platform_admin)
    else:
        admin = Membership.objects.get(tenant=tenant, user__email="a-admin@acme.test")
        client = Api(admin.user, tenant.slug)
    assert client.get(url).status_code == 200
