"""Rendering a page, and turning a flow's refusal into the form's messages and status."""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from tessera.errors import TesseraError


def page_render(
    request: HttpRequest,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status: int = 200,
    retry_after: int | None = None,
) -> HttpResponse:
    """The template with the visitor (when signed in) in its context."""
    full = {"visitor": getattr(request, "visitor", None), **(context or {})}
    response = TemplateResponse(request, template, full, status=status)
    if retry_after:
        response["Retry-After"] = str(retry_after)
    return response


def form_refuse(
    form: forms.Form, exc: TesseraError, *, fields: dict[str, str] | None = None
) -> int:
    """Put a refusal's messages on the form — each field error on its field (renamed by
    `fields` where the form names it otherwise), the rest above the form — and answer the
    status the API would have answered."""
    fields = fields or {}
    placed = False
    for error in exc.errors or []:
        name = fields.get(error.get("field", ""), error.get("field", ""))
        form.add_error(name if name in form.fields else None, error.get("message", ""))
        placed = True
    if not placed:
        form.add_error(None, str(exc.detail))
    return exc.status


def retry_after_of(exc: TesseraError) -> int | None:
    return getattr(exc, "retry_after", None)
