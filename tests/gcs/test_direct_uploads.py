"""GCS direct_upload(): a V4 signed PUT whose signed headers carry the blob properties, the
content type and the size range; the emulator's proxy checks them as GCS does."""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.exceptions import ImproperlyConfigured

from emulators.contract.support import send_direct_upload


def test_the_put_carries_the_object_parameters(make_storage, raw_bucket):
    storage = make_storage(location="media", default_acl="publicRead", object_parameters={
        "cache_control": "max-age=60", "content_disposition": "inline", "metadata": {"owner": "ada"}})
    grant = storage.direct_upload("pics/cat.png", max_size=100)
    assert grant.method == "PUT"
    assert urlsplit(grant.url).path == f"/{make_storage.bucket_name}/media/pics/cat.png"
    assert grant.headers == {
        "Content-Type": "image/png", "x-goog-acl": "public-read", "Cache-Control": "max-age=60",
        "Content-Disposition": "inline", "x-goog-meta-owner": "ada", "x-goog-content-length-range": "0,100"}
    signed = parse_qs(urlsplit(grant.url).query)["X-Goog-SignedHeaders"][0].split(";")
    assert signed == sorted(["host", *(name.lower() for name in grant.headers)])
    assert send_direct_upload(grant.as_dict(), b"\x89PNG")[0] == 200
    blob = raw_bucket.get_blob("media/pics/cat.png")
    assert (blob.content_type, blob.cache_control, blob.content_disposition, blob.metadata) \
        == ("image/png", "max-age=60", "inline", {"owner": "ada"})
    for header in ("Cache-Control", "x-goog-meta-owner"):  # every signed header is checked
        changed = {**grant.headers, header: "changed"}
        assert send_direct_upload(grant.as_dict(), b"x", headers=changed)[0] == 403, header


def test_properties_a_put_cannot_carry_are_named(make_storage):
    storage = make_storage(object_parameters={"custom_time": "2020-01-01T00:00:00Z"})
    with pytest.raises(ImproperlyConfigured, match="'custom_time' cannot be set by a direct upload"):
        storage.direct_upload("a.txt")


def test_a_custom_endpoint_is_the_upload_host(make_storage):
    grant = make_storage(custom_endpoint="https://uploads.example.com").direct_upload("a b.txt")
    assert grant.url.startswith("https://uploads.example.com/a%20b.txt?X-Goog-Algorithm=GOOG4-RSA-SHA256")


def test_direct_upload_makes_no_request(proxied, proxy):
    storage = proxied()
    with proxy.counting() as counter:
        assert storage.direct_upload("a.txt", max_size=10).headers["x-goog-content-length-range"] == "0,10"
    assert counter.count == 0
