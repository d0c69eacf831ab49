"""One exit for errors (storages/core/errors.py): SDK failures provoked through the real
emulators leave every public method as Django's/Python's errors, chained to the SDK's,
naming the endpoint and never a secret (the faults are in targets.py)."""

import traceback

from django.core.exceptions import ImproperlyConfigured
from django.core.files.base import ContentFile

from storages.core.errors import EXITS

from .targets import faults_for

CALLS = {
    "exists": lambda storage, name: storage.exists(name),
    "open": lambda storage, name: storage.open(name).read(),
    "size": lambda storage, name: storage.size(name),
    "save": lambda storage, name: storage.save(name, ContentFile(b"payload")),
    "listdir": lambda storage, name: storage.listdir(name),
    "delete": lambda storage, name: storage.delete(name),
}


def test_sdk_failures_leave_as_django_and_python_errors(storage_factory, storage_target):
    faults = faults_for(storage_target.id, storage_factory.options)
    assert len(faults) >= 2
    for fault in faults:
        storage = storage_factory(**fault.options)
        for call in fault.calls:
            where = f"{storage_target.id}, {fault.what}, {call}()"
            try:
                CALLS[call](storage, fault.name)
            except Exception as caught:  # noqa: BLE001 - what leaves is the subject of the test
                exc = caught
            else:
                raise AssertionError(f"{where}: nothing was raised")
            leaked = f"{type(exc).__module__}.{type(exc).__name__}"
            assert isinstance(exc, EXITS), f"{where}: {leaked} leaked: {exc}"
            assert isinstance(exc, fault.expected), f"{where}: {exc!r}"
            assert exc.__cause__ is not None, f"{where}: not chained to the SDK's error"
            assert storage.endpoint() in str(exc), f"{where}: the message does not name the endpoint: {exc}"
            text = "".join(traceback.format_exception(exc))  # the SDK's chained errors included
            assert storage.redact(text) == text, f"{where}: a configured secret is in the error"
            if fault.secret:
                assert fault.secret not in text, where
            if isinstance(exc, ImproperlyConfigured) and "bucket/container" in fault.what:
                # One wording on every backend (BaseStorage.missing_container).
                assert str(exc) == str(storage.missing_container()), where
                assert storage.container_setting() in str(exc) and "does not exist at" in str(exc)

