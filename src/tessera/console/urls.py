"""/console/ — the tenant administration console's pages."""

from django.urls import path

from tessera.console.views import (
    audit,
    delegations,
    grants,
    home,
    invitations,
    member_actions,
    members,
    roles,
    settings,
)

app_name = "console"

urlpatterns = [
    path("", home.console_home, name="home"),
    path("members/", members.member_index, name="members"),
    path("members/invite/", members.member_invite, name="invite"),
    path("members/<uuid:user_id>/", members.member_detail, name="member"),
    path("members/<uuid:user_id>/suspend", member_actions.member_suspend, name="member-suspend"),
    path(
        "members/<uuid:user_id>/reactivate",
        member_actions.member_unsuspend,
        name="member-reactivate",
    ),
    path("members/<uuid:user_id>/roles", member_actions.member_role_give, name="member-role-give"),
    path(
        "members/<uuid:user_id>/roles/<slug:slug>/remove",
        member_actions.member_role_take,
        name="member-role-take",
    ),
    path(
        "members/<uuid:user_id>/sessions/end",
        member_actions.member_sessions_revoke,
        name="member-sessions-end",
    ),
    path(
        "members/<uuid:user_id>/sessions/<uuid:session_id>/end",
        member_actions.member_session_revoke,
        name="member-session-end",
    ),
    path("members/<uuid:user_id>/mfa/reset", member_actions.member_mfa_clear, name="member-mfa"),
    path("members/<uuid:user_id>/remove", member_actions.member_drop, name="member-remove"),
    path(
        "members/<uuid:user_id>/attributes",
        member_actions.member_attributes,
        name="member-attributes",
    ),
    path("invitations/", invitations.invitation_index, name="invitations"),
    path(
        "invitations/<uuid:invitation_id>/resend",
        invitations.invitation_resend_view,
        name="invitation-resend",
    ),
    path(
        "invitations/<uuid:invitation_id>/revoke",
        invitations.invitation_revoke_view,
        name="invitation-revoke",
    ),
    path("roles/", roles.role_index, name="roles"),
    path("delegations/", delegations.delegation_index, name="delegations"),
    path(
        "delegations/<uuid:delegation_id>/approve",
        delegations.delegation_approve_view,
        name="delegation-approve",
    ),
    path(
        "delegations/<uuid:delegation_id>/revoke",
        delegations.delegation_revoke_view,
        name="delegation-revoke",
    ),
    path("grants/", grants.grant_index, name="grants"),
    path("grants/<uuid:grant_id>/revoke", grants.grant_revoke, name="grant-revoke"),
    path("settings/", settings.settings_page, name="settings"),
    path("audit/", audit.audit_index, name="audit"),
    path("audit/verify", audit.audit_verify, name="audit-verify"),
    path("audit/export", audit.audit_export, name="audit-export"),
]
