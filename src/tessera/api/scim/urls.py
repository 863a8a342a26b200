"""URL map of /scim/v2/ (mounted by tessera.urls)."""

from django.urls import path, re_path

from tessera.api.scim import views

urlpatterns = [
    path("ServiceProviderConfig", views.service_provider_config),
    path("ResourceTypes", views.resource_types),
    path("ResourceTypes/<str:name>", views.resource_types),
    path("Schemas", views.schemas),
    path("Schemas/<str:urn>", views.schemas),
    path(".search", views.search),
    path("Users/.search", views.users_search),
    path("Users", views.users),
    path("Users/<str:user_id>", views.user),
    path("Groups/.search", views.groups_search),
    path("Groups", views.groups),
    path("Groups/<str:group_id>", views.group),
    re_path(r"^(?P<rest>.*)$", views.not_found),
]
