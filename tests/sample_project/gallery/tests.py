"""The sample project's tests under Django's runner (`manage.py test`, also `--parallel`)."""

from django.core.files.storage import default_storage, storages
from django.test import SimpleTestCase, TestCase

from emulators.django import EmulatedStoragesMixin, emulated_storages

from .models import Photo
from .samples import png, record, text


class UploadTests:
    """What every backend must do for this project (mixed into one TestCase per backend)."""

    def setUp(self):
        super().setUp()
        record(self.storage_namespace.service, self.storage_namespace.emulator)

    def test_a_upload_view_stores_both_files(self):
        response = self.client.post("/upload/", {"title": "t", "document": text(), "image": png(3, 2)})
        self.assertEqual(response.status_code, 201, response.content)
        body = response.json()
        self.assertEqual((body["width"], body["height"]), (3, 2))
        # What the emulated service really holds, read around the storage under test:
        self.assertEqual(self.storage_namespace.keys(), [body["document"], body["image"]])
        stored = self.storage_namespace.get(body["document"])
        self.assertEqual(stored.data, b"quarterly report")
        if "content_type" in self.storage_namespace.fields:
            self.assertEqual(stored.content_type, "text/plain")
        self.assertTrue(self.storage_namespace.read(body["image"]).startswith(b"\x89PNG"))

    def test_b_every_test_starts_with_an_empty_namespace(self):
        self.assertEqual(self.storage_namespace.keys(), [])
        self.assertEqual(default_storage.listdir(""), ([], []))

    def test_view_reads_a_seeded_file(self):
        self.storage_namespace.put("documents/seeded.txt", b"put there by the test")
        photo = Photo.objects.create(title="seeded", document="documents/seeded.txt")
        response = self.client.get(f"/photos/{photo.pk}/document/")
        self.assertEqual(response.content, b"put there by the test")


@emulated_storages("s3")
class S3UploadTests(UploadTests, TestCase):
    pass


class GCSUploadTests(EmulatedStoragesMixin, UploadTests, TestCase):
    storages_backend = "gcs"


@emulated_storages("azure")
class AzureUploadTests(UploadTests, TestCase):
    pass


class FTPUploadTests(EmulatedStoragesMixin, UploadTests, TestCase):
    storages_backend = "ftp"


@emulated_storages("sftp")
class SFTPUploadTests(UploadTests, TestCase):
    pass


class OneTestTests(SimpleTestCase):
    """The decorator on one method, and the context manager, on a SimpleTestCase."""

    @emulated_storages("ftp", aliases=("default",))
    def test_method_decorator_overrides_only_the_named_alias(self):
        self.assertEqual(type(storages["default"]).__name__, "FTPStorage")
        self.assertEqual(type(storages["staticfiles"]).__name__, "StaticFilesStorage")

    def test_context_manager(self):
        emulated = emulated_storages("s3")
        with emulated as storage:
            self.assertIs(storage, storages["default"])
            storage.save("notes/a.txt", text())
            self.assertEqual(emulated.namespace.keys(), ["notes/a.txt"])
        self.assertEqual(type(storages["default"]).__name__, "FileSystemStorage")
