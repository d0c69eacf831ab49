"""S3: boto3 on moto."""

from __future__ import annotations

from typing import Any

from .base import Backend, Raw, overwrite_option, read_all


class S3(Backend):
    name = emulator = "s3"
    ours_class = upstream_class = "storages.backends.s3.S3Storage"
    manifest_class_path = "storages.backends.s3.S3ManifestStaticStorage"

    def _ours(self, cls: type, ns: str, overwrite: bool | None, endpoint: str) -> Any:
        return cls(**{**self.options, "bucket_name": f"cmp-{ns}", "endpoint_url": endpoint,
                      **overwrite_option("file_overwrite", overwrite)})

    _upstream = _ours  # 1.14.6 takes the same option names

    checks = True
    folder_listing = True
    raw_check_reasons = dict.fromkeys(
        ("save", "read"), "boto3's plain route already does ours' check: it sends a CRC32 with every "
        "upload and verifies one on a download (request/response_checksum_* = when_supported)")

    def raw(self, endpoint: str) -> Raw:
        return S3Raw(self.options, endpoint)


class S3Raw(Raw):
    def __init__(self, options: dict[str, Any], endpoint: str) -> None:
        from bench.bench_s3 import raw_client

        self.client = raw_client(options, endpoint)

    def create(self, ns: str) -> None:
        from botocore.exceptions import ClientError

        try:
            self.client.create_bucket(Bucket=f"cmp-{ns}")
        except ClientError as exc:
            if exc.response["Error"]["Code"] not in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
                raise

    def put(self, ns: str, name: str, data: bytes, overwrite: bool | None) -> None:
        condition = {"IfNoneMatch": "*"} if overwrite is False else {}
        self.client.put_object(Bucket=f"cmp-{ns}", Key=name, Body=data, **condition)

    def put_file(self, ns: str, name: str, path: str) -> None:
        with open(path, "rb") as source:
            self.client.upload_fileobj(source, f"cmp-{ns}", name)

    def read(self, ns: str, name: str, chunk: int | None) -> int:
        return read_all(self.client.get_object(Bucket=f"cmp-{ns}", Key=name)["Body"], chunk)

    def exists(self, ns: str, name: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self.client.head_object(Bucket=f"cmp-{ns}", Key=name)
        except ClientError as exc:
            if exc.response["Error"]["Code"] in {"404", "NoSuchKey", "NotFound"}:
                return False
            raise
        return True

    def is_folder(self, ns: str, name: str) -> bool:
        listed = self.client.list_objects_v2(Bucket=f"cmp-{ns}", Prefix=f"{name}/", MaxKeys=1)
        return bool(listed.get("Contents"))

    def size(self, ns: str, name: str) -> int:
        return self.client.head_object(Bucket=f"cmp-{ns}", Key=name)["ContentLength"]

    def listdir(self, ns: str, path: str) -> tuple[list[str], list[str]]:
        prefix = f"{path.strip('/')}/" if path.strip("/") else ""
        dirs: list[str] = []
        files: list[str] = []
        for page in self.client.get_paginator("list_objects_v2").paginate(
                Bucket=f"cmp-{ns}", Prefix=prefix, Delimiter="/"):
            dirs += [p["Prefix"] for p in page.get("CommonPrefixes", ())]
            files += [o["Key"] for o in page.get("Contents", ())]
        return dirs, files

    def delete(self, ns: str, name: str) -> None:
        self.client.delete_object(Bucket=f"cmp-{ns}", Key=name)
