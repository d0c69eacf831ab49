"""Run beside the conformance suite with --storage-class=gallery.storage.ReportStorage: proves the
suite's storages were the project's subclass, with its location and object parameters."""

from django.core.files.base import ContentFile

from .storage import ReportStorage


def test_the_suite_ran_on_the_subclass(storage, storage_factory, s3_emulator):
    assert type(storage) is ReportStorage
    storage.save("probe/a.txt", ContentFile(b"probe"))
    with s3_emulator.namespace(storage_factory.options) as namespace:
        assert namespace.keys() == ["reports/probe/a.txt"]
        assert namespace.get("reports/probe/a.txt").metadata == {"project": "sample"}
