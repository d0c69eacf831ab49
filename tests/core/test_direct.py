"""storages.core.direct: what direct_upload() checks and resolves before a backend signs, on a
storage whose only service is a set of names (the backends are tested over HTTP in
emulators/contract/test_direct_uploads.py)."""

import json
from datetime import datetime, timedelta, timezone

import pytest
from django.core.exceptions import SuspiciousFileOperation

from storages.core import BaseStorage, DirectUpload, ObjectInfo, Option


class Granting(BaseStorage):
    """Holds ``names``; signs nothing: its grant records the request it was asked to sign."""

    options = (Option("file_overwrite", default=True), Option("location", default="root"))
    unsupported = {"created_time": "n/a", "accessed_time": "n/a"}

    def __init__(self, names=(), **kwargs):
        super().__init__(**kwargs)
        self.names = set(names)
        self.requests = []

    def _stat(self, key):
        if key in self.names:
            return ObjectInfo(size=1)
        raise FileNotFoundError(key)

    def _direct_upload(self, request):
        self.requests.append(request)
        return DirectUpload(request.name, f"https://svc.example/{request.key}", "PUT",
                            request.content_type or "application/octet-stream", request.expires_at,
                            request.max_size, headers={"Content-Type": request.content_type or ""})


def test_the_request_a_backend_signs():
    storage = Granting()
    grant = storage.direct_upload("a/b.png", max_size=10, expire=timedelta(minutes=5))
    (request,) = storage.requests
    assert (request.name, request.key, request.content_type, request.max_size, request.expire) \
        == ("a/b.png", "root/a/b.png", "image/png", 10, 300)
    assert abs((request.expires_at - datetime.now(timezone.utc)).total_seconds() - 300) < 2
    assert grant.name == "a/b.png"
    assert storage.direct_upload("x.unknownext").content_type == "application/octet-stream"
    answer = json.loads(json.dumps(grant.as_dict()))
    assert answer["expires_at"].endswith("Z") and answer["max_size"] == 10 and answer["file_field"] == "file"


def test_overwriting_off_picks_a_free_name_and_max_length_applies():
    storage = Granting({"root/taken.txt"}, file_overwrite=False)
    grant = storage.direct_upload("taken.txt", max_length=20)
    assert grant.name != "taken.txt" and grant.name.startswith("taken_") and len(grant.name) <= 20
    replacing = Granting(file_overwrite=True)
    assert replacing.direct_upload("a" * 30 + ".txt", max_length=12).name == "aaaaaaaa.txt"


@pytest.mark.parametrize("expire", [0, -1, 7 * 24 * 3600 + 1, 1.5, True, "60", timedelta(0)])
def test_bad_expiries_are_refused(expire):
    with pytest.raises(ValueError, match="expire must be"):
        Granting().direct_upload("a.txt", expire=expire)


@pytest.mark.parametrize("size", [-1, 1.0, "10", True])
def test_bad_sizes_are_refused(size):
    with pytest.raises(ValueError, match="max_size must be"):
        Granting().direct_upload("a.txt", max_size=size)


@pytest.mark.parametrize("name", ["../x", "/etc/passwd", "a\x00b", ""])
def test_names_that_escape_the_root_are_refused_before_signing(name):
    storage = Granting()
    with pytest.raises(SuspiciousFileOperation):
        storage.direct_upload(name)
    assert storage.requests == []


def test_missing_capabilities_raise_with_the_reason():
    class NoGrants(Granting):
        unsupported = {"direct_uploads": "this service has no signed links"}

    class NoLimits(Granting):
        unsupported = {"direct_upload_limits": "its grants cannot cap sizes"}

    with pytest.raises(NotImplementedError, match="NoGrants cannot issue direct uploads: this service has"):
        NoGrants().direct_upload("a.txt")
    with pytest.raises(NotImplementedError, match="cannot limit the size .*its grants cannot cap sizes"):
        NoLimits().direct_upload("a.txt", max_size=1)
    assert NoLimits().direct_upload("a.txt").max_size is None


class Bare(BaseStorage):
    options = (Option("file_overwrite", default=True),)


def test_a_backend_without_the_hook_cannot_pretend():
    with pytest.raises(NotImplementedError):
        Bare().direct_upload("a.txt")
