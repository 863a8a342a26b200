"""Child process: migrate the benchmark database and seed it once; print what the suite needs.

`python -m benchmarks.http.prepare` with TESSERA_DATABASE_URL (PostgreSQL) or TESSERA_VAR_DIR
(SQLite) set by the parent. The seed — a tenant with 100,000 members, realistic names (about 1 %
named Smith), a manager and a platform administrator who can sign in — is written in one
transaction that ends by creating a marker identity; a database holding the marker is reused as
it is. The last line printed is JSON (the suite reads it).
"""

from __future__ import annotations

import json
import os
import random
import sys
import time
import uuid

TENANT = "bench-http"
DOMAIN = "bench-http.example"
MANAGER_EMAIL = f"manager@{DOMAIN}"
ADMIN_EMAIL = f"admin@{DOMAIN}"
LOGIN_EMAIL = f"login@{DOMAIN}"  # the login row's person (its sessions churn: max_sessions)
ROTATORS = 24  # people whose refresh chains the refresh row rotates, one chain per connection
PASSWORD = "bench-http-password-correct-horse"  # noqa: S105 - a benchmark account on a bench db
MEMBERS = int(os.environ.get("TESSERA_BENCH_MEMBERS", "100000"))
SUBJECTS = 20  # members the batch row asks about
BATCH = 5_000
SMITH_SHARE = 0.01  # `q=smith` matches about 1 % of the members

FIRST_NAMES = (
    "Ada Alan Alice Amara Anna Aziz Bea Boris Carla Chen Chloe Dana David Elena Emil Eva Farah "
    "Felix Grace Hana Hugo Ines Ivan Jade James Jonas Julia Kai Karin Lars Lea Leo Lina Luca "
    "Maria Maya Mia Michael Nadia Nils Noah Olga Omar Paula Pedro Petra Priya Quinn Robert Rosa "
    "Ruben Sara Sven Tara Theo Uma Vera Viktor Wanda Yara Yusuf Zoe"
).split()
# no surname but Smith contains "smith" (no Goldsmith, no Smithson)
LAST_NAMES = (
    "Andersen Baker Bauer Berg Brown Clarke Costa Davies Dubois Eriksson Evans Fischer Garcia "
    "Gonzalez Green Hall Hansen Harris Horvat Hughes Ibrahim Jackson Jensen Johnson Jones Khan "
    "Kowalski Kumar Larsen Lee Lewis Lopez Martin Martinez Meyer Miller Moore Moreau Muller Nagy "
    "Nguyen Novak Olsen Patel Petrov Quist Roberts Robinson Rossi Schmidt Silva Singh Tanaka "
    "Taylor Thomas Thompson Torres Varga Vogel Wagner Walker Weber White Williams Wilson Wong "
    "Wright Yilmaz Young Zhang"
).split()
DEPARTMENTS = ("QA", "QC", "R&D", "Production", "Sales", "Finance", "IT", "HR", "Logistics")
JOB_TITLES = ("Analyst", "Engineer", "Technician", "Lead", "Specialist", "Coordinator")


def marker_email() -> str:
    return f"seeded-{MEMBERS}@{DOMAIN}"


def rotator_email(n: int) -> str:
    return f"rotator-{n:02d}@{DOMAIN}"


def seed_rows(rng: random.Random, start: int, size: int, tenant, role, now):
    """(users, memberships, role assignments) for members start … start+size-1."""
    from tessera.access.models import RoleAssignment
    from tessera.identity.models import User
    from tessera.tenancy.models import Membership

    users, members, assignments = [], [], []
    for i in range(start, start + size):
        first = rng.choice(FIRST_NAMES)
        last = "Smith" if rng.random() < SMITH_SHARE else rng.choice(LAST_NAMES)
        user = User(
            id=uuid.uuid4(),
            email=f"{first}.{last}.{i}@people.{DOMAIN}".lower(),
            first_name=first,
            last_name=last,
            password="!seeded",  # unusable: seeded members cannot sign in  # noqa: S106
            created_at=now,
            updated_at=now,
        )
        member = Membership(
            id=uuid.uuid4(),
            user_id=user.id,
            tenant_id=tenant.pk,
            department=rng.choice(DEPARTMENTS),
            job_title=rng.choice(JOB_TITLES),
            employee_id=f"B{i:07d}",
            created_at=now,
            updated_at=now,
        )
        users.append(user)
        members.append(member)
        assignments.append(RoleAssignment(id=uuid.uuid4(), membership_id=member.id, role=role))
    return users, members, assignments


