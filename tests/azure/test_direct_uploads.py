"""Azure direct_upload(): a Put Blob with a create/write SAS, through AZURE_CUSTOM_DOMAIN too;
Azurite checks the SAS (signature, permissions, expiry)."""

from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from emulators.contract.support import send_direct_upload


def test_the_put_carries_the_content_settings(make_storage, raw_container):
    storage = make_storage(cache_control="max-age=60", location="media",
                           object_parameters={"content_disposition": "inline"})
    grant = storage.direct_upload("pics/cat.png")
    assert grant.method == "PUT"
    assert urlsplit(grant.url).path.endswith(f"/{make_storage.container}/media/pics/cat.png")
    assert grant.headers == {"x-ms-blob-type": "BlockBlob", "x-ms-blob-content-type": "image/png",
                             "x-ms-blob-cache-control": "max-age=60",
                             "x-ms-blob-content-disposition": "inline"}
    assert parse_qs(urlsplit(grant.url).query)["sp"] == ["cw"]
    assert send_direct_upload(grant.as_dict(), b"\x89PNG")[0] == 201
    settings = raw_container.get_blob_client("media/pics/cat.png").get_blob_properties().content_settings
    assert (settings.content_type, settings.cache_control, settings.content_disposition) \
        == ("image/png", "max-age=60", "inline")
    assert requests.get(grant.url, timeout=10).status_code == 403  # the grant cannot read


def test_the_grant_goes_through_the_custom_domain(make_storage, azure_emulator):
    storage = make_storage(custom_domain=f"127.0.0.1:{azure_emulator.port}/devstoreaccount1", azure_ssl=False)
    grant = storage.direct_upload("a b.txt")
    assert grant.url.startswith(f"http://127.0.0.1:{azure_emulator.port}/devstoreaccount1/"
                                f"{make_storage.container}/a%20b.txt?")
    assert send_direct_upload(grant.as_dict(), b"via the domain")[0] == 201
    assert storage.open("a b.txt").read() == b"via the domain"


def test_max_size_is_refused_not_ignored(make_storage):
    with pytest.raises(NotImplementedError, match="cannot cap the size.*check storage.size"):
        make_storage().direct_upload("a.txt", max_size=10)


def test_direct_upload_signs_locally(proxied):
    proxy, make = proxied
    with proxy.counting() as counter:
        grant = make(file_overwrite=True).direct_upload("a.txt")
    assert grant.headers["x-ms-blob-content-type"] == "text/plain"
    assert counter.count == 0
    with proxy.counting() as counter:  # overwriting off (the default): the name is checked first
        assert make().direct_upload("a.txt").name == "a.txt"
    assert counter.count and all(method in ("HEAD", "GET") for method, _ in counter.requests)
