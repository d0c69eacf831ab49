"""Models of this repository's own tests (the conformance suite's model is emulators.contract.models)."""

from django.db import models


class Resume(models.Model):
    """SEED.md, Google Cloud Storage, "Fields": fields on the default storage."""

    pdf = models.FileField(upload_to="pdfs")
    photos = models.ImageField(upload_to="photos")

    class Meta:
        app_label = "testapp"
