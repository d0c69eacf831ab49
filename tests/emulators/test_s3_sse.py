"""The S3 emulator's front refuses SSE-C reads and bucket owners as S3 does (emulators/s3_sse.py),
with a raw boto3 client: moto alone serves them."""

from __future__ import annotations

import os

import pytest
from botocore.exceptions import ClientError

from emulators.s3_sse import ACCOUNT, SSECFront

KEY, OTHER = os.urandom(32), os.urandom(32)
SSE_C = {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": KEY}


@pytest.fixture
def s3(s3_emulator):
    if not isinstance(s3_emulator.front, SSECFront):
        pytest.skip("only the in-process S3 emulator has the SSE-C front")
    return s3_emulator.client(), s3_emulator.new_namespace()["bucket_name"]


def _code(call):
    with pytest.raises(ClientError) as info:
        call()
    return info.value.response["ResponseMetadata"]["HTTPStatusCode"], info.value.response["Error"]["Code"]


def test_sse_c_objects_need_their_key(s3):
    client, bucket = s3
    client.put_object(Bucket=bucket, Key="k", Body=b"data", **SSE_C)
    assert client.get_object(Bucket=bucket, Key="k", **SSE_C)["Body"].read() == b"data"
    assert client.head_object(Bucket=bucket, Key="k", **SSE_C)["ContentLength"] == 4
    assert _code(lambda: client.get_object(Bucket=bucket, Key="k")) == (400, "InvalidRequest")
    assert _code(lambda: client.head_object(Bucket=bucket, Key="k"))[0] == 400
    wrong = {**SSE_C, "SSECustomerKey": OTHER}
    assert _code(lambda: client.get_object(Bucket=bucket, Key="k", **wrong)) == (403, "AccessDenied")
    assert _code(lambda: client.get_object(Bucket=bucket, Key="k", SSECustomerAlgorithm="AES256",
                                           SSECustomerKey=b"short")) == (400, "InvalidArgument")
    client.put_object(Bucket=bucket, Key="k", Body=b"plain")  # replaced without SSE-C
    assert client.get_object(Bucket=bucket, Key="k")["Body"].read() == b"plain"
    assert _code(lambda: client.get_object(Bucket=bucket, Key="k", **SSE_C)) == (400, "InvalidRequest")
    client.delete_object(Bucket=bucket, Key="k")


def test_sse_c_multipart_parts_need_the_key(s3):
    client, bucket = s3
    upload = client.create_multipart_upload(Bucket=bucket, Key="m", **SSE_C)["UploadId"]
    part = {"Bucket": bucket, "Key": "m", "UploadId": upload, "PartNumber": 1, "Body": b"p" * 10}
    assert _code(lambda: client.upload_part(**part)) == (400, "InvalidRequest")
    etag = client.upload_part(**part, **SSE_C)["ETag"]
    client.complete_multipart_upload(Bucket=bucket, Key="m", UploadId=upload, **SSE_C,
                                     MultipartUpload={"Parts": [{"ETag": etag, "PartNumber": 1}]})
    assert _code(lambda: client.get_object(Bucket=bucket, Key="m")) == (400, "InvalidRequest")
    assert client.get_object(Bucket=bucket, Key="m", **SSE_C)["Body"].read() == b"p" * 10


def test_expected_bucket_owner(s3):
    client, bucket = s3
    client.put_object(Bucket=bucket, Key="o", Body=b"o", ExpectedBucketOwner=ACCOUNT)
    assert _code(lambda: client.head_object(Bucket=bucket, Key="o", ExpectedBucketOwner="111111111111")) \
        == (403, "403")
    assert client.get_object(Bucket=bucket, Key="o", ExpectedBucketOwner=ACCOUNT)["Body"].read() == b"o"
