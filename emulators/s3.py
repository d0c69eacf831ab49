"""S3 emulator: moto's server, in-process on a thread, on a free loopback port.

Clients reach it through an observation proxy (emulators.proxy) that records
each call, injects faults, and refuses presigned URLs and POST policies that
S3 would refuse (bad signature, expired, unknown access key: emulators.presign), and
reads of SSE-C objects without their key, which moto serves (emulators.s3_sse).
"""

from __future__ import annotations

import http.client
import logging
from typing import Any, Callable

from .base import Emulator, needs, unique_name
from .seed import CONTENT_TYPE, METADATA, Namespace, StoredObject

ACCESS_KEY = "testing"
SECRET_KEY = "testing"
REGION = "us-east-1"
DEFAULT_BUCKET = "storages-dev"


class S3Namespace(Namespace):
    """A bucket, through a raw boto3 client on the emulator's endpoint."""

    fields = frozenset({CONTENT_TYPE, METADATA})

    def __init__(self, emulator: Any, options: dict[str, Any]) -> None:
        super().__init__(emulator, options)
        self.bucket = options["bucket_name"]

    def _connect(self) -> Any:
        return self.emulator.client(direct=True)

    @property
    def client(self) -> Any:
        return self.connection

    def _put(self, key: str, data: bytes, content_type: str | None, metadata: dict[str, str] | None) -> None:
        extra: dict[str, Any] = {"ContentType": content_type} if content_type else {}
        if metadata:
            extra["Metadata"] = metadata
        self.client.put_object(Bucket=self.bucket, Key=key, Body=data, **extra)

    def _keys(self) -> list[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket)
        return [item["Key"] for page in pages for item in page.get("Contents", ())]

    def _get(self, key: str) -> StoredObject:
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=key)
        except self.client.exceptions.NoSuchKey as exc:
            raise FileNotFoundError(f"no {key!r} in S3 bucket {self.bucket!r}") from exc
        return StoredObject(key, response["Body"].read(), response.get("ContentType"),
                            dict(response.get("Metadata") or {}))

    def _delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=key)

    def clear(self) -> None:
        keys = self._keys()
        for start in range(0, len(keys), 1000):
            batch = [{"Key": key} for key in keys[start:start + 1000]]
            self.client.delete_objects(Bucket=self.bucket, Delete={"Objects": batch, "Quiet": True})

    def describe(self) -> str:
        return f"bucket {self.bucket!r}"


class S3Emulator(Emulator):
    """moto's ThreadedMotoServer bound to 127.0.0.1 on port 0."""

    name = "s3"
    backend = "storages.backends.s3.S3Storage"
    namespace_class = S3Namespace

    def __init__(self) -> None:
        super().__init__()
        self._server: Any = None
        #: access key -> secret key: the credentials presigned URLs may be signed with.
        self.credentials: dict[str, str] = {ACCESS_KEY: SECRET_KEY}

    def add_credentials(self, access_key: str, secret_key: str) -> None:
        """Accept presigned URLs signed with this key pair too (the service accepts any
        header-signed request, as moto does; presigned URLs are checked)."""
        self.credentials[access_key] = secret_key

    def start(self) -> None:
        if self.started:
            return
        needs("moto.server", "flask", purpose="the S3 emulator (moto's server)")
        from moto.server import ThreadedMotoServer

        from .s3_checksums import install

        install()  # whole-object CRC32s of multipart uploads kept running, as S3 does
        # werkzeug logs every request at INFO; keep test and CLI output readable.
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self._server = ThreadedMotoServer(ip_address=self.host, port=0, verbose=False)
        self._server.start()
        self.port = self._server.get_host_and_port()[1]
        self.open_front()
        self.started = True
        self._create_bucket(DEFAULT_BUCKET)

    def open_front(self) -> None:
        """Put the observation proxy, with its presigned-URL and digest checks, before the service
        listening on ``port``; clients then connect to the proxy."""
        from .integrity import S3Integrity
        from .presign import S3Verifier
        from .s3_sse import SSECFront

        self.service_port = self.port
        self.front = SSECFront("s3", host=self.host, verifier=S3Verifier(self.credentials),
                               integrity=S3Integrity())
        self.port = self.front.start((self.host, self.service_port)).port

    def close_front(self) -> None:
        if self.front is not None:
            self.front.stop()
            self.front = None
        self.service_port = None

    def stop(self) -> None:
        self.close_front()
        if self._server is not None:
            self._server.stop()
            self._server = None
        self.started = False

    def _request(self, method: str, path: str, body: bytes = b"") -> int:
        """A request straight to moto (not observed, no faults): set-up and health."""
        conn = http.client.HTTPConnection(self.host, self.service_port or self.port, timeout=10)
        try:
            conn.request(method, path, body=body)
            response = conn.getresponse()
            response.read()
            return response.status
        finally:
            conn.close()

    def reset(self) -> None:
        """Wipe every bucket (moto's reset endpoint), then recreate the default bucket."""
        self._request("POST", "/moto-api/reset")
        if self.front is not None and hasattr(self.front, "forget"):
            self.front.forget()
        self._create_bucket(DEFAULT_BUCKET)

    def health(self) -> bool:
        if not self.started:
            return False
        try:
            return self._request("GET", "/moto-api/") < 500
        except OSError:
            return False

    def _create_bucket(self, bucket: str) -> None:
        status = self._request("PUT", f"/{bucket}")
        if status >= 300 and status != 409:
            raise RuntimeError(f"moto refused to create bucket {bucket!r}: HTTP {status}")

    def client(self, *, direct: bool = False) -> Any:
        """A raw boto3 client for this emulator (tests and benchmarks); ``direct=True`` goes
        past the observation layer (not recorded, no faults): seeding and inspection."""
        import boto3
        from botocore.config import Config

        endpoint = self.direct_endpoint if direct else self.endpoint
        return boto3.client(
            "s3", endpoint_url=endpoint, aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY, region_name=REGION,
            config=Config(s3={"addressing_style": "path"}),
        )

    def storage_options(self, **overrides: Any) -> dict[str, Any]:
        options = {
            "bucket_name": DEFAULT_BUCKET,
            "endpoint_url": self.endpoint,
            "access_key": ACCESS_KEY,
            "secret_key": SECRET_KEY,
            "region_name": REGION,
            "addressing_style": "path",
        }
        options.update(overrides)
        return options

    def new_namespace(self, **overrides: Any) -> dict[str, Any]:
        bucket = unique_name("b")
        self._create_bucket(bucket)
        return self.storage_options(bucket_name=bucket, **overrides)

    def env(self) -> dict[str, str]:
        return {
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_DEFAULT_REGION": REGION,
            "AWS_ENDPOINT_URL_S3": self.endpoint,
        }


def conformance_target(get: Callable[[str], Any]) -> tuple[str, dict[str, Any]]:
    emulator = get("s3")
    return emulator.backend, emulator.new_namespace()
