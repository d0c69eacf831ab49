"""The model of the original documentation's "Model" examples; its fields' storage is swapped per test."""

import random

from django.db import models

from .storage import swappable


def random_upload_to(instance, filename):
    # Evaluated once per save: the directory must not change between calls (#5655).
    return f"{random.randint(100, 999)}/{filename}"


def custom_upload_to(instance, filename):
    return f"custom/{filename}"


class MyStorage(models.Model):
    normal = models.FileField(storage=swappable, upload_to="tests")
    custom = models.FileField(storage=swappable, upload_to=custom_upload_to)
    random = models.FileField(storage=swappable, upload_to=random_upload_to)
    default = models.FileField(storage=swappable, upload_to="tests", default="tests/default.txt")

    class Meta:
        app_label = "storages_contract"
