"""A page behind `page_login_required`, for the foundation's tests (the real URLs plus one)."""

from django.shortcuts import render
from django.urls import path

from tessera.urls import urlpatterns as real_urlpatterns
from tessera.web.auth import page_login_required, page_visitor


@page_login_required
def demo_page(request):
    return render(
        request,
        "web/base.html",
        {"visitor": page_visitor(request), "nav": "account"},
    )


@page_login_required(limited_ok=True)
def demo_limited_page(request):
    return render(request, "web/base.html", {"visitor": page_visitor(request)})


urlpatterns = [
    path("account/demo/", demo_page),
    path("account/demo-limited/", demo_limited_page),
    *real_urlpatterns,
]
