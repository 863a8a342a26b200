"""Group → role mapping: writing the tenant's mapping, and applying it to one member.

One group name means one set of roles however it arrives (an SSO `groups` claim, a SCIM group).
`membership_groups_sync` is called with the groups a *source* (e.g. `sso:<provider id>`, `scim`)
currently reports for a member: it gives the mapped roles the member lacks and takes away the
roles that source had given whose group disappeared — never a role given by hand (see
`MappedAssignment`). Roles are given and taken through the access services, so `max_members`,
the last-admin rule, version bumps and ROLE_ASSIGNED / ROLE_REMOVED events all apply; a sync that
changed anything also records one PERMISSION_CHANGE event naming the source and its groups.

The escalation rule applies where the mapping is written: `group_mapping_set(by=…)` refuses
(403 `not_held`) to map a group to a role its author does not hold. A sync then applies what an
administrator decided, for the tenant (actor: the signing-in person or the SCIM client).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils import timezone

from tessera.access.escalation import ensure_actor_holds
from tessera.access.models import Role, RoleAssignment
from tessera.access.services import role_assign, role_effective_rules, role_unassign
from tessera.audit.models import AuditEventType
from tessera.audit.services import Actor, audit_record
from tessera.directory.errors import GroupMappingInvalid
from tessera.directory.models import GroupRoleMapping, MappedAssignment
from tessera.errors import TesseraError, field_error
from tessera.tenancy.models import Membership, Tenant

MAX_GROUP_LENGTH = 256
MAX_GROUPS = 1000


@dataclass(frozen=True, slots=True)
class GroupSyncChanges:
    """What one sync did: role slugs given and taken, and those it could not change with the
    reason's code (e.g. `role_full`, `last_admin`)."""

    added: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    refused: tuple[tuple[str, str], ...] = ()

    @property
    def changed(self) -> bool:
        return bool(self.added or self.removed)


def _invalid(where: str, message: str) -> GroupMappingInvalid:
    return GroupMappingInvalid(message, errors=[field_error(where, message, "invalid")])


def group_mapping_validate(
    *, tenant: Tenant, mapping: Any, where: str = "group_mapping"
) -> dict[str, list[Role]]:
    """{group: [roles]} from `[{group, roles: [slug]}]`; 422 naming the bad entry (a group
    twice, an empty or over-long name, an unknown role)."""
    if not isinstance(mapping, list | tuple):
        raise _invalid(where, "A list of {group, roles} entries.")
    if len(mapping) > MAX_GROUPS:
        raise _invalid(where, f"At most {MAX_GROUPS} groups.")
    slugs: set[str] = set()
    for i, entry in enumerate(mapping):
        if not isinstance(entry, Mapping) or not isinstance(entry.get("roles"), list | tuple):
            raise _invalid(f"{where}[{i}]", "Each entry is {group: str, roles: [slug]}.")
        slugs.update(s for s in entry["roles"] if isinstance(s, str))
    roles = {r.slug: r for r in Role.objects.filter(tenant=tenant, slug__in=slugs)}
    result: dict[str, list[Role]] = {}
    for i, entry in enumerate(mapping):
        group = entry.get("group")
        if not isinstance(group, str) or not group.strip() or len(group) > MAX_GROUP_LENGTH:
            raise _invalid(f"{where}[{i}].group", f"A group name of 1–{MAX_GROUP_LENGTH} chars.")
        if group in result:
            raise _invalid(f"{where}[{i}].group", f"The group {group!r} is listed twice.")
        chosen = []
        for slug in dict.fromkeys(entry["roles"]):
            if not isinstance(slug, str) or slug not in roles:
                raise _invalid(f"{where}[{i}].roles", f"Unknown role {slug!r}.")
            chosen.append(roles[slug])
        result[group] = chosen
    return result


def group_mapping_state(*, tenant: Tenant) -> list[dict[str, Any]]:
    """The mapping in its API form `[{group, roles: [slug]}]`, by group name."""
    rows = GroupRoleMapping.objects.filter(tenant=tenant).prefetch_related("roles")
    return [
        {"group": row.group, "roles": sorted(r.slug for r in row.roles.all())}
        for row in rows.order_by("group")
    ]


