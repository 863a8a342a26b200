"""Writes of access data. Every change that affects decisions bumps a version in its transaction.

Which version: a role's rules or parents, a role's deletion, a grant to a role → the tenant's
policy version (`tenant_policy_bump`); an assignment, an override, a grant to a member, a
delegation → the member's version (`membership_version_bump`). Every write records its audit
event in the same transaction.

Guard rails: `ensure_actor_holds` (no one grants what they do not hold), `ensure_target_within`
(no one acts on a member who holds more than they do) — both `tessera.access.escalation` — and
`ensure_not_last_admin` (the last active administrator cannot be removed or demoted). The services
apply them when told who acts (`granted_by`, `by`, `created_by`, `approver`); the HTTP layer may
call them directly too.

One module per concern: `validation`, `admins` (the last-admin guard rail), `roles`,
`assignments`, `overrides`, `permissions` (the catalog), `grants`, `delegations`. This package
re-exports their public names; reads live in `tessera.access.selectors`.
"""
