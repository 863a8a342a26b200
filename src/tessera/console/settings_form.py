"""The tenant settings form, built from the settings schema (`tessera.tenancy.tenant_settings`):
one field per policy value of the sections a console edits, with the schema's bounds, so that the
form and the API accept the same values. The service validates the merged result again."""

from __future__ import annotations

import typing
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _
from pydantic import BaseModel

from tessera.tenancy.tenant_settings import TenantSettings, parse_tenant_settings

# (section of the settings document, heading)
SECTIONS = (
    ("password", _("Password policy")),
    ("lockout", _("Lockout")),
    ("sessions", _("Sessions")),
    ("mfa", _("Multi-factor authentication")),
    ("delegation", _("Delegation policy")),
    ("invitations", _("Invitations")),
)

LABELS = {
    "min_length": _("Minimum length"),
    "max_length": _("Maximum length"),
    "blocklist": _("Refuse breached and common passwords"),
    "require_classes": _("Character classes required"),
    "min_unique_chars": _("Distinct characters required"),
    "history": _("Previous passwords that cannot be reused"),
    "max_age_days": _("Password maximum age (days, 0 = never expires)"),
    "max_failures": _("Failed sign-ins before lockout"),
    "lockout_minutes": _("Lockout duration (minutes)"),
    "max_sessions": _("Sessions per person"),
    "idle_timeout_minutes": _("Idle timeout (minutes)"),
    "absolute_lifetime_minutes": _("Absolute session lifetime (minutes)"),
    "required": _("Second factor required for"),
    "required_roles": _("Roles that require a second factor"),
    "allow_trusted_devices": _("Allow trusted devices"),
    "require_approval": _("Delegations need approval"),
    "max_days": _("Longest delegation (days)"),
    "ttl_days": _("Invitation links work for (days)"),
}

MFA_CHOICES = (
    ("off", _("Nobody")),
    ("all", _("Every member")),
    ("roles", _("Members holding the roles below")),
)


def _bound(info: Any, name: str) -> int | None:
    """The schema's `ge` or `le` bound of a field (annotated-types metadata), if any."""
    for item in info.metadata:
        if getattr(item, name, None) is not None:
            return int(getattr(item, name))
    return None


def _field(section: str, name: str, info: Any, role_slugs: list[str]) -> forms.Field:
    label = LABELS.get(name, name.replace("_", " "))
    kind = info.annotation
    if kind is bool:
        return forms.BooleanField(label=label, required=False)
    if kind is int:
        return forms.IntegerField(
            label=label, min_value=_bound(info, "ge"), max_value=_bound(info, "le")
        )
    if typing.get_origin(kind) is typing.Literal:
        return forms.ChoiceField(label=label, choices=MFA_CHOICES)
    if name == "required_roles":
        return forms.MultipleChoiceField(
            label=label,
            required=False,
            choices=[(s, s) for s in role_slugs],
            widget=forms.CheckboxSelectMultiple,
        )
    raise TypeError(f"no form field for settings.{section}.{name}")  # pragma: no cover


def _shown(value: Any) -> str:
    if value is True:
        return str(_("yes"))
    if value is False:
        return str(_("no"))
    if value is None or value == []:
        return "—"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return str(value)


class TenantSettingsForm(forms.Form):
    """`initial` from the tenant's current settings; `patch()` the document to merge in."""

    def __init__(self, data: Any = None, *, current: dict[str, Any], role_slugs: list[str]) -> None:
        settings = parse_tenant_settings(current)
        initial: dict[str, Any] = {}
        for section, _heading in SECTIONS:
            values = getattr(settings, section).model_dump()
            initial.update({f"{section}__{k}": v for k, v in values.items()})
        super().__init__(data, initial=initial)
        for section, _heading in SECTIONS:
            model = typing.cast(type[BaseModel], TenantSettings.model_fields[section].annotation)
            for name, info in model.model_fields.items():
                self.fields[f"{section}__{name}"] = _field(section, name, info, role_slugs)

    def groups(self) -> list[tuple[Any, list[forms.BoundField]]]:
        """The fields by section, for the template's fieldsets."""
        return [
            (heading, [self[n] for n in self.fields if n.startswith(f"{section}__")])
            for section, heading in SECTIONS
        ]

    def readonly_groups(self) -> list[tuple[Any, list[tuple[Any, str]]]]:
        """The current values by section, as text (for those who may only read them)."""
        return [
            (heading, [(field.label, _shown(field.value())) for field in fields])
            for heading, fields in self.groups()
        ]

    def patch(self) -> dict[str, dict[str, Any]]:
        """The settings sections as the form holds them."""
        found: dict[str, dict[str, Any]] = {}
        for key, value in self.cleaned_data.items():
            section, name = key.split("__", 1)
            found.setdefault(section, {})[name] = list(value) if name == "required_roles" else value
        return found
