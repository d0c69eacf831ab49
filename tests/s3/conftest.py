"""Fixtures for the S3 backend's own tests: real boto3, real moto server, real sockets."""

from __future__ import annotations

import pytest

from emulators.proxy import CountingProxy
from storages.backends.s3 import S3Storage
from tests.support import storage_maker, with_options

#: Environment variables boto3 or our options read; a developer's own AWS set-up
#: must not leak into these tests.
AWS_ENV = (
    "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN",
    "AWS_S3_ACCESS_KEY_ID", "AWS_S3_SECRET_ACCESS_KEY", "AWS_S3_SESSION_PROFILE", "AWS_PROFILE",
    "AWS_DEFAULT_PROFILE", "AWS_STORAGE_BUCKET_NAME", "AWS_S3_ENDPOINT_URL", "AWS_ENDPOINT_URL",
    "AWS_ENDPOINT_URL_S3", "AWS_DEFAULT_REGION", "AWS_REGION",
)


@pytest.fixture(autouse=True)
def clean_aws_environment(monkeypatch, tmp_path):
    for var in AWS_ENV:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")


@pytest.fixture
def namespace(s3_emulator):
    """OPTIONS for a fresh bucket of the session's moto server."""
    return s3_emulator.new_namespace()


@pytest.fixture
def make_storage(namespace):
    """``make_storage(cls=S3Storage, **options)``: a storage in this test's fresh bucket."""
    with storage_maker(S3Storage, namespace) as make:
        make.bucket = namespace["bucket_name"]
        yield make


@pytest.fixture(scope="session")
def raw(s3_emulator):
    """A raw boto3 client on the emulator, to check what really got stored."""
    return s3_emulator.client()


@pytest.fixture
def proxy(s3_emulator):
    """A counting, fault-injecting HTTP proxy in front of moto."""
    with CountingProxy(s3_emulator.host, s3_emulator.port) as running:
        yield running


@pytest.fixture
def proxied(make_storage, proxy):
    """Like ``make_storage``, but every request goes through ``proxy``."""
    return with_options(make_storage, endpoint_url=proxy.endpoint)
