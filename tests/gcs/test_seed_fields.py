"""SEED.md, Google Cloud Storage, "Fields": once default storage is GCS, new FileFields use it."""

import re

import pytest
from django.core.files.base import ContentFile

from tests.testapp.models import Resume


@pytest.mark.django_db
def test_default_storage_and_new_fields_use_google_cloud_storage(emulated_storages, gcs_emulator):
    from django.core.files.storage import default_storage

    emulated_storages("gcs")
    # >>> print default_storage.__class__
    assert str(default_storage.__class__) == "<class 'storages.backends.gcloud.GoogleCloudStorage'>"

    # >>> resume = Resume(); print resume.pdf.storage
    resume = Resume()
    assert re.fullmatch(r"<storages\.backends\.gcloud\.GoogleCloudStorage object at 0x[0-9a-f]+>",
                        str(resume.pdf.storage))

    # And the field really stores there, under its upload_to.
    resume.pdf.save("cv.pdf", ContentFile(b"%PDF-1.4 resume"), save=False)
    assert resume.pdf.name == "pdfs/cv.pdf"
    assert default_storage.open("pdfs/cv.pdf").read() == b"%PDF-1.4 resume"
