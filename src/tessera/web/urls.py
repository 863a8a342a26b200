"""The pages' URLs (API.md "Pages (for people)")."""

from django.urls import path

from tessera.web.pages import signout

app_name = "web"

urlpatterns = [
    path("signout/", signout.signout, name="signout"),
]
