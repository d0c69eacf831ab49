"""The model of SEED.md's "Model" examples. Its fields' storage is swapped per test."""

import random

from django.db import models

from .storage import swappable


def random_upload_to(instance, filename):
    # Evaluated once per save: the directory must not change between calls (#5655).
    return f"{random.randint(100, 999)}/{filename}"


class MyStorage(models.Model):
    normal = models.FileField(storage=swappable, upload_to="tests")
    custom = models.FileField(storage=swappable, upload_to=lambda instance, filename: f"custom/{filename}")
    random = models.FileField(storage=swappable, upload_to=random_upload_to)
    default = models.FileField(storage=swappable, upload_to="tests", default="tests/default.txt")

    class Meta:
        app_label = "testapp"


class Resume(models.Model):
    """SEED.md, Google Cloud Storage, "Fields": fields on the default storage."""

    pdf = models.FileField(upload_to="pdfs")
    photos = models.ImageField(upload_to="photos")

    class Meta:
        app_label = "testapp"
