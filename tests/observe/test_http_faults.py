"""Each fault kind fires on each HTTP emulator (S3, GCS, Azure, Dropbox over HTTP and HTTPS),
is reported, and does what it says — seen by a raw HTTP client, and by each service's SDK."""

from __future__ import annotations

import datetime as dt
import http.client
import json
import ssl
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any, Callable
from urllib.parse import quote

import pytest

DATA = bytes(range(256)) * 40  # 10 KiB
BIG = b"u" * (256 * 1024)
#: How a client sees a dropped connection (over TLS, also as an SSL EOF).
CONNECTION_ERRORS = (ConnectionError, http.client.RemoteDisconnected, http.client.IncompleteRead,
                     ssl.SSLError)


@dataclass
class Probe:
    """Raw HTTP calls to one emulated service, through its proxy, and a look past it."""

    service: str
    connect: Callable[[], http.client.HTTPConnection]
    put_request: Callable[[str, bytes], tuple[str, str, dict[str, str]]]
    get_request: Callable[[str], tuple[str, str, dict[str, str]]]
    stored: Callable[[str], bool]
    error_code: Callable[[http.client.HTTPResponse, bytes], str]

    def call(self, method: str, target: str, headers: dict[str, str], body: bytes | None = None,
             ) -> tuple[int, bytes]:
        conn = self.connect()
        try:
            conn.request(method, target, body=body, headers=headers)
            response = conn.getresponse()
            self.last_response = response
            return response.status, response.read()
        finally:
            conn.close()

    def put(self, key: str, data: bytes) -> tuple[int, bytes]:
        method, target, headers = self.put_request(key, data)
        return self.call(method, target, headers, data)

    def get(self, key: str) -> tuple[int, bytes]:
        method, target, headers = self.get_request(key)
        return self.call(method, target, headers, b"" if method == "POST" else None)


def _direct(host: str, port: int, method: str, target: str) -> int:
    """The status of a request made past the proxy, straight to the service."""
    conn = http.client.HTTPConnection(host, port, timeout=10)
    try:
        conn.request(method, target)
        response = conn.getresponse()
        response.read()
        return response.status
    finally:
        conn.close()


def _xml_code(response: http.client.HTTPResponse, body: bytes) -> str:
    return ET.fromstring(body).findtext("Code") or ""


def s3_probe(s3: Any) -> Probe:
    import boto3
    from botocore.exceptions import ClientError

    bucket = s3.new_namespace()["bucket_name"]
    signer = s3.client()  # presigned URLs: moto refuses anonymous requests to private objects
    direct = boto3.client("s3", endpoint_url=f"http://{s3.host}:{s3.service_port}", region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing")

    def signed(method: str, key: str) -> tuple[str, str, dict[str, str]]:
        url = signer.generate_presigned_url(f"{method.lower()}_object", {"Bucket": bucket, "Key": key})
        return method, url.split(s3.endpoint, 1)[1], {}

    def stored(key: str) -> bool:
        try:
            return bool(direct.head_object(Bucket=bucket, Key=key))
        except ClientError:
            return False

    return Probe("s3", lambda: http.client.HTTPConnection(s3.host, s3.port, timeout=10),
                 lambda key, data: signed("PUT", key), lambda key: signed("GET", key), stored, _xml_code)


def gcs_probe(gcs: Any) -> Probe:
    bucket = gcs.new_namespace()["bucket_name"]
    return Probe(
        "gcs", lambda: http.client.HTTPConnection(gcs.host, gcs.port, timeout=10),
        lambda key, data: ("POST", f"/upload/storage/v1/b/{bucket}/o?uploadType=media&name={quote(key)}",
                           {"Content-Type": "application/octet-stream"}),
        lambda key: ("GET", f"/storage/v1/b/{bucket}/o/{quote(key, safe='')}?alt=media", {}),
        lambda key: _direct(gcs.host, gcs.service_port, "GET",
                            f"/storage/v1/b/{bucket}/o/{quote(key, safe='')}") == 200,
        lambda response, body: json.loads(body)["error"]["errors"][0]["reason"])


def azure_probe(azure: Any) -> Probe:
    from azure.storage.blob import ContainerSasPermissions, generate_container_sas

    container = azure.new_container()
    sas = generate_container_sas(azure.account_name, container, account_key=azure.account_key,
                                 permission=ContainerSasPermissions(read=True, write=True, create=True),
                                 expiry=dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1))
    blob = azure.service_client(direct=True).get_container_client(container)
    return Probe(
        "azure", lambda: http.client.HTTPConnection(azure.host, azure.port, timeout=10),
        lambda key, data: ("PUT", f"/{azure.account_name}/{container}/{quote(key)}?{sas}",
                           {"x-ms-blob-type": "BlockBlob"}),
        lambda key: ("GET", f"/{azure.account_name}/{container}/{quote(key)}?{sas}", {}),
        lambda key: blob.get_blob_client(key).exists(),
        lambda response, body: response.getheader("x-ms-error-code") or "")


