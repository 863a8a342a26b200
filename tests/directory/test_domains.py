"""Verified domains: claim, DNS TXT verification, platform approval, one verified owner."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from tessera.audit.models import AuditEvent
from tessera.directory.domains import (
    domain_approve,
    domain_challenge,
    domain_claim,
    domain_delete,
    domain_normalize,
    domain_verify,
)
from tessera.directory.errors import DomainInvalid
from tessera.directory.models import Domain
from tessera.directory.selectors import domain_for_email
from tessera.errors import Conflict
from tests.factories import make_member, make_tenant

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("Example.COM.", "example.com"),
        (" lab.example.org ", "lab.example.org"),
        ("bücher.de", "xn--bcher-kva.de"),
    ],
)
def test_domains_are_normalized(raw, expected):
    assert domain_normalize(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "localhost",
        "a@example.com",
        "http://example.com",
        "10.0.0.1",
        "-x.com",
        5,
        "a" * 64 + ".com",
        "exa mple.com",
    ],
)
def test_bad_domains_are_refused_with_a_field_error(raw):
    with pytest.raises(DomainInvalid) as err:
        domain_normalize(raw)
    assert err.value.status == 422
    assert err.value.errors[0]["field"] == "domain"


def test_a_txt_record_verifies_the_claim_and_routes_the_addresses(tenant, dns_records):
    domain = domain_claim(tenant=tenant, domain="Example.com")
    assert domain_for_email("ann@example.com") is None  # claimed is not verified
    challenge = domain_challenge(domain)
    assert challenge.name == "_tessera-challenge.example.com"
    with pytest.raises(Conflict) as err:
        domain_verify(domain=domain)
    assert err.value.code == "domain_not_verified"
    dns_records[challenge.name] = ["unrelated", challenge.value]
    domain_verify(domain=domain)
    assert domain.verified_by == "dns-txt"
    assert domain_for_email("Ann@EXAMPLE.com").pk == domain.pk
    assert domain_for_email("ann@sub.example.com") is None
    actions = list(
        AuditEvent.objects.filter(tenant_id=tenant.pk, resource_type="domain")
        .order_by("seq")
        .values_list("changes__action", flat=True)
    )
    assert actions == ["claimed", "verified"]


def test_dns_that_does_not_answer_leaves_the_domain_unverified(tenant, dns_down):
    domain = domain_claim(tenant=tenant, domain="example.com")
    dns_down(domain_challenge(domain).name)
    with pytest.raises(Conflict) as err:
        domain_verify(domain=domain)
    assert err.value.code == "domain_not_verified"
    assert Domain.objects.get(pk=domain.pk).verified_at is None


def test_another_tenants_token_does_not_verify(tenant, other_tenant, dns_records):
    mine = domain_claim(tenant=tenant, domain="example.com")
    theirs = domain_claim(tenant=other_tenant, domain="example.com")
    dns_records[domain_challenge(mine).name] = [domain_challenge(theirs).value]
    with pytest.raises(Conflict):
        domain_verify(domain=mine)


def test_one_tenant_only_holds_a_domain_verified(tenant, other_tenant):
    first = domain_claim(tenant=tenant, domain="example.com")
    second = domain_claim(tenant=other_tenant, domain="example.com")
    domain_approve(domain=first)
    with pytest.raises(Conflict) as err:
        domain_approve(domain=second)
    assert err.value.code == "domain_taken"
    with pytest.raises(Conflict) as err:
        domain_claim(tenant=make_tenant("initech"), domain="example.com")
    assert err.value.code == "domain_taken"
    with pytest.raises(Conflict) as err:
        domain_claim(tenant=tenant, domain="EXAMPLE.com")
    assert err.value.code == "domain_exists"
    domain_delete(domain=first)
    assert domain_for_email("a@example.com") is None
    domain_approve(domain=second)
    assert domain_for_email("a@example.com").tenant_id == other_tenant.pk


def test_an_inactive_tenants_domain_routes_nowhere(tenant):
    domain_approve(domain=domain_claim(tenant=tenant, domain="example.com"))
    tenant.is_active = False
    tenant.save()
    assert domain_for_email("a@example.com") is None


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_tenants_verifying_one_domain_at_once_one_wins():
    assert connection.vendor == "postgresql"
    claims = [
        domain_claim(tenant=make_tenant(f"race-{i}"), domain="race.example") for i in range(6)
    ]
    barrier = threading.Barrier(len(claims))
    outcomes: list[str] = []

    def approve(domain):
        try:
            barrier.wait()
            domain_approve(domain=domain)
            outcomes.append("ok")
        except Conflict as exc:
            outcomes.append(exc.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=approve, args=(d,)) for d in claims]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["domain_taken"] * 5 + ["ok"]
    assert Domain.objects.filter(domain="race.example", verified_at__isnull=False).count() == 1


def test_verifying_a_domain_makes_its_identities_managed_by_the_tenant(tenant, other_tenant):
    at_domain = make_member(other_tenant, "bob@example.com").user
    elsewhere = make_member(other_tenant, "eve@example.org").user
    lookalike = make_member(other_tenant, "mallory@notexample.com").user
    before = {u.pk: u.managed_by_tenant_id for u in (elsewhere, lookalike)}
    domain_approve(domain=domain_claim(tenant=tenant, domain="example.com"))
    for user in (at_domain, elsewhere, lookalike):
        user.refresh_from_db()
    assert at_domain.managed_by_tenant_id == tenant.pk
    assert {u.pk: u.managed_by_tenant_id for u in (elsewhere, lookalike)} == before
    verified = AuditEvent.objects.get(tenant_id=tenant.pk, changes__action="verified")
    assert verified.changes["identities_managed"] == 1
