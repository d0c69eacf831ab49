"""The sample project's tests under pytest (pytest-django): the marker and the fixtures."""

import pytest
from django.core.files.storage import default_storage

from .models import Photo
from .samples import png, record, text

pytestmark = pytest.mark.django_db


@pytest.mark.storages("s3", "gcs", "azure", "ftp", "sftp")
def test_upload_view(client, emulated_storages, storages_backend):
    response = client.post("/upload/", {"title": "t", "document": text(), "image": png(4, 5)})
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["width"], body["height"]) == (4, 5)
    assert emulated_storages.backend == storages_backend
    namespace = emulated_storages.namespace
    record(storages_backend, emulated_storages.emulator)
    assert namespace.keys() == [body["document"], body["image"]]
    assert namespace.read(body["document"]) == b"quarterly report"
    if "content_type" in namespace.fields:
        assert namespace.get(body["image"]).content_type == "image/png"


@pytest.mark.storages("s3", "ftp")
def test_view_reads_a_seeded_file(client, emulated_storages):
    emulated_storages.namespace.put("documents/seeded.txt", b"seeded")
    photo = Photo.objects.create(title="seeded", document="documents/seeded.txt")
    assert client.get(f"/photos/{photo.pk}/document/").content == b"seeded"


def test_fixture_called_by_name(emulated_storages):
    storage = emulated_storages("sftp", file_overwrite=False)
    assert default_storage.save("a.txt", text()) == "a.txt"
    assert storage.save("a.txt", text()) != "a.txt"
    assert len(emulated_storages.namespace.keys()) == 2


def test_emulator_fixture_seeds_a_namespace_of_its_own(gcs_emulator):
    with gcs_emulator.namespace() as namespace:
        namespace.put("report.csv", "a,b\n", content_type="text/csv", metadata={"owner": "me"})
        stored = namespace.get("report.csv")
        assert (stored.content_type, stored.metadata) == ("text/csv", {"owner": "me"})
        assert namespace.storage().open("report.csv").read() == b"a,b\n"
