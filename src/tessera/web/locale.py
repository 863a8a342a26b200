"""The language of the pages for people: Django's LocaleMiddleware (Accept-Language, the
`django_language` cookie), on page paths only — the API and the admin site keep theirs. Once a
person is signed in, their profile's `language` wins (tessera.web.auth.page_activate_language)."""

from __future__ import annotations

from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.middleware.locale import LocaleMiddleware

from tessera.web.headers import is_page_path


class PageLocaleMiddleware(LocaleMiddleware):
    def process_request(self, request: HttpRequest) -> None:
        if is_page_path(request.path_info):
            super().process_request(request)

    def process_response(
        self, request: HttpRequest, response: HttpResponseBase
    ) -> HttpResponseBase:
        if is_page_path(request.path_info):
            return super().process_response(request, response)
        return response
