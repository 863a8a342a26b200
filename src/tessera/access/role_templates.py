"""Optional role sets a tenant can load (`tessera load-role-template lims --tenant SLUG`).

`lims` — a laboratory / quality organisation (ISO/IEC 17025, GMP style): samples are received,
tests performed by qualified technicians, results checked and approved by someone else (four
eyes: a deny on one's own results), reports released with MFA; auditors read everything,
customers see their own samples and reports (selected fields only). The tenant's built-in `admin`
role serves as the template's administrator.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from tessera.access.models import Role
from tessera.access.services.roles import role_create
from tessera.audit.services import Actor
from tessera.tenancy.models import Tenant


def allow(*permissions: str, scope: str = "all", condition=None, fields=None) -> list[dict]:
    rules = []
    for permission in permissions:
        rule: dict[str, Any] = {"effect": "allow", "permission": permission, "scope": scope}
        if condition is not None:
            rule["condition"] = condition
        if fields is not None:
            rule["fields"] = fields
        rules.append(rule)
    return rules


def deny(*permissions: str, scope: str = "all", condition=None) -> list[dict]:
    rules = allow(*permissions, scope=scope, condition=condition)
    for rule in rules:
        rule["effect"] = "deny"
    return rules


MFA = {"mfa_verified": True}
LAB_READS = (
    "sample:read",
    "test:read",
    "result:read",
    "report:read",
    "instrument:read",
    "calibration:read",
    "method:read",
    "specification:read",
    "document:read",
    "deviation:read",
    "capa:read",
    "training:read",
)
DIRECTORY = ("tenant:read", "user:read", "role:read", "permission:read")


def _read(field: str) -> dict[str, dict[str, bool]]:
    return {field: {"read": True, "write": False}}


CUSTOMER_SAMPLE_FIELDS = {
    **_read("id"),
    **_read("status"),
    **_read("received_at"),
    **_read("description"),
    **_read("results_summary"),
}

LIMS: dict[str, dict[str, Any]] = {
    "technician": {
        "name": "Technician",
        "description": "Receives samples and performs tests they are qualified for.",
        "parents": [],
        "rules": [
            *allow(*DIRECTORY[:2], "sample:read", "test:read", "method:read", "document:read"),
            *allow("instrument:read", "calibration:read", "specification:read", "training:read"),
            *allow("sample:create", "sample:update", "deviation:create", "deviation:read"),
            *allow(
                "test:perform",
                condition={
                    "any": [
                        {"not": {"exists": "resource.attributes.qualification"}},
                        {
                            "in": [
                                "resource.attributes.qualification",
                                "subject.attributes.qualifications",
                            ]
                        },
                    ]
                },
            ),
            *allow(
                "instrument:use", condition={"eq": ["resource.attributes.status", "calibrated"]}
            ),
            *allow("result:create", "result:read"),
            *allow("result:update", scope="own"),
        ],
    },
    "checker": {
        "name": "Checker",
        "description": "Checks results entered by others (second pair of eyes).",
        "parents": ["technician"],
        "rules": [
            *allow("result:check", "result:reject"),
            *deny("result:check", "result:reject", scope="own"),
        ],
    },
    "approver": {
        "name": "Approver",
        "description": "Approves checked results and signs reports (with MFA); never their own.",
        "parents": [],
        "rules": [
            *allow(*DIRECTORY[:2], *LAB_READS),
            *allow("result:approve", "report:approve", "report:release", condition=MFA),
            *deny("result:approve", "report:approve", scope="own"),
        ],
    },
    "lab-manager": {
        "name": "Lab manager",
        "description": "Runs the laboratory: samples, tests, instruments, staff planning.",
        "parents": ["checker"],
        "rules": [
            *allow(*DIRECTORY, "role:assign"),
            *allow("sample:*", "test:*", "instrument:*", "calibration:*", "deviation:*"),
            *allow("result:update", scope="team"),
            *allow("report:read", "report:create", "training:read", "training:update"),
            *allow("method:read", "specification:read", "capa:read", "document:read"),
        ],
    },
    "quality-manager": {
        "name": "Quality manager",
        "description": "Owns the quality system: documents, methods, deviations, CAPA, audits.",
        "parents": [],
        "rules": [
            *allow(*DIRECTORY, *LAB_READS),
            *allow("document:*", "method:*", "specification:*", "deviation:*", "capa:*"),
            *allow("training:*", "audit_log:read", "audit_log:export"),
            *allow("document:approve", "method:approve", condition=MFA),
            *allow("report:release", condition=MFA),
        ],
    },
    "auditor": {
        "name": "Auditor",
        "description": "Read-only access to the laboratory and the audit trail.",
        "parents": [],
        "rules": [
            *allow(*DIRECTORY, *LAB_READS, "audit_log:read", "audit_log:export"),
            *deny("employee:read", "invoice:read"),
        ],
    },
    "customer": {
        "name": "Customer",
        "description": "An external client: submits samples, follows them, reads own reports.",
        "parents": [],
        "rules": [
            *allow("tenant:read", "sample:create", "order:create"),
            *allow("sample:read", scope="own", fields=CUSTOMER_SAMPLE_FIELDS),
            *allow("report:read", "order:read", "invoice:read", scope="own"),
            *deny("result:*", "test:*"),
        ],
    },
    "hr-manager": {
        "name": "HR manager",
        "description": "Personnel records, qualifications and training.",
        "parents": [],
        "rules": [
            *allow(*DIRECTORY, "user:update", "training:*"),
            *allow("employee:read", "employee:create"),
            *allow("employee:update", "employee:delete", condition=MFA),
            *allow("employee:export", condition={"all": [MFA, {"gdpr_consented": True}]}),
        ],
    },
    "finance-manager": {
        "name": "Finance manager",
        "description": "Orders, invoices and payments.",
        "parents": [],
        "rules": [
            *allow(*DIRECTORY[:2], "invoice:*", "order:*", "payment:*", "customer:read"),
            *allow("report:read", fields={"price": {"read": True, "write": False}}),
            *allow("payment:approve", condition={"all": [MFA, {"risk_below": 50}]}),
        ],
    },
}

TEMPLATES: dict[str, dict[str, dict[str, Any]]] = {"lims": LIMS}


def role_template_load(
    *, tenant: Tenant, name: str, actor: Actor | None = None
) -> dict[str, list[str]]:
    """Create the template's roles the tenant lacks (parents first); never touch existing ones.

    Idempotent: a second run creates nothing. Returns `{"created": [...], "existing": [...]}`.
    """
    template = TEMPLATES[name]
    created, existing = [], []
    remaining = dict(template)
    with transaction.atomic():
        while remaining:
            ready = [
                s for s, spec in remaining.items() if not set(spec["parents"]) & set(remaining)
            ]
            if not ready:
                raise ValueError(f"template {name!r} has a parent cycle")
            for slug in ready:
                spec = remaining.pop(slug)
                if Role.objects.filter(tenant=tenant, slug=slug).exists():
                    existing.append(slug)
                    continue
                role_create(
                    tenant=tenant,
                    slug=slug,
                    name=spec["name"],
                    description=spec["description"],
                    parents=spec["parents"],
                    rules=spec["rules"],
                    actor=actor,
                )
                created.append(slug)
    return {"created": created, "existing": existing}
