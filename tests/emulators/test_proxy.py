"""The counting and fault-injecting proxy, in front of a real emulator (moto)."""

import pytest
from django.core.files.base import ContentFile

from emulators.proxy import CountingProxy
from storages.backends.s3 import S3Storage
from storages.core import ServiceUnavailable


@pytest.fixture
def proxied(s3_emulator):
    with CountingProxy(s3_emulator.host, s3_emulator.port) as proxy:
        options = s3_emulator.new_namespace(endpoint_url=proxy.endpoint)
        from botocore.config import Config

        storage = S3Storage(**options, client_config=Config(retries={"max_attempts": 1, "mode": "standard"}))
        yield proxy, storage


def test_counts_requests(proxied):
    proxy, storage = proxied
    with proxy.counting() as counter:
        storage.save("a.txt", ContentFile(b"abc"))
        assert storage.open("a.txt").read() == b"abc"
    assert [method for method, _ in counter.requests] == ["PUT", "GET"]


def test_injected_status_fires_and_is_reported(proxied):
    proxy, storage = proxied
    storage.save("b.txt", ContentFile(b"b"))
    proxy.inject(method="HEAD", times=10, status=503)  # more than the SDK's own retries
    with pytest.raises(ServiceUnavailable, match="503"):  # the SDK's error, translated
        storage.exists("b.txt")
    fired = proxy.fired
    assert fired and {(method, kind) for method, _, kind in fired} == {("HEAD", "status")}
    proxy.clear_faults()
    assert storage.exists("b.txt")


def test_cut_body_is_an_error_not_a_short_read(proxied):
    proxy, storage = proxied
    storage.save("c.bin", ContentFile(b"z" * 200_000))
    proxy.inject(method="GET", cut_after=1000, times=1 + storage.read_resumes)  # each resumption cut too
    with pytest.raises(ConnectionError, match="c.bin"):
        with storage.open("c.bin") as f:
            f.read()
    assert [kind for *_, kind in proxy.fired] == ["cut"] * (1 + storage.read_resumes)


def test_reset_connection(proxied):
    proxy, storage = proxied
    proxy.inject(method="PUT", reset=True, times=10)  # the SDK retries a reset connection by itself
    with pytest.raises(ConnectionError, match=proxy.endpoint):
        storage.save("d.txt", ContentFile(b"d"))
    assert not storage.exists("d.txt")
    assert {kind for *_, kind in proxy.fired} == {"reset"}


def test_peak_counts_requests_in_flight_at_once(proxied):
    from concurrent.futures import ThreadPoolExecutor

    proxy, storage = proxied
    storage.save("e.txt", ContentFile(b"e"))
    with proxy.counting() as sequential:
        for _ in range(3):
            storage.exists("e.txt")
    assert sequential.count == 3 and sequential.peak == 1
    proxy.inject(method="HEAD", stall=0.3, times=3)
    with proxy.counting() as parallel, ThreadPoolExecutor(3) as pool:
        assert all(pool.map(lambda _: storage.exists("e.txt"), range(3)))
    assert parallel.peak == 3