def dropbox_probe(dropbox: Any, https: bool = False) -> Probe:
    root = dropbox.new_namespace()["root_path"]
    if https:
        context = ssl.create_default_context(cafile=dropbox.ca_bundle)
        connect = lambda: http.client.HTTPSConnection(dropbox.host, dropbox.https_port, timeout=10,  # noqa: E731
                                                      context=context)
    else:
        connect = lambda: http.client.HTTPConnection(dropbox.host, dropbox.port, timeout=10)  # noqa: E731
    auth = {"Authorization": f"Bearer {dropbox.token}", "Content-Type": "application/octet-stream"}

    def arg(key: str, **extra: Any) -> dict[str, str]:
        return {**auth, "Dropbox-API-Arg": json.dumps({"path": f"{root}/{key}", **extra})}

    def error_code(response: http.client.HTTPResponse, body: bytes) -> str:
        if response.getheader("Content-Type", "").startswith("application/json"):
            return json.loads(body)["error_summary"]
        return body.decode()

    return Probe(
        "dropbox", connect, lambda key, data: ("POST", "/2/files/upload", arg(key, mode="overwrite")),
        lambda key: ("POST", "/2/files/download", arg(key)),
        lambda key: f"{root}/{key}".lower() in dropbox.store.entries, error_code)


PROBES = ["s3", "gcs", "azure", "dropbox", "dropbox-https"]
#: What each service answers for an injected 503, in its own words.
BUSY = {"s3": "SlowDown", "gcs": "backendError", "azure": "ServerBusy", "dropbox": "Service Unavailable"}


@pytest.fixture(params=PROBES)
def probe(request: pytest.FixtureRequest) -> Probe:
    name = request.param
    emulator = request.getfixturevalue(f"{name.split('-')[0]}_emulator")
    if name == "dropbox-https":
        return dropbox_probe(emulator, https=True)
    return {"s3": s3_probe, "gcs": gcs_probe, "azure": azure_probe, "dropbox": dropbox_probe}[name](emulator)


def _hit(faults: Any, probe: Probe, operation: str, kind: str) -> None:
    """The fault fired once, on this service and operation, and says so."""
    fired = [(hit.service, hit.operation, hit.kind) for hit in faults.fired]
    assert fired == [(probe.service, operation, kind)]
    assert f"{probe.service} {operation}" in faults.report()


def test_status_answers_with_the_service_error_body(probe, storage_faults, storage_requests):
    storage_faults.add("put", status=503, service=probe.service)
    status, body = probe.put("busy.bin", DATA)
    assert status == 503
    assert probe.error_code(probe.last_response, body).startswith(BUSY[probe.service])
    assert not probe.stored("busy.bin")  # the service never saw it
    _hit(storage_faults, probe, "put", "status")
    call = storage_requests.filter("put")[0]
    assert (call.status, call.fault, call.bytes_in) == (503, "status", len(DATA))
    assert probe.put("busy.bin", DATA)[0] < 300 and probe.stored("busy.bin")  # once only (times=1)


def test_reset_before_the_service_sees_the_request(probe, storage_faults, storage_requests):
    storage_faults.add("put", reset_before=0, service=probe.service)
    with pytest.raises(CONNECTION_ERRORS):
        probe.put("reset.bin", DATA)
    assert not probe.stored("reset.bin")
    _hit(storage_faults, probe, "put", "reset_before")
    assert storage_requests.filter("put")[0].status is None


def test_reset_mid_upload_stores_nothing(probe, storage_faults, storage_requests):
    storage_faults.add("put", reset_before=64 * 1024, service=probe.service)
    with pytest.raises(CONNECTION_ERRORS):
        probe.put("half.bin", BIG)
    assert not probe.stored("half.bin")
    _hit(storage_faults, probe, "put", "reset_before")


def test_reset_after_the_service_did_the_work(probe, storage_faults, storage_requests):
    storage_faults.add("put", reset_after=0, service=probe.service)
    with pytest.raises(CONNECTION_ERRORS):
        probe.put("done.bin", DATA)
    assert probe.stored("done.bin")  # stored, but the client never heard so
    _hit(storage_faults, probe, "put", "reset_after")