def group_mapping_set(
    *,
    tenant: Tenant,
    mapping: Sequence[Mapping[str, Any]],
    by: Membership | None = None,
    actor: Actor | None = None,
) -> list[dict[str, Any]]:
    """Replace the tenant's whole group → roles mapping; returns its API form.

    With `by`, every role mapped (newly or again) must be within what `by` holds (403
    `not_held`): a mapping hands roles out at every sign-in. Members keep the roles they got
    until their next sync (sign-in or SCIM push) applies the new mapping."""
    wanted = group_mapping_validate(tenant=tenant, mapping=mapping)
    if by is not None:
        for roles in wanted.values():
            for role in roles:
                ensure_actor_holds(by, role_effective_rules(role))
    with transaction.atomic():
        before = group_mapping_state(tenant=tenant)
        GroupRoleMapping.objects.filter(tenant=tenant).exclude(group__in=list(wanted)).delete()
        for group, roles in wanted.items():
            row, _ = GroupRoleMapping.objects.get_or_create(tenant=tenant, group=group)
            row.roles.set(roles)
        after = group_mapping_state(tenant=tenant)
        if before != after:
            audit_record(
                type=AuditEventType.PERMISSION_CHANGE,
                actor=actor,
                tenant_id=tenant.pk,
                resource_type="group_mapping",
                resource_id=tenant.pk,
                changes={"group_mapping": {"before": before, "after": after}},
            )
    return after


def _held(membership: Membership, role: Role, now) -> bool:
    live = RoleAssignment.objects.filter(membership=membership, role=role)
    return live.exclude(expires_at__lte=now).exists()


def membership_groups_sync(
    *,
    membership: Membership,
    groups: Iterable[str],
    source: str,
    actor: Actor | None = None,
    default_roles: Iterable[str] = (),
) -> GroupSyncChanges:
    """Bring the member's mapped roles from `source` in line with `groups` (its full current
    list for the member) plus `default_roles` (slugs the source gives everyone it signs in).

    Gives the roles the groups map to that the member lacks; takes away the roles `source` had
    given whose groups are gone, unless another source still gives them or the member held the
    role by hand before mapping gave it. A role that cannot be given (`role_full`) or taken
    (`last_admin`) is reported in `refused` and left as it is. Runs in one transaction with the
    member's row locked, so concurrent syncs of one member serialize.
    """
    if not source or not isinstance(source, str):
        raise ValueError("a source is required")
    now = timezone.now()
    tenant = membership.tenant
    names = {g for g in groups if isinstance(g, str)}
    added: list[str] = []
    removed: list[str] = []
    refused: list[tuple[str, str]] = []
    with transaction.atomic():
        Membership.objects.select_for_update().filter(pk=membership.pk).first()
        mapping = GroupRoleMapping.objects.filter(tenant=tenant, group__in=names)
        wanted = {
            role.pk: role
            for role in Role.objects.filter(tenant=tenant, pk__in=mapping.values("roles"))
        }
        for role in Role.objects.filter(tenant=tenant, slug__in=list(default_roles)):
            wanted[role.pk] = role
        rows = {
            row.role_id: row
            for row in MappedAssignment.objects.select_for_update()
            .filter(membership=membership)
            .select_related("role")
        }
        for role_id, role in sorted(wanted.items(), key=lambda item: item[1].slug):
            row = rows.get(role_id)
            if row is None:
                row = MappedAssignment(
                    membership=membership, role=role, held_by_hand=_held(membership, role, now)
                )
            if source not in row.sources:
                row.sources = sorted({*row.sources, source})
            if not _held(membership, role, now):
                try:
                    with transaction.atomic():
                        role_assign(membership=membership, role=role, actor=actor)
                except TesseraError as exc:
                    refused.append((role.slug, exc.code))
                    continue
                added.append(role.slug)
            row.save()
        for role_id, row in rows.items():
            if role_id in wanted or source not in row.sources:
                continue
            remaining = [s for s in row.sources if s != source]
            if remaining:
                row.sources = remaining
                row.save(update_fields=["sources", "updated_at"])
                continue
            if not row.held_by_hand and _held(membership, row.role, now):
                try:
                    with transaction.atomic():
                        role_unassign(membership=membership, role=row.role, actor=actor)
                except TesseraError as exc:  # e.g. the last admin: kept, tried again next sync
                    refused.append((row.role.slug, exc.code))
                    continue
                removed.append(row.role.slug)
            row.delete()
        changes = GroupSyncChanges(tuple(added), tuple(removed), tuple(refused))
        if changes.changed or refused:
            audit_record(
                type=AuditEventType.PERMISSION_CHANGE,
                actor=actor,
                tenant_id=tenant.pk,
                resource_type="membership",
                resource_id=membership.pk,
                changes={
                    "groups_sync": {
                        "source": source,
                        "groups": sorted(names)[:100],
                        "added": list(added),
                        "removed": list(removed),
                        "refused": [list(r) for r in refused],
                    }
                },
            )
    return changes
