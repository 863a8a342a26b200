"""What every Tessera admin page shares: changes go through the services, their errors shown."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect

from tessera.errors import TesseraError


def _problem_text(exc: TesseraError) -> str:
    details = "; ".join(f"{e['field']}: {e['message']}" for e in exc.errors or [])
    return f"{exc.detail} ({details})" if details else exc.detail


def _as_validation_error(exc: TesseraError) -> ValidationError:
    return ValidationError(_problem_text(exc))


if TYPE_CHECKING:  # the mixin's methods are a ModelAdmin's (mixed into one)
    _ModelAdminBase = admin.ModelAdmin
else:
    _ModelAdminBase = object


class ServiceAdminMixin(_ModelAdminBase):
    """Shows a service's refusal (a guard rail, a conflict) as an error message instead of a
    500; the admin's transaction has rolled back, so nothing of the attempt was written."""

    def _refused(self, request, exc: TesseraError):
        self.message_user(request, _problem_text(exc), messages.ERROR)
        return HttpResponseRedirect(request.get_full_path())

    def changeform_view(self, request, *args, **kwargs):
        try:
            return super().changeform_view(request, *args, **kwargs)
        except TesseraError as exc:
            return self._refused(request, exc)

    def delete_view(self, request, *args, **kwargs):
        try:
            return super().delete_view(request, *args, **kwargs)
        except TesseraError as exc:
            return self._refused(request, exc)

    def changelist_view(self, request, *args, **kwargs):
        try:
            return super().changelist_view(request, *args, **kwargs)
        except TesseraError as exc:
            return self._refused(request, exc)
