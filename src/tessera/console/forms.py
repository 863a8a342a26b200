"""The console's forms: they parse what a person typed; the services validate it as they do for
the API, and their field errors are shown next to the fields (`errors_onto`)."""

from __future__ import annotations

import typing
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from tessera.administration.member_selectors import STATUS_FILTERS
from tessera.audit.models import AuditEventType

STATUS_LABELS = {
    "active": _("Active"),
    "suspended": _("Suspended"),
    "invited": _("Invited"),
    "inactive": _("Deactivated everywhere"),
}


class MemberFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False, max_length=100)
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Any status"))] + [(s, STATUS_LABELS.get(s, s)) for s in STATUS_FILTERS],
    )
    role = forms.ChoiceField(label=_("Role"), required=False)
    department = forms.CharField(label=_("Department"), required=False, max_length=120)

    def __init__(self, *args: Any, role_slugs: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._choose("role", [("", _("Any role"))] + [(s, s) for s in role_slugs])

    def _choose(self, name: str, choices: list[tuple[str, Any]]) -> None:
        typing.cast(forms.ChoiceField, self.fields[name]).choices = choices


class InviteForm(forms.Form):
    email = forms.EmailField(label=_("Email address"), max_length=254)
    first_name = forms.CharField(label=_("First name"), required=False, max_length=150)
    last_name = forms.CharField(label=_("Last name"), required=False, max_length=150)
    department = forms.CharField(label=_("Department"), required=False, max_length=120)
    job_title = forms.CharField(label=_("Job title"), required=False, max_length=120)
    roles = forms.MultipleChoiceField(
        label=_("Roles"), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, role_choices: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        typing.cast(forms.ChoiceField, self.fields["roles"]).choices = role_choices

    def member_data(self) -> dict[str, Any]:
        """The fields as `member_create` takes them (empty ones left out)."""
        return {k: v for k, v in self.cleaned_data.items() if v not in ("", None, [])}


class MemberAttributesForm(forms.Form):
    """The membership attributes a tenant sets (they feed policy scopes and conditions)."""

    department = forms.CharField(label=_("Department"), required=False, max_length=120)
    job_title = forms.CharField(label=_("Job title"), required=False, max_length=120)
    cost_center = forms.CharField(label=_("Cost center"), required=False, max_length=64)
    employee_id = forms.CharField(label=_("Employee id"), required=False, max_length=64)
    clearance_level = forms.IntegerField(
        label=_("Clearance level"), min_value=0, max_value=32767, required=False
    )

    def changes(self) -> dict[str, Any]:
        """The fields as `member_update` takes them."""
        data = dict(self.cleaned_data)
        data["clearance_level"] = data.get("clearance_level") or 0
        return data


class AuditFilterForm(forms.Form):
    type = forms.ChoiceField(label=_("Event type"), required=False)
    actor_id = forms.UUIDField(label=_("Actor (user id)"), required=False)
    resource_type = forms.CharField(label=_("Resource type"), required=False, max_length=64)
    resource_id = forms.CharField(label=_("Resource id"), required=False, max_length=128)
    since = forms.DateTimeField(
        label=_("From"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )
    until = forms.DateTimeField(
        label=_("Until"),
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        typing.cast(forms.ChoiceField, self.fields["type"]).choices = [
            ("", _("Any type")),
            *AuditEventType.choices,
        ]

    def filters(self) -> dict[str, Any]:
        """The filters as `audit_filters_validate` takes them."""
        data = self.cleaned_data
        return {
            "actor_id": str(data["actor_id"]) if data.get("actor_id") else None,
            "type": data.get("type") or None,
            "resource_type": data.get("resource_type") or None,
            "resource_id": data.get("resource_id") or None,
            "since": data.get("since"),
            "until": data.get("until"),
        }


def errors_onto(form: forms.Form, errors: list[dict[str, Any]] | None, detail: str) -> None:
    """Put a service's field errors on the form's fields (the rest on the form itself)."""
    for error in errors or []:
        message = str(error.get("message", ""))
        path = str(error.get("field", "")).split("[")[0].removeprefix("settings.").split(".")
        name = next((n for n in ("__".join(path), path[-1]) if n in form.fields), None)
        form.add_error(name, message)
    if not errors:
        form.add_error(None, detail)
