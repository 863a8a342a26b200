from django.apps import AppConfig


class ReviewsConfig(AppConfig):
    name = "tessera.reviews"
    label = "reviews"
    verbose_name = "Access reviews"
