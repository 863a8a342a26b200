from django.urls import path

from . import views

urlpatterns = [
    path("health", views.health),
    path("me", views.me),
    path("documents", views.documents),
    path("documents/<str:doc_id>", views.document),
    path("admin/stats", views.admin_stats),
]