def seed(tenant) -> None:
    """MEMBERS members and the marker, in one transaction."""
    from django.db import transaction
    from django.utils import timezone

    from tessera.access.models import Role, RoleAssignment
    from tessera.identity.models import User
    from tessera.tenancy.models import Membership
    from tessera.tenancy.services import tenant_policy_bump

    role = Role.objects.get(tenant=tenant, slug="member")
    rng = random.Random(17)  # noqa: S311 - synthetic names
    now = timezone.now()
    with transaction.atomic():
        for start in range(0, MEMBERS, BATCH):
            users, members, assignments = seed_rows(
                rng, start, min(BATCH, MEMBERS - start), tenant, role, now
            )
            User.objects.bulk_create(users, batch_size=BATCH)
            Membership.objects.bulk_create(members, batch_size=BATCH)
            RoleAssignment.objects.bulk_create(assignments, batch_size=BATCH)
        tenant_policy_bump(tenant_id=tenant.pk)
        User.objects.create_user(marker_email(), None)


def prepare() -> dict:
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from tessera.access.services.assignments import role_assign_system
    from tessera.administration.bootstrap import bootstrap
    from tessera.authn.sessions import session_create, session_tokens_issue
    from tessera.identity.models import User
    from tessera.tenancy.models import Membership
    from tessera.tenancy.services import membership_create

    started = time.perf_counter()
    call_command("migrate", verbosity=0, interactive=False)
    tenant = bootstrap(
        tenant_slug=TENANT, tenant_name="HTTP bench", admin_email=ADMIN_EMAIL, admin_password=None
    ).tenant
    admin = User.objects.get(email=ADMIN_EMAIL)
    if not admin.check_password(PASSWORD):
        admin.set_password(PASSWORD)
        admin.save(update_fields=["password"])
    people = {MANAGER_EMAIL: "manager", LOGIN_EMAIL: "member"}
    people.update({rotator_email(n): "member" for n in range(ROTATORS)})
    for email, role in people.items():
        if not User.objects.filter(email=email).exists():
            person = User.objects.create_user(email, PASSWORD, first_name="Bench")
            role_assign_system(membership=membership_create(tenant=tenant, user=person), slug=role)
    migrated = time.perf_counter()
    seeded = None
    if not User.objects.filter(email=marker_email()).exists():
        seed(tenant)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        seeded = round(time.perf_counter() - migrated, 1)
    members = Membership.objects.filter(tenant=tenant)
    chains = [
        session_tokens_issue(
            session=session_create(
                user=membership.user, tenant=tenant, membership=membership, ip="127.0.0.1"
            )
        ).refresh_token
        for membership in members.filter(
            user__email__in=[rotator_email(n) for n in range(ROTATORS)]
        ).select_related("user")
    ]
    subjects = members.filter(employee_id__startswith="B").order_by("employee_id")[:SUBJECTS]
    return {
        "tenant": TENANT,
        "manager_email": MANAGER_EMAIL,
        "admin_email": ADMIN_EMAIL,
        "login_email": LOGIN_EMAIL,
        # heads of refresh-token chains, one person each (a person's sessions are capped), as a
        # password sign-in would have started them (without paying for its hashes here)
        "refresh_tokens": chains,
        "password": PASSWORD,
        "members": members.count(),
        "smith": members.filter(user__last_name="Smith").count(),
        "subject_ids": [str(m.user_id) for m in subjects],
        "seed_seconds": seeded,
        "prepare_seconds": round(time.perf_counter() - started, 1),
    }


if __name__ == "__main__":
    print(json.dumps(prepare()), flush=True)
    sys.exit(0)
