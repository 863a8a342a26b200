"""The soak's world, made inside `tessera shell` on the soak's database (Django is set up): a
tenant, ADMINS admins and the other clients and listeners as viewers, all signing in with
PASSWORD; prints `[tenant slug, [emails…]]` as JSON."""

from __future__ import annotations

import json
import random

from benchmarks.soak import ADMINS, CLIENTS, LISTENERS, PASSWORD
from tessera.access.services.assignments import role_assign_system
from tessera.identity.models import User
from tessera.tenancy.services import membership_create, tenant_create


def main() -> None:
    slug = f"soak-{random.randrange(10**9)}"
    tenant = tenant_create(slug=slug, name="Soak", settings={"mfa": {"required": "off"}})
    emails = []
    for n in range(CLIENTS + LISTENERS):
        email = f"{slug}-{n}@example.test"
        user = User.objects.create_user(email, PASSWORD)
        membership = membership_create(tenant=tenant, user=user)
        role_assign_system(membership=membership, slug="admin" if n < ADMINS else "viewer")
        emails.append(email)
    print(json.dumps([slug, emails]))
