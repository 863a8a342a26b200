from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from tessera.identity.models import User
from tessera.tenancy.models import Membership, Tenant


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def test_init_twice_creates_once_and_changes_nothing(db):
    args = (
        "init",
        "--tenant",
        "acme",
        "--admin-email",
        "Root@Acme.test",
        "--admin-password",
        "a long admin passphrase",
    )
    assert "created tenant, created admin, created membership" in run(*args)
    assert "tenant exists, admin exists, membership exists" in run(*args)
    assert Tenant.objects.count() == 1 and User.objects.count() == 1
    admin = User.objects.get()
    assert admin.email == "root@acme.test" and admin.is_platform_admin
    assert admin.check_password("a long admin passphrase") and not admin.must_change_password
    membership = Membership.objects.get()
    assert list(membership.role_assignments.values_list("role__slug", flat=True)) == ["admin"]


def test_createtenant_refuses_a_duplicate_slug(db):
    run("createtenant", "lab", "--name", "Lab")
    with pytest.raises(CommandError, match="already exists"):
        run("createtenant", "lab")


def test_first_run_creates_a_demo_admin_once_and_prints_the_password(db):
    first = run("bootstrap-demo")
    assert "password:" in first and "demo" in first
    password = first.split("password:")[1].split()[0]
    assert User.objects.get(email="admin@demo.example").check_password(password)
    assert run("bootstrap-demo") == ""
