"""`tessera seed-members --tenant SLUG --count N`: many synthetic members, fast (benchmarks).

Identities, memberships and role assignments are written with multi-row INSERTs in batches
(100,000 members in well under a minute on PostgreSQL). The members get an unusable password
(they cannot sign in), varied names and departments, and the `member` role. One audit event
records the seeding. Running it again adds members after the ones it already made.
"""

from __future__ import annotations

import random
import time
import uuid

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from tessera.access.models import Role, RoleAssignment
from tessera.audit.models import AuditEventType
from tessera.audit.services import audit_record
from tessera.identity.models import User
from tessera.tenancy.models import Membership, Tenant
from tessera.tenancy.services import tenant_create, tenant_policy_bump

FIRST_NAMES = (
    "Ada Alan Alice Amara Anna Aziz Bea Boris Carla Chen Chloe Dana David Elena Emil Eva Farah "
    "Felix Grace Hana Hugo Ines Ivan Jade Jonas Julia Kai Karin Lars Lea Leo Lina Luca Maya Mia "
    "Nadia Nils Noah Olga Omar Paula Pedro Petra Quinn Rosa Ruben Sara Sven Tara Theo Uma Vera "
    "Viktor Wanda Yara Yusuf Zoe"
).split()
LAST_NAMES = (
    "Andersen Bauer Berg Costa Dubois Eriksson Fischer Garcia Hansen Horvat Ibrahim Jensen "
    "Kowalski Larsen Lopez Martin Meyer Moreau Nagy Novak Olsen Petrov Quist Rossi Schmidt "
    "Silva Smith Tanaka Torres Varga Vogel Wagner Weber Wong Yilmaz Zhang"
).split()
DEPARTMENTS = ("QA", "QC", "R&D", "Production", "Sales", "Finance", "IT", "HR", "Logistics")
UNUSABLE_PASSWORD = "!seeded"  # Django treats passwords starting with "!" as unusable


class Command(BaseCommand):
    help = "Seed a tenant with N synthetic members (for benchmarks)."

    def add_arguments(self, parser):
        parser.add_argument("--tenant", required=True, help="tenant slug (created if missing)")
        parser.add_argument("--count", type=int, default=100_000)
        parser.add_argument("--batch", type=int, default=5_000)
        parser.add_argument("--role", default="member", help="role given to every seeded member")
        parser.add_argument("--seed", type=int, default=42, help="random seed for names")

    def handle(self, *args, tenant, count, batch, role, seed, **options):
        if count < 0 or batch < 1:
            raise CommandError("--count must be ≥ 0 and --batch ≥ 1")
        slug = tenant.lower()
        target = Tenant.objects.filter(slug=slug).first() or tenant_create(slug=slug, name=slug)
        role_obj = Role.objects.filter(tenant=target, slug=role).first()
        if role_obj is None:
            raise CommandError(f"no role {role!r} in tenant {slug}")
        domain = f"{slug}.seed.example"
        start = User.objects.filter(email__endswith="@" + domain).count()
        rng = random.Random(seed + start)  # noqa: S311 - synthetic names, not secrets
        began = time.monotonic()
        done = 0
        while done < count:
            size = min(batch, count - done)
            now = timezone.now()
            users, members, assignments = [], [], []
            for i in range(start + done, start + done + size):
                first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
                user = User(
                    id=uuid.uuid4(),
                    email=f"{first}.{last}.{i}@{domain}".lower(),
                    first_name=first,
                    last_name=last,
                    password=UNUSABLE_PASSWORD,
                    created_at=now,
                    updated_at=now,
                )
                member = Membership(
                    id=uuid.uuid4(),
                    user_id=user.id,
                    tenant_id=target.pk,
                    department=rng.choice(DEPARTMENTS),
                    job_title="Analyst",
                    employee_id=f"S{i:07d}",
                    created_at=now,
                    updated_at=now,
                )
                users.append(user)
                members.append(member)
                assignments.append(
                    RoleAssignment(id=uuid.uuid4(), membership_id=member.id, role=role_obj)
                )
            with transaction.atomic():
                User.objects.bulk_create(users, batch_size=batch)
                Membership.objects.bulk_create(members, batch_size=batch)
                RoleAssignment.objects.bulk_create(assignments, batch_size=batch)
            done += size
            if options.get("verbosity", 1) > 1:
                self.stdout.write(f"  {done}/{count}")
        with transaction.atomic():
            tenant_policy_bump(tenant_id=target.pk)
            audit_record(
                type=AuditEventType.USER_CREATED,
                tenant_id=target.pk,
                resource_type="tenant",
                resource_id=target.pk,
                changes={"seeded": count, "role": role},
            )
        elapsed = time.monotonic() - began
        self.stdout.write(f"seeded {count} members into {slug} in {elapsed:.1f}s")
