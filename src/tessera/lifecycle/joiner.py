"""Joiners and movers: the tenant's template gives roles by department or job title, requires
MFA, mails a welcome and sets the date of the first access review; a move swaps the roles.

- `joiner_template_set` (PUT /api/v1/lifecycle/joiner-template): the author must hold every role
  the template hands out (the escalation rule: a template gives access on its author's behalf,
  so it is checked when written, and applied later by the system as members join and move).
- `on_member_joined` (tenancy's join observer): the template's roles for the member's department
  and job title, a `JoinerRecord` (roles given, MFA required, first review due), the welcome mail.
- `on_member_moved` (tenancy's move observer): roles the template gave for the old department or
  job title that it does not give for the new ones are removed, new ones added; what changed is
  returned into the one MEMBER_MOVED audit event `member_update` records.
- `first_reviews_due(now)`: the members whose first access review is due and not yet started
  (for the access-review campaigns of tessera's reviews; `first_review_mark_started` marks one).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from tessera.access.escalation import ensure_actor_holds
from tessera.access.models import Role
from tessera.access.role_batch import role_assignments_apply
from tessera.access.selectors import role_effective_rules
from tessera.audit.models import AuditEventType
from tessera.audit.services import Actor, audit_record
from tessera.errors import ValidationFailed, field_error
from tessera.identity.mailer import mail_queue
from tessera.lifecycle.models import JoinerRecord, JoinerTemplate
from tessera.tenancy.models import Membership, MembershipStatus, Tenant

MAX_RULES = 100
MAX_REVIEW_DAYS = 3650
MATCH_KEYS = ("department", "job_title")


def _rules_clean(tenant: Tenant, rules: Any) -> tuple[list[dict[str, Any]], dict[str, Role]]:
    if not isinstance(rules, list) or len(rules) > MAX_RULES:
        raise ValidationFailed(
            "Invalid rules", errors=[field_error("rules", f"A list of at most {MAX_RULES}.")]
        )
    roles = {r.slug: r for r in Role.objects.filter(tenant=tenant)}
    clean: list[dict[str, Any]] = []
    errors = []
    for i, rule in enumerate(rules):
        where = f"rules[{i}]"
        if not isinstance(rule, Mapping) or set(rule) - {*MATCH_KEYS, "roles"}:
            errors.append(field_error(where, "{department?, job_title?, roles: [slug]}."))
            continue
        entry: dict[str, Any] = {}
        for key in MATCH_KEYS:
            if key in rule:
                value = rule[key]
                if not isinstance(value, str) or not value.strip() or len(value) > 120:
                    errors.append(field_error(f"{where}.{key}", "1-120 characters."))
                else:
                    entry[key] = value.strip()
        slugs = rule.get("roles")
        if not isinstance(slugs, list) or not slugs:
            errors.append(field_error(f"{where}.roles", "A non-empty list of role slugs."))
            continue
        for j, slug in enumerate(slugs):
            if not isinstance(slug, str) or slug not in roles:
                errors.append(field_error(f"{where}.roles[{j}]", "No such role.", "not_found"))
        entry["roles"] = list(dict.fromkeys(s for s in slugs if isinstance(s, str)))
        clean.append(entry)
    if errors:
        raise ValidationFailed("Invalid joiner template", errors=errors)
    return clean, roles


def joiner_template_get(*, tenant: Tenant) -> JoinerTemplate:
    """The tenant's template (an empty one, unsaved, when none was written)."""
    found = JoinerTemplate.objects.filter(tenant=tenant).first()
    return found or JoinerTemplate(tenant=tenant)


def joiner_template_set(
    *,
    tenant: Tenant,
    rules: Any,
    require_mfa: bool,
    welcome_mail: bool,
    first_review_after_days: int | None,
    by: Membership | None,
    actor: Actor | None = None,
) -> JoinerTemplate:
    """Replace the template; 422 for unknown roles or bad fields, 403 `not_held` when `by` does
    not hold every role it would hand out. Members who joined earlier keep their roles."""
    clean, roles = _rules_clean(tenant, rules)
    days = first_review_after_days
    if days is not None and not 1 <= days <= MAX_REVIEW_DAYS:
        raise ValidationFailed(
            "Invalid first_review_after_days",
            errors=[field_error("first_review_after_days", f"1-{MAX_REVIEW_DAYS} or null.")],
        )
    if by is not None:
        given = {slug for rule in clean for slug in rule["roles"]}
        for slug in sorted(given):
            ensure_actor_holds(by, role_effective_rules(roles[slug]))
    with transaction.atomic():
        template, _ = JoinerTemplate.objects.select_for_update().get_or_create(tenant=tenant)
        before = _template_state(template)
        template.rules = clean
        template.require_mfa = bool(require_mfa)
        template.welcome_mail = bool(welcome_mail)
        template.first_review_after_days = days
        template.updated_by = by
        template.save()
        audit_record(
            type=AuditEventType.JOINER_TEMPLATE_CHANGED,
            actor=actor,
            tenant_id=tenant.pk,
            resource_type="joiner_template",
            resource_id=tenant.pk,
            changes={"before": before, "after": _template_state(template)},
        )
    return template