def test_cut_stops_the_body_after_k_bytes(probe, storage_faults, storage_requests):
    assert probe.put("cut.bin", DATA)[0] < 300
    storage_faults.add("get", cut=100, service=probe.service)
    with pytest.raises(http.client.IncompleteRead) as info:
        probe.get("cut.bin")
    assert info.value.partial == DATA[:100]
    _hit(storage_faults, probe, "get", "cut")
    call = storage_requests.filter("get")[0]
    assert (call.status, call.bytes_out, call.fault) == (200, 100, "cut")
    assert probe.get("cut.bin") == (200, DATA)


def test_reset_after_k_bytes_of_the_answer(probe, storage_faults, storage_requests):
    assert probe.put("reset-after.bin", DATA)[0] < 300
    storage_faults.add("get", reset_after=1000, service=probe.service)
    with pytest.raises(CONNECTION_ERRORS):
        probe.get("reset-after.bin")
    _hit(storage_faults, probe, "get", "reset_after")
    assert storage_requests.filter("get")[0].bytes_out == 1000


def test_stall_delays_then_serves(probe, storage_faults, storage_requests):
    assert probe.put("slow.bin", DATA)[0] < 300
    storage_faults.add("get", stall=0.4, service=probe.service)
    started = time.monotonic()
    assert probe.get("slow.bin") == (200, DATA)
    assert time.monotonic() - started >= 0.4
    _hit(storage_faults, probe, "get", "stall")
    assert storage_requests.filter("get")[0].fault == "stall"


# -- the SDKs read the injected errors as the real ones ---------------------------------------

def test_boto3_reads_an_injected_slowdown(s3_emulator, storage_faults):
    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError

    bucket = s3_emulator.new_namespace()["bucket_name"]
    client = boto3.client("s3", endpoint_url=s3_emulator.endpoint, aws_access_key_id="testing",
                          aws_secret_access_key="testing", region_name="us-east-1",
                          config=Config(retries={"total_max_attempts": 1}))
    storage_faults.add("put", status=503, service="s3")
    with pytest.raises(ClientError) as info:
        client.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert info.value.response["Error"]["Code"] == "SlowDown"
    assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503


def test_google_cloud_storage_reads_an_injected_rate_limit(gcs_emulator, storage_faults):
    from google.api_core.exceptions import TooManyRequests

    bucket = gcs_emulator.client().bucket(gcs_emulator.new_namespace()["bucket_name"])
    bucket.blob("k").upload_from_string(b"x")
    storage_faults.add("head", status=429, service="gcs")
    with pytest.raises(TooManyRequests) as info:
        bucket.get_blob("k", retry=None)
    assert info.value.errors[0]["reason"] == "rateLimitExceeded"


def test_azure_sdk_reads_an_injected_server_busy(azure_emulator, storage_faults):
    from azure.core.exceptions import HttpResponseError

    container = azure_emulator.service_client(retry_total=0).get_container_client(
        azure_emulator.new_container())
    storage_faults.add("put", status=503, service="azure")
    with pytest.raises(HttpResponseError) as info:
        container.upload_blob("k", b"x")
    assert info.value.error_code == "ServerBusy" and info.value.status_code == 503


def test_dropbox_sdk_reads_injected_route_errors_and_rate_limits(dropbox_emulator, storage_faults):
    from dropbox.exceptions import ApiError, RateLimitError

    client = dropbox_emulator.client(max_retries_on_error=0, max_retries_on_rate_limit=0)
    root = dropbox_emulator.new_namespace()["root_path"]
    client.files_upload(b"x", f"{root}/k")
    storage_faults.add("head", status=409, code="path/not_found", service="dropbox")
    with pytest.raises(ApiError) as info:
        client.files_get_metadata(f"{root}/k")
    assert info.value.error.is_path() and info.value.error.get_path().is_not_found()
    storage_faults.add("put", status=429, service="dropbox")
    with pytest.raises(RateLimitError) as limited:
        client.files_upload(b"x", f"{root}/k")
    assert limited.value.backoff == 1


@pytest.mark.parametrize("https", [False, True], ids=["http", "https"])
def test_a_chunked_upload_goes_through_whole(dropbox_emulator, storage_requests, https):
    probe = dropbox_probe(dropbox_emulator, https=https)
    method, target, headers = probe.put_request("chunked.bin", BIG)
    conn = probe.connect()
    try:
        conn.request(method, target, body=iter([BIG[:1000], BIG[1000:100_000], BIG[100_000:]]),
                     headers=headers, encode_chunked=True)
        response = conn.getresponse()
        assert response.status == 200, response.read()
        response.read()
    finally:
        conn.close()
    assert probe.get("chunked.bin") == (200, BIG)
    assert storage_requests.filter("put")[0].bytes_in == len(BIG)
