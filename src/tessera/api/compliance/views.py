"""/api/v1/compliance/soc2: SOC 2 CC6.1–CC6.8 evidence for the caller's tenant and a period."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone
from ninja import Query, Router

from tessera.access.bridge.guard import requires
from tessera.api.compliance.inputs import PeriodQuery
from tessera.api.security import principal_auth
from tessera.audit.actors import actor_from_request
from tessera.audit.models import AuditEventType
from tessera.audit.services import audit_record
from tessera.compliance.soc2 import soc2_evidence
from tessera.errors import ValidationFailed, field_error

router = Router(tags=["compliance"], auth=principal_auth)


DEFAULT_DAYS = 90
MAX_DAYS = 3 * 366


@router.get(
    "/soc2",
    response=dict[str, Any],
    summary="SOC 2 evidence (CC6.1–CC6.8) for a period: numbers with the queries behind them",
    description=(
        "`since` defaults to 90 days before `until` (default: now); at most 3 years. Each "
        "criterion lists the tenant's configuration in force and metrics `{name, description, "
        "value, queries}` where `queries` are the SQL statements that produced `value`. Needs "
        "`compliance:read`; the export is audited (`DATA_EXPORTED`)."
    ),
)
@requires("compliance:read")
def soc2(request, period: Query[PeriodQuery]):
    until = period.until or timezone.now()
    since = period.since or until - timedelta(days=DEFAULT_DAYS)
    if since >= until:
        raise ValidationFailed(
            "Empty period", errors=[field_error("since", "Must be before `until`.")]
        )
    if until - since > timedelta(days=MAX_DAYS):
        raise ValidationFailed(
            "Period too long", errors=[field_error("since", f"At most {MAX_DAYS} days.")]
        )
    evidence = soc2_evidence(tenant=request.tenant, since=since, until=until)
    audit_record(
        type=AuditEventType.DATA_EXPORTED,
        actor=actor_from_request(request),
        tenant_id=request.tenant.pk,
        resource_type="compliance_evidence",
        changes={"report": "soc2", "since": since.isoformat(), "until": until.isoformat()},
    )
    return evidence
