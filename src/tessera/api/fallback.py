"""Turns any error response that is not already JSON (405, Django's 404/400/403) into problem+json.

The admin UI and the pages for people (tessera.web) keep their own HTML pages.
"""

from __future__ import annotations

from http import HTTPStatus

from tessera.problems import problem
from tessera.web.headers import is_page_path

_CODES = {
    400: "bad_request",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
}


class ProblemFallbackMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        status = response.status_code
        if (
            status < 400
            or request.path.startswith(("/admin/", "/static/"))
            or is_page_path(request.path_info)
        ):
            return response
        content_type = response.get("Content-Type", "")
        if "json" in content_type:
            return response
        try:
            title = HTTPStatus(status).phrase
        except ValueError:
            title = "Error"
        headers = {}
        if status == 405 and response.has_header("Allow"):
            headers["Allow"] = response["Allow"]
        detail = {
            404: "No such resource.",
            405: f"Method {request.method} is not allowed here.",
        }.get(status, title + ".")
        return problem(
            request,
            status=status,
            title=title,
            detail=detail,
            code=_CODES.get(status, "http_error"),
            headers=headers,
        )
