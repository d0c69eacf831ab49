"""The core's PartPool on the backends that upload parts in parallel (S3 multipart
uploads, Azure staged blocks), counted at the wire by a proxy that holds every part
request a while: exactly the configured number of parts is ever in flight."""

from __future__ import annotations

import pytest
from boto3.s3.transfer import TransferConfig
from django.core.files.base import ContentFile

from emulators.proxy import CountingProxy
from storages.backends.azure_storage import AzureStorage
from storages.backends.s3 import S3Storage

STALL = 0.2  # seconds each part request is held: the parts sent meanwhile overlap it


def test_s3_multipart_upload_keeps_max_concurrency_parts_in_flight(s3_emulator):
    part = 5 * 1024 * 1024  # S3's smallest part
    with CountingProxy(s3_emulator.host, s3_emulator.port) as proxy:
        storage = S3Storage(**s3_emulator.new_namespace(endpoint_url=proxy.endpoint),
                            transfer_config=TransferConfig(multipart_chunksize=part, max_concurrency=2))
        proxy.inject(method="PUT", path_contains="partNumber=", stall=STALL, times=100)
        data = bytes(range(256)) * (3 * part // 256) + b"tail"
        with proxy.counting() as counter:
            storage.save("parts.bin", ContentFile(data))
        parts = [p for m, p in counter.requests if m == "PUT" and "partNumber=" in p]
        assert len(parts) == 4 and counter.peak == 2
        assert storage.open("parts.bin").read() == data


@pytest.mark.parametrize("max_conn", [1, 3])
def test_azure_block_upload_keeps_upload_max_conn_blocks_in_flight(azure_emulator, max_conn):
    block = 16 * 1024
    with CountingProxy(azure_emulator.host, azure_emulator.port) as proxy:
        options = azure_emulator.new_namespace()
        options["connection_string"] = azure_emulator.connection_string.replace(
            azure_emulator.endpoint, proxy.endpoint)
        storage = AzureStorage(**options, max_memory_size=block, upload_max_conn=max_conn)
        proxy.inject(method="PUT", path_contains="comp=block&", stall=STALL, times=100)
        data = bytes(range(256)) * (2 * max_conn * block // 256) + b"tail"
        with proxy.counting() as counter:
            storage.save("blocks.bin", ContentFile(data))
        blocks = [p for m, p in counter.requests if m == "PUT" and "comp=block&" in p]
        assert len(blocks) == 2 * max_conn + 1 and counter.peak == max_conn
        assert storage.open("blocks.bin").read() == data
