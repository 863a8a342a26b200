"""The CLI: `tessera decide` and `tessera load-role-template`."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from tessera.access.models import Role
from tessera.access.role_templates import LIMS
from tessera.access.selectors import role_get
from tessera.access.services.assignments import role_assign
from tessera.audit.models import AuditEvent
from tessera.engine import Resource
from tests.factories import make_member

pytestmark = pytest.mark.django_db


def decide(*args: str) -> tuple[int, str]:
    out = StringIO()
    try:
        call_command("decide", *args, stdout=out)
    except SystemExit as exc:
        return int(exc.code), out.getvalue()
    return 0, out.getvalue()


def test_decide_prints_allowed_and_exits_0(tenant):
    make_member(tenant, "v@example.test", roles=["viewer"])
    code, out = decide("v@example.test", "acme", "user:read")
    assert code == 0 and out.startswith("allowed")


def test_decide_prints_denied_and_exits_1(tenant):
    make_member(tenant, "v@example.test", roles=["viewer"])
    code, out = decide("V@Example.test", "acme", "user:create")
    assert code == 1 and out.startswith("denied")


def test_decide_explains_in_json(tenant):
    make_member(tenant, "v@example.test", roles=["viewer"])
    code, out = decide("v@example.test", "acme", "user:read", "--explain")
    body = json.loads(out.split("\n", 2)[2])
    assert code == 0 and body["allowed"] is True
    assert body["matched"][0]["source"]["path"] == ["viewer"]


def test_decide_takes_a_resource(tenant):
    from tessera.access.services.grants import grant_create

    member = make_member(tenant, "g@example.test", roles=[])
    grant_create(
        tenant=tenant,
        membership=member,
        permission="doc:read",
        resource_type="doc",
        resource_id="5",
    )
    args = ("g@example.test", str(tenant.pk), "doc:read", "--resource-type", "doc")
    assert decide(*args, "--resource-id", "5")[0] == 0
    assert decide(*args, "--resource-id", "6")[0] == 1
    assert decide("g@example.test", "acme", "doc:read", "--resource-id", "5")[0] == 0


@pytest.mark.parametrize(
    "args",
    [
        ("nobody@example.test", "acme", "user:read"),
        ("v@example.test", "nope", "user:read"),
        ("v@example.test", "acme", "not-an-action"),
        ("v@example.test", "acme", "user:*"),
    ],
)
def test_decide_refuses_bad_input_with_exit_2(tenant, args):
    make_member(tenant, "v@example.test", roles=["viewer"])
    with pytest.raises(CommandError) as err:
        call_command("decide", *args, stdout=StringIO())
    assert err.value.returncode == 2


def test_the_lims_template_loads_once(tenant):
    out = StringIO()
    call_command("load-role-template", "lims", "--tenant", "acme", stdout=out)
    assert set(Role.objects.filter(tenant=tenant).values_list("slug", flat=True)) >= set(LIMS)
    assert "9 created" in out.getvalue()
    events = AuditEvent.objects.filter(tenant_id=tenant.pk, type="ROLE_CREATED").count()
    out = StringIO()
    call_command("load-role-template", "lims", "--tenant", "acme", stdout=out)
    assert "0 created, 9 existing" in out.getvalue()
    assert AuditEvent.objects.filter(tenant_id=tenant.pk, type="ROLE_CREATED").count() == events
    assert list(role_get(tenant=tenant, slug="checker").parents.values_list("slug", flat=True)) == [
        "technician"
    ]


def test_the_lims_template_keeps_the_four_eyes_principle(tenant):
    from tests.access.helpers import allowed

    call_command("load-role-template", "lims", "--tenant", "acme", stdout=StringIO())
    checker = make_member(tenant, roles=[], attributes={"qualifications": ["hplc"]})
    role_assign(membership=checker, role=role_get(tenant=tenant, slug="checker"))
    mine = Resource("result", id="1", owner_id=str(checker.user_id))
    theirs = Resource("result", id="2", owner_id="someone-else")
    assert allowed(checker, "result:check", theirs)
    assert not allowed(checker, "result:check", mine)
    assert allowed(checker, "test:perform", Resource("test", attributes={"qualification": "hplc"}))
    assert not allowed(
        checker, "test:perform", Resource("test", attributes={"qualification": "gc"})
    )
    approver = make_member(tenant, roles=[])
    role_assign(membership=approver, role=role_get(tenant=tenant, slug="approver"))
    assert not allowed(approver, "report:release")
    assert allowed(approver, "report:release", mfa_verified=True)
    customer = make_member(tenant, roles=[])
    role_assign(membership=customer, role=role_get(tenant=tenant, slug="customer"))
    own = Resource("sample", id="s", owner_id=str(customer.user_id))
    assert allowed(customer, "sample:read", own)
    assert not allowed(customer, "sample:read", Resource("sample", owner_id="x"))
    assert not allowed(customer, "result:read", own)


def test_an_unknown_tenant_is_refused(db):
    with pytest.raises(CommandError):
        call_command("load-role-template", "lims", "--tenant", "nope", stdout=StringIO())
