"""``direct_upload()``: a client that is not the storage uploads one file straight to the
service with the grant's JSON; the service itself refuses what the grant does not allow."""

import json
import time
from datetime import datetime, timezone
from urllib.parse import quote

import pytest
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.base import ContentFile

from .support import send_direct_upload

NAME = "direct/ü photo.txt"


def grant_json(storage, name=NAME, **kwargs):
    """The grant as the client gets it: through JSON."""
    return json.loads(json.dumps(storage.direct_upload(name, **kwargs).as_dict()))


def assert_refused(storage, grant, status, body):
    assert 400 <= status < 500, (status, body[:300])
    assert not storage.exists(grant["name"]), "a refused direct upload left an object behind"


def other_name(grant, other="direct/other.txt"):
    """The same request for another name: the grant's key (POST field) or URL path changed."""
    name = grant["name"]
    if grant["method"] == "POST":
        fields = {k: v[: -len(name)] + other if v.endswith(name) else v for k, v in grant["fields"].items()}
        assert fields != grant["fields"], "the grant's fields do not name the key"
        return {"fields": fields}
    path, _, query = grant["url"].partition("?")
    assert path.endswith(quote(name)), path
    return {"url": f"{path[: -len(quote(name))]}{quote(other)}?{query}"}


def other_content_type(grant, other="text/html"):
    """The same request with another content type wherever the grant put its own."""
    def swap(values):
        return {k: other if v == grant["content_type"] else v for k, v in values.items()}

    where = "fields" if grant["method"] == "POST" else "headers"
    changed = swap(grant[where])
    assert changed != grant[where], f"the grant's {where} do not carry its content type"
    return {where: changed}


@pytest.mark.capability("direct_uploads")
def test_a_client_uploads_through_the_grant(storage):
    grant = grant_json(storage, content_type="text/plain")
    assert grant["name"] == NAME and grant["method"] in ("POST", "PUT")
    expires_at = datetime.fromisoformat(grant["expires_at"].replace("Z", "+00:00"))
    assert 3500 < (expires_at - datetime.now(timezone.utc)).total_seconds() <= 3600
    status, body = send_direct_upload(grant, b"sent by another client")
    assert 200 <= status < 300, (status, body[:300])
    with storage.open(NAME) as f:
        assert f.read() == b"sent by another client"
        assert f.info.content_type == "text/plain"
    assert storage.listdir("direct") == ([], ["ü photo.txt"])


@pytest.mark.capability("direct_uploads")
def test_the_content_type_is_guessed_from_the_name(storage):
    grant = grant_json(storage, "direct/page.html")
    assert grant["content_type"] == "text/html"
    assert send_direct_upload(grant, b"<p>hi</p>")[0] < 300
    assert storage.open("direct/page.html").info.content_type == "text/html"


@pytest.mark.capability("direct_uploads")
def test_the_grant_writes_only_its_own_name(storage):
    grant = grant_json(storage)
    status, body = send_direct_upload(grant, b"elsewhere", **other_name(grant))
    assert 400 <= status < 500, (status, body[:300])
    assert not storage.exists("direct/other.txt") and not storage.exists(NAME)


@pytest.mark.capability("direct_uploads")
def test_an_expired_grant_is_refused(storage):
    grant = grant_json(storage, expire=1)
    expires_at = datetime.fromisoformat(grant["expires_at"].replace("Z", "+00:00")).timestamp()
    time.sleep(max(0.0, expires_at - time.time()) + 1.1)
    assert_refused(storage, grant, *send_direct_upload(grant, b"too late"))


@pytest.mark.capability("direct_uploads")
def test_overwriting_off_grants_a_free_name(storage_factory):
    storage = storage_factory(file_overwrite=False)
    storage.save("direct/taken.txt", ContentFile(b"original"))
    grant = grant_json(storage, "direct/taken.txt")
    assert grant["name"] != "direct/taken.txt" and grant["name"].startswith("direct/taken_")
    assert send_direct_upload(grant, b"new")[0] < 300
    assert storage.open("direct/taken.txt").read() == b"original"
    assert storage.open(grant["name"]).read() == b"new"
    replacing = storage_factory(file_overwrite=True)
    assert grant_json(replacing, "direct/taken.txt")["name"] == "direct/taken.txt"


@pytest.mark.capability("direct_uploads")
def test_bad_requests_are_refused_before_signing(storage):
    for bad in ("../x", "/etc/passwd", "a\x00b"):
        with pytest.raises(SuspiciousFileOperation):
            storage.direct_upload(bad)
    for expire in (0, -5, 8 * 24 * 3600, "60"):
        with pytest.raises(ValueError, match="expire"):
            storage.direct_upload("x.txt", expire=expire)
    with pytest.raises((ValueError, NotImplementedError), match="max_size"):
        storage.direct_upload("x.txt", max_size=-1)


@pytest.mark.capability("direct_uploads", "direct_upload_limits")
def test_the_service_enforces_the_size_limit(storage):
    grant = grant_json(storage, max_size=10)
    assert grant["max_size"] == 10
    assert_refused(storage, grant, *send_direct_upload(grant, b"x" * 11))
    assert send_direct_upload(grant, b"y" * 10)[0] < 300
    assert storage.open(NAME).read() == b"y" * 10


@pytest.mark.capability("direct_uploads", "direct_upload_limits")
def test_the_service_enforces_the_content_type(storage):
    grant = grant_json(storage, content_type="image/png")
    assert_refused(storage, grant, *send_direct_upload(grant, b"<script>", **other_content_type(grant)))
    assert send_direct_upload(grant, b"\x89PNG")[0] < 300
    assert storage.open(NAME).info.content_type == "image/png"


def test_a_missing_capability_raises_with_the_reason(storage):
    unsupported = storage.unsupported
    if "direct_uploads" in unsupported:
        with pytest.raises(NotImplementedError, match="cannot issue direct uploads") as info:
            storage.direct_upload("x.txt")
        assert unsupported["direct_uploads"] in str(info.value)
    elif "direct_upload_limits" in unsupported:
        with pytest.raises(NotImplementedError, match="cannot limit the size") as info:
            storage.direct_upload("x.txt", max_size=10)
        assert unsupported["direct_upload_limits"] in str(info.value)
    else:
        assert storage.direct_upload("x.txt", max_size=10).max_size == 10
