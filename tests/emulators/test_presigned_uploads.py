"""The emulators' upload checks that direct uploads rely on: S3 POST policies sent to a
bucket's own host (virtual-hosted style), and GCS's ``x-goog-content-length-range``."""

from __future__ import annotations

import base64
import datetime as dt
import json

import requests

from emulators.gcs import service_account_info


def post_to_host(url: str, host: str, fields: dict[str, str], data: bytes) -> requests.Response:
    """A form POST to ``url`` that says ``Host: host`` (as a client that resolved ``host`` to it)."""
    request = requests.Request("POST", url, data=fields, files={"file": ("f.txt", data)}).prepare()
    request.headers["Host"] = host
    with requests.Session() as session:
        return session.send(request, timeout=10)


def test_a_post_to_the_buckets_own_host_is_checked(s3_emulator):
    client = s3_emulator.client()
    bucket = s3_emulator.new_namespace()["bucket_name"]
    post = client.generate_presigned_post(bucket, "v.txt", Conditions=[["content-length-range", 0, 5]],
                                          ExpiresIn=60)
    root, host = f"{s3_emulator.endpoint}/", f"{bucket}.s3.example.test:{s3_emulator.port}"
    policy = json.loads(base64.b64decode(post["fields"]["policy"]))
    policy["conditions"] = [c for c in policy["conditions"] if "content-length-range" not in c]
    loosened = {**post["fields"], "policy": base64.b64encode(json.dumps(policy).encode()).decode()}
    assert post_to_host(root, host, loosened, b"tampered").status_code == 403
    assert post_to_host(root, host, post["fields"], b"too long").status_code == 400
    assert "Contents" not in client.list_objects_v2(Bucket=bucket)
    assert post_to_host(root, host, post["fields"], b"fine").status_code == 204
    assert client.get_object(Bucket=bucket, Key="v.txt")["Body"].read() == b"fine"


def test_gcs_refuses_a_put_outside_its_content_length_range(gcs_emulator):
    from google.oauth2 import service_account

    bucket = gcs_emulator.new_namespace()["bucket_name"]
    client = gcs_emulator.client()
    blob = client.bucket(bucket).blob("ranged.bin")
    url = blob.generate_signed_url(
        version="v4", method="PUT", expiration=dt.timedelta(minutes=1),
        api_access_endpoint=gcs_emulator.endpoint, headers={"x-goog-content-length-range": "2,5"},
        credentials=service_account.Credentials.from_service_account_info(service_account_info()))
    header = {"x-goog-content-length-range": "2,5"}

    def chunked(data):
        yield data

    for data, body in ((b"123456", b"123456"), (b"1", b"1"), (b"123456", chunked(b"123456"))):
        response = requests.put(url, data=body, headers=header, timeout=10)
        assert response.status_code == 400, (data, response.text)
        assert b"content-length-range" in response.content
    assert client.bucket(bucket).get_blob("ranged.bin") is None
    assert requests.put(url, data=b"12345", headers=header, timeout=10).status_code == 200
    assert requests.put(url, data=b"12", headers={"x-goog-content-length-range": "0,9"},
                        timeout=10).status_code == 403  # the range is signed
    assert client.bucket(bucket).blob("ranged.bin").download_as_bytes() == b"12345"


def test_a_browsers_preflight_of_a_signed_url_is_answered_by_the_cors_rules(s3_emulator, gcs_emulator):
    """Preflights carry the signed URL's query but are never signed: the service answers them."""
    origin = {"Origin": "http://127.0.0.1:8000", "Access-Control-Request-Method": "PUT"}
    bucket = s3_emulator.new_namespace()["bucket_name"]
    client = s3_emulator.client()
    client.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [
        {"AllowedOrigins": ["*"], "AllowedMethods": ["PUT"], "AllowedHeaders": ["*"]}]})
    url = client.generate_presigned_url("put_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=60)
    response = requests.options(url, headers={**origin, "Access-Control-Request-Headers": "content-type"},
                                timeout=10)
    assert response.status_code == 200 and response.headers["Access-Control-Allow-Origin"]
    gcs_bucket = gcs_emulator.new_namespace()["bucket_name"]
    signed = f"{gcs_emulator.endpoint}/{gcs_bucket}/k?X-Goog-Signature=00&X-Goog-Algorithm=GOOG4-RSA-SHA256"
    response = requests.options(signed, timeout=10, headers={
        **origin, "Access-Control-Request-Headers": "content-type,x-goog-content-length-range"})
    assert response.status_code == 200
    assert "x-goog-content-length-range" in response.headers["Access-Control-Allow-Headers"].lower()
