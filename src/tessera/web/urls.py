"""The pages' URLs (API.md "Pages (for people)")."""

from django.urls import path

from tessera.web.pages import (
    account,
    account_keys,
    account_mfa,
    account_security,
    invitations,
    reset,
    signin,
    signout,
    verify_email,
)

app_name = "web"

urlpatterns = [
    path("signin/", signin.signin_email, name="signin"),
    path("signin/password/", signin.signin_password, name="signin-password"),
    path("signin/mfa/", signin.signin_mfa, name="signin-mfa"),
    path("signin/tenant/", signin.signin_tenant, name="signin-tenant"),
    path("signout/", signout.signout, name="signout"),
    path("reset/", reset.reset, name="reset"),
    path("invitations/accept/", invitations.accept, name="invitation-accept"),
    path("verify-email/", verify_email.verify_email, name="verify-email"),
    path("account/", account.account, name="account"),
    path("account/profile/", account.account_profile, name="account-profile"),
    path("account/password/", account.account_password, name="account-password"),
    path("account/verify-email/", account.account_verify_email, name="account-verify-email"),
    path("account/mfa/setup/", account_mfa.mfa_setup, name="account-mfa-setup"),
    path("account/mfa/confirm/", account_mfa.mfa_setup_confirm, name="account-mfa-confirm"),
    path(
        "account/mfa/backup-codes/", account_mfa.mfa_backup_codes, name="account-mfa-backup-codes"
    ),
    path("account/mfa/disable/", account_mfa.mfa_turn_off, name="account-mfa-disable"),
    path(
        "account/sessions/<uuid:session_id>/revoke/",
        account_security.session_revoke_own,
        name="account-session-revoke",
    ),
    path(
        "account/devices/<uuid:device_id>/revoke/",
        account_security.device_revoke_own,
        name="account-device-revoke",
    ),
    path("account/api-keys/", account_keys.api_key_new, name="account-api-keys"),
    path(
        "account/api-keys/<uuid:key_id>/revoke/",
        account_keys.api_key_revoke_own,
        name="account-api-key-revoke",
    ),
]