def _template_state(template: JoinerTemplate) -> dict[str, Any]:
    return {
        "rules": template.rules,
        "require_mfa": template.require_mfa,
        "welcome_mail": template.welcome_mail,
        "first_review_after_days": template.first_review_after_days,
    }


def template_roles_for(template: JoinerTemplate, *, department: str, job_title: str) -> list[str]:
    """The role slugs the template gives a member of this department and job title."""
    facts = {"department": department or "", "job_title": job_title or ""}
    found: list[str] = []
    for rule in template.rules or ():
        if all(facts[key] == rule[key] for key in MATCH_KEYS if key in rule):
            found.extend(rule["roles"])
    return list(dict.fromkeys(found))


def _roles(tenant_id, slugs: Sequence[str]) -> list[Role]:
    return list(Role.objects.filter(tenant_id=tenant_id, slug__in=list(slugs)).order_by("slug"))


def on_member_joined(membership: Membership, by: Membership | None, actor: Actor | None) -> None:
    """Apply the tenant's template to a new member (see the module docstring)."""
    template = JoinerTemplate.objects.filter(tenant_id=membership.tenant_id).first()
    if template is None:
        return
    slugs = template_roles_for(
        template, department=membership.department, job_title=membership.job_title
    )
    added, _ = role_assignments_apply(
        membership=membership, add=_roles(membership.tenant_id, slugs), actor=actor
    )
    now = timezone.now()
    due = (
        now + timedelta(days=template.first_review_after_days)
        if template.first_review_after_days
        else None
    )
    JoinerRecord.objects.create(
        membership=membership,
        tenant_id=membership.tenant_id,
        template_roles=slugs,
        mfa_required=template.require_mfa,
        first_review_due_at=due,
    )
    audit_record(
        type=AuditEventType.ROLE_ASSIGNED,
        actor=actor,
        tenant_id=membership.tenant_id,
        resource_type="membership",
        resource_id=membership.pk,
        changes={
            "user_id": str(membership.user_id),
            "roles": added,
            "source": "joiner_template",
            "mfa_required": template.require_mfa,
            "first_review_due_at": due.isoformat() if due else None,
        },
    )
    if template.welcome_mail:
        mail_queue(
            "joiner_welcome",
            to=membership.user.email,
            context={
                "tenant_name": membership.tenant.name,
                "roles": slugs,
                "department": membership.department,
                "mfa_required": template.require_mfa,
            },
            link=None,
        )


def on_member_moved(
    membership: Membership,
    before: Mapping[str, Any],
    after: Mapping[str, Any],
    actor: Actor | None,
) -> dict[str, Any] | None:
    """Swap the template's roles for the member's new department or job title."""
    template = JoinerTemplate.objects.filter(tenant_id=membership.tenant_id).first()
    if template is None:
        return None
    record = JoinerRecord.objects.select_for_update().filter(membership=membership).first()
    old = list(record.template_roles) if record is not None else []
    new = template_roles_for(
        template, department=membership.department, job_title=membership.job_title
    )
    keep = set(new)
    added, removed = role_assignments_apply(
        membership=membership,
        add=_roles(membership.tenant_id, [s for s in new if s not in old]),
        remove=_roles(membership.tenant_id, [s for s in old if s not in keep]),
        actor=actor,
    )
    if record is None:
        JoinerRecord.objects.create(
            membership=membership, tenant_id=membership.tenant_id, template_roles=new
        )
    else:
        record.template_roles = new
        record.save(update_fields=["template_roles"])
    return {"template_roles": {"removed": removed, "added": added}}


def joiner_requires_mfa(membership: Membership) -> bool:
    """Whether the joiner template required MFA of this member when they joined."""
    return JoinerRecord.objects.filter(membership_id=membership.pk, mfa_required=True).exists()


def first_reviews_due(*, now: datetime | None = None) -> QuerySet[JoinerRecord]:
    """Active members whose first access review is due and not started (oldest first)."""
    return (
        JoinerRecord.objects.filter(
            first_review_started_at__isnull=True,
            first_review_due_at__lte=now or timezone.now(),
            membership__status=MembershipStatus.ACTIVE,
        )
        .select_related("membership", "membership__user", "membership__manager")
        .order_by("first_review_due_at", "membership_id")
    )


def first_review_mark_started(*, record: JoinerRecord, now: datetime | None = None) -> None:
    """Called by whoever starts the member's first review (an access-review campaign)."""
    JoinerRecord.objects.filter(pk=record.pk, first_review_started_at__isnull=True).update(
        first_review_started_at=now or timezone.now()
    )
