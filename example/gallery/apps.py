from django.apps import AppConfig


class GalleryConfig(AppConfig):
    name = "example.gallery"
    label = "gallery"
    verbose_name = "Gallery"
