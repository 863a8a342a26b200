"""Privacy: GDPR requests about one member of a tenant — export their data, erase them.

    member_data_export(membership=…, actor=…)  → MemberExport   (GET /api/v1/users/{id}/export)
    member_erase(membership=…, by=…, actor=…)   → ErasureSummary (POST /api/v1/users/{id}/erase)

**Export** is the person's data *in this tenant*: their global profile, the membership, roles
(with expiry), overrides, grants to them, delegations given and received, their sessions in this
tenant, their API keys' metadata, whether MFA is on, and the audit events by them or about them in
this tenant's chain. Never a secret: no password or token hash, no key hash, no TOTP secret, no
backup code. Trusted devices are left out (they are not bound to a tenant: their addresses would
tell one tenant about the person's sign-ins elsewhere). The audit events are streamed in keyset
batches, so an export costs constant memory. A DATA_EXPORTED event records who exported whom.

**Erasure**, in one transaction:
1. refuse the caller's own membership (409 `self_action_forbidden`, as for removal) and the
   tenant's last active administrator (409 `last_admin`);
2. revoke the membership's sessions, refresh tokens and API keys
   (`credentials_revoke_for_membership`) and end the delegations it gave;
3. redact (tessera.audit.services.audit_redact) every audit event of this tenant by the person or
   about them — their user, membership, sessions, API keys, grants, delegations, trusted devices,
   or whose `changes` mention their email — so ip, user agent and changes are gone while the chain
   still verifies;
4. delete the membership's role assignments, overrides, grants, delegations (given and received),
   sessions, API keys and pending MFA challenges in this tenant, then the membership;
5. when the person has no other membership and is not a platform administrator, anonymize the
   global identity: email `erased-<user id>@erased.invalid`, names, phone, avatar, metadata and
   preferences blanked, unusable password, inactive; password history, MFA factor, backup codes,
   reset tokens, trusted devices, MFA challenges and every session deleted; the Django admin's log
   entries about them renamed to the id; and step 3 covers every chain (every tenant and the
   platform chain), not only this tenant's;
6. record DATA_ERASED, whose only personal datum is the pseudonymous user id.

A person who belongs to other tenants keeps their identity (email, password, MFA) there: only
this tenant's data goes. Erasure is irreversible.
"""
