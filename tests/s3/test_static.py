"""Static files on S3: S3StaticStorage URLs, collectstatic, the manifest storage."""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

import pytest
from django.core.management import call_command
from django.test import override_settings

from storages.backends.s3 import S3ManifestStaticStorage, S3StaticStorage
from storages.compat import override_storages

CSS = b'body { background: url("../img/logo.png"); }\n'
PNG = b"\x89PNG\r\n\x1a\n fake image"
JS = b"console.log('app');\n"


@pytest.fixture
def static_dir(tmp_path):
    root = tmp_path / "static-src"
    for rel, data in {"css/site.css": CSS, "img/logo.png": PNG, "js/app.js": JS}.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return root


def collectstatic(backend, options, static_dir):
    from django.contrib.staticfiles.storage import staticfiles_storage

    entry = {"BACKEND": backend, "OPTIONS": options}
    override = override_storages(
        {"default": {"BACKEND": "django.core.files.storage.InMemoryStorage"}, "staticfiles": entry},
        STATICFILES_DIRS=[str(static_dir)],
        STATICFILES_FINDERS=["django.contrib.staticfiles.finders.FileSystemFinder"],
    )
    override.enable()
    call_command("collectstatic", interactive=False, verbosity=0)
    return override, staticfiles_storage


def stored(raw, bucket):
    return sorted(o["Key"] for o in raw.list_objects_v2(Bucket=bucket).get("Contents", ()))


def test_static_storage_urls_have_no_query_string(make_storage):
    with override_settings(AWS_QUERYSTRING_AUTH=True):
        storage = make_storage(S3StaticStorage)
        assert storage.querystring_auth is False
        url = storage.url("css/site.css")
    assert urlsplit(url).query == "" and url.endswith(f"/{make_storage.bucket}/css/site.css")


def test_collectstatic_uploads_through_static_storage(namespace, static_dir, raw):
    override, storage = collectstatic("storages.backends.s3.S3StaticStorage",
                                      {**namespace, "location": "static"}, static_dir)
    try:
        assert isinstance(storage._wrapped, S3StaticStorage)
        assert storage.url("js/app.js").endswith(f"/{namespace['bucket_name']}/static/js/app.js")
    finally:
        override.disable()
    bucket = namespace["bucket_name"]
    assert stored(raw, bucket) == ["static/css/site.css", "static/img/logo.png", "static/js/app.js"]
    head = raw.head_object(Bucket=bucket, Key="static/css/site.css")
    assert head["ContentType"] == "text/css"
    assert raw.get_object(Bucket=bucket, Key="static/img/logo.png")["Body"].read() == PNG


def test_collectstatic_with_gzip_compresses_css_and_js(namespace, static_dir, raw):
    override, _ = collectstatic("storages.backends.s3boto3.S3Boto3StaticStorage",
                                {**namespace, "gzip": True}, static_dir)
    override.disable()
    bucket = namespace["bucket_name"]
    assert raw.head_object(Bucket=bucket, Key="css/site.css").get("ContentEncoding") == "gzip"
    assert raw.head_object(Bucket=bucket, Key="js/app.js").get("ContentEncoding") == "gzip"
    assert "ContentEncoding" not in raw.head_object(Bucket=bucket, Key="img/logo.png")


def test_manifest_static_storage(namespace, static_dir, raw):
    bucket = namespace["bucket_name"]
    override, storage = collectstatic("storages.backends.s3.S3ManifestStaticStorage", namespace, static_dir)
    try:
        assert isinstance(storage._wrapped, S3ManifestStaticStorage)
        keys = stored(raw, bucket)
        assert "staticfiles.json" in keys
        manifest = json.loads(raw.get_object(Bucket=bucket, Key="staticfiles.json")["Body"].read())
        hashed_css = manifest["paths"]["css/site.css"]
        hashed_png = manifest["paths"]["img/logo.png"]
        assert re.fullmatch(r"css/site\.[0-9a-f]{12}\.css", hashed_css)
        assert {hashed_css, hashed_png, manifest["paths"]["js/app.js"]} <= set(keys)
        # The stylesheet was rewritten to point at the hashed image.
        css = raw.get_object(Bucket=bucket, Key=hashed_css)["Body"].read()
        assert hashed_png.split("/")[-1].encode() in css
        url = storage.url("css/site.css")
        assert url.endswith(f"/{bucket}/{hashed_css}") and urlsplit(url).query == ""
        # A fresh instance reads the manifest back from the bucket.
        fresh = S3ManifestStaticStorage(**namespace)
        assert fresh.url("img/logo.png").endswith(f"/{hashed_png}")
        with pytest.raises(ValueError, match="Missing staticfiles manifest entry"):
            fresh.url("css/missing.css")
    finally:
        override.disable()
