"""/api/v1/domains: the tenant's email domains and their verification (`tenant:read|update`);
/api/v1/tenants/{tid}/domains/{id}/approve: a platform administrator vouches instead of DNS.
"""

from __future__ import annotations

from ninja import Router, Status

from tessera.access.bridge.guard import requires
from tessera.api.domains.inputs import DomainIn
from tessera.api.domains.outputs import DomainOut, DomainPage, domain_as_dict
from tessera.api.pagination import clamp_limit, decode_key_cursor, encode_cursor
from tessera.api.security import principal_auth
from tessera.api.tenants.views import _platform_admin
from tessera.audit.actors import actor_from_request
from tessera.directory.domains import (
    domain_approve,
    domain_claim,
    domain_delete,
    domain_verify,
)
from tessera.directory.selectors import domain_get, domain_list
from tessera.tenancy.selectors import tenant_get

router = Router(tags=["single sign-on"], auth=principal_auth)
platform_router = Router(tags=["single sign-on"], auth=principal_auth)


@router.get("", response=DomainPage, summary="The tenant's claimed and verified domains")
@requires("tenant:read")
def list_domains(request, limit: int = 50, cursor: str | None = None):
    limit = clamp_limit(limit)
    qs = domain_list(tenant=request.tenant)
    after = decode_key_cursor(cursor, "domain")
    if after is not None:
        qs = qs.filter(domain__gt=after)
    rows = list(qs[: limit + 1])
    following = encode_cursor({"domain": rows[limit - 1].domain}) if len(rows) > limit else None
    return {"items": [domain_as_dict(d) for d in rows[:limit]], "next_cursor": following}


@router.post("", response={201: DomainOut}, summary="Claim a domain (then verify it by DNS)")
@requires("tenant:update")
def claim_domain(request, payload: DomainIn):
    domain = domain_claim(
        tenant=request.tenant, domain=payload.domain, actor=actor_from_request(request)
    )
    return Status(201, domain_as_dict(domain))


@router.post(
    "/{domain_id}/verify",
    response=DomainOut,
    summary="Verify a claimed domain by its DNS TXT record",
    description="409 `domain_not_verified` when the record is absent; 409 `domain_taken` when "
    "another tenant verified the domain first.",
)
@requires("tenant:update")
def verify_domain(request, domain_id: str):
    domain = domain_get(tenant=request.tenant, domain_id=domain_id)
    return domain_as_dict(domain_verify(domain=domain, actor=actor_from_request(request)))


@router.delete("/{domain_id}", response={204: None}, summary="Drop a domain claim")
@requires("tenant:update")
def delete_domain(request, domain_id: str):
    domain = domain_get(tenant=request.tenant, domain_id=domain_id)
    domain_delete(domain=domain, actor=actor_from_request(request))
    return Status(204, None)


@platform_router.post(
    "/{tenant_id}/domains/{domain_id}/approve",
    response=DomainOut,
    summary="Approve a tenant's domain claim (platform administrators)",
)
def approve_domain(request, tenant_id: str, domain_id: str):
    _platform_admin(request)
    tenant = tenant_get(tenant_id=tenant_id)
    domain = domain_get(tenant=tenant, domain_id=domain_id)
    return domain_as_dict(domain_approve(domain=domain, actor=actor_from_request(request)))
