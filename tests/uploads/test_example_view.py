"""docs/direct-uploads.md, browser-free: the example site's grant view (example/gallery/direct.py)
called as Django calls it, and a Python client that uploads with the JSON it returns."""

from __future__ import annotations

import json

import pytest
import requests
from django.core.files.storage import default_storage
from django.test import RequestFactory

from example.gallery import direct


def ask_for_a_grant(filename: str, content_type: str = "") -> tuple[int, dict]:
    """POST to the grant view, as the page's script does (CSRF is the site's middleware's job)."""
    request = RequestFactory().post("/direct/grant/", {"filename": filename, "content_type": content_type})
    response = direct.upload_grant(request)
    return response.status_code, json.loads(response.content)


def upload(grant: dict, data: bytes) -> requests.Response:
    """A client that is not the site (a script, a mobile app) sends the file with the grant."""
    if grant["method"] == "POST":  # a form: the grant's fields, then the file
        return requests.post(grant["url"], data=grant["fields"],
                             files={grant["file_field"]: ("file", data, grant["content_type"])})
    return requests.put(grant["url"], data=data, headers=grant["headers"])  # the bytes, as they are


@pytest.mark.storages("s3", "gcs", "azure")
def test_a_client_uploads_with_the_views_grant(storages_backend):
    status, grant = ask_for_a_grant("../My Photo.png", "image/png")
    assert status == 200
    assert grant["name"].startswith("direct/") and grant["name"].endswith("/My_Photo.png")
    assert upload(grant, b"\x89PNG fake").ok
    assert direct.uploaded_name(grant["token"]) == grant["name"]  # the site records this name
    assert default_storage.open(grant["name"]).read() == b"\x89PNG fake"


@pytest.mark.storages("s3", "gcs", "azure")
def test_the_site_accepts_only_its_own_grants_and_what_arrived(storages_backend, monkeypatch):
    _, grant = ask_for_a_grant("a.txt")
    with pytest.raises(ValueError, match="nothing was uploaded"):
        direct.uploaded_name(grant["token"])
    with pytest.raises(ValueError, match="not a grant of this site"):
        direct.uploaded_name(grant["token"][:-2] + "xx")
    monkeypatch.setattr(direct, "MAX_SIZE", 10)
    _, grant = ask_for_a_grant("big.txt")
    response = upload(grant, b"x" * 11)
    if grant["max_size"] is not None:  # the service refuses it (S3, GCS)
        assert response.status_code in (400, 403)
    else:  # the service cannot cap the size (Azure): the site checks and deletes
        assert response.ok
        with pytest.raises(ValueError, match="larger than 10 bytes"):
            direct.uploaded_name(grant["token"])
    assert not default_storage.exists(grant["name"])


@pytest.mark.storages("ftp", "dropbox")
def test_a_storage_without_grants_says_why(storages_backend):
    status, answer = ask_for_a_grant("a.txt")
    assert status == 501 and "cannot issue direct uploads" in answer["error"]
    assert ask_for_a_grant("")[0] == 400
