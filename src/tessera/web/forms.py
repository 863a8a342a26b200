"""The pages' forms: they only shape input (lengths, required fields); every rule that matters
(passwords, codes, lockout, permissions) is checked by the flows and services they feed."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

MAX_PASSWORD = 1024


def _password(label: Any, *, autocomplete: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        strip=False,
        max_length=MAX_PASSWORD,
        widget=forms.PasswordInput(attrs={"autocomplete": autocomplete}),
    )


class PageForm(forms.Form):
    """A form whose field ids carry its name, so that several forms can share one page."""

    id_prefix = "id"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("auto_id", f"{self.id_prefix}_%s")
        super().__init__(*args, **kwargs)


class TwoPasswordsForm(PageForm):
    """A new password typed twice (the policy itself is checked by the service)."""

    new_password = _password(_("New password"), autocomplete="new-password")
    new_password_again = _password(_("New password, again"), autocomplete="new-password")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (
            data.get("new_password")
            and data.get("new_password_again")
            and data["new_password"] != data["new_password_again"]
        ):
            self.add_error("new_password_again", _("The two passwords differ."))
        return data


class EmailForm(forms.Form):
    email = forms.EmailField(
        label=_("Email"),
        max_length=320,
        widget=forms.EmailInput(attrs={"autocomplete": "username", "autofocus": True}),
    )


class PasswordForm(forms.Form):
    password = _password(_("Password"), autocomplete="current-password")


class CodeForm(PageForm):
    code = forms.CharField(
        label=_("Code"),
        max_length=64,
        help_text=_("The 6-digit code of your authenticator app, or one of your backup codes."),
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "inputmode": "text", "autofocus": True}
        ),
    )


class EnrolmentCodeForm(CodeForm):
    id_prefix = "enrol"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["code"].help_text = _("The 6-digit code your authenticator app shows now.")


class MfaStepForm(CodeForm):
    trust_device = forms.BooleanField(
        label=_("Trust this device for 30 days (skip the code here)"), required=False
    )


class TenantChoiceForm(forms.Form):
    tenant = forms.CharField(max_length=64)


class PasswordChangeForm(TwoPasswordsForm):
    id_prefix = "password"
    current_password = _password(_("Current password"), autocomplete="current-password")
    field_order = ["current_password", "new_password", "new_password_again"]


class ProfileForm(PageForm):
    id_prefix = "profile"
    first_name = forms.CharField(label=_("First name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Last name"), max_length=150, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=32, required=False)
    timezone = forms.CharField(label=_("Time zone"), max_length=64)
    language = forms.ChoiceField(label=_("Language"))
    avatar_url = forms.URLField(
        label=_("Avatar URL"), max_length=500, required=False, assume_scheme="https"
    )

    def __init__(self, *args: Any, languages: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["language"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = languages


class MfaDisableForm(CodeForm):
    id_prefix = "mfa_off"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["code"].widget.attrs.pop("autofocus", None)  # one section of a long page

    password = _password(_("Password"), autocomplete="current-password")
    field_order = ["password", "code"]


class ApiKeyForm(PageForm):
    id_prefix = "api_key"
    name = forms.CharField(label=_("Name"), max_length=100)
    scopes = forms.CharField(
        label=_("Scopes"),
        max_length=2000,
        help_text=_(
            "Permissions the key may use, separated by spaces (for example user:read role:read); "
            "only permissions you hold."
        ),
    )
    allowed_ips = forms.CharField(
        label=_("Allowed networks"),
        required=False,
        max_length=2000,
        help_text=_("CIDR networks the key works from, separated by spaces; empty: anywhere."),
    )
    expires_at = forms.DateTimeField(
        label=_("Expires"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text=_("In UTC; empty: never."),
    )

    def clean_scopes(self) -> list[str]:
        return list(dict.fromkeys(self.cleaned_data["scopes"].split()))

    def clean_allowed_ips(self) -> list[str] | None:
        return self.cleaned_data["allowed_ips"].split() or None


class InvitationAcceptForm(forms.Form):
    password = _password(_("Password"), autocomplete="current-password")
