"""The observation layer's cost: a request through the proxy vs straight to the service, the
cost of recording, and of opening the per-test scopes.

Run: ``python bench/bench_observe.py [--repeat 15] [--calls 50]``. The emulators run in this
process, as under the pytest plugin. Each round times ``--calls`` metadata requests of the raw
SDK through the proxy (what every storage does) and past it, straight to the service, in
alternation; figures are medians over rounds, per request.
"""

from __future__ import annotations

import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from bench import common
from bench.common import Row


def s3_clients(emulator):
    import boto3

    def client(endpoint):
        return boto3.client("s3", endpoint_url=endpoint, aws_access_key_id="testing",
                            aws_secret_access_key="testing", region_name="us-east-1")

    bucket = emulator.new_namespace()["bucket_name"]
    via, direct = client(emulator.endpoint), client(f"http://{emulator.host}:{emulator.service_port}")
    via.put_object(Bucket=bucket, Key="k", Body=b"x")
    return (lambda: via.head_object(Bucket=bucket, Key="k")), (
        lambda: direct.head_object(Bucket=bucket, Key="k"))


def gcs_clients(emulator):
    from google.auth.credentials import AnonymousCredentials
    from google.cloud import storage

    def bucket(endpoint):
        return storage.Client(project="p", credentials=AnonymousCredentials(),
                              client_options={"api_endpoint": endpoint}).bucket(name)

    name = emulator.new_namespace()["bucket_name"]
    via, direct = bucket(emulator.endpoint), bucket(f"http://{emulator.host}:{emulator.service_port}")
    via.blob("k").upload_from_string(b"x")
    return (lambda: via.get_blob("k")), (lambda: direct.get_blob("k"))


def azure_clients(emulator):
    container = emulator.new_container()
    via = emulator.service_client().get_blob_client(container, "k")
    direct = emulator.service_client(direct=True).get_blob_client(container, "k")
    via.upload_blob(b"x")
    return via.get_blob_properties, direct.get_blob_properties


def dropbox_clients(emulator):
    import dropbox

    from storages.backends.dropbox import endpoint_session

    root = emulator.new_namespace()["root_path"]
    via = emulator.client()
    direct = dropbox.Dropbox(emulator.token, session=endpoint_session(f"http://{emulator.host}:"
                                                                        f"{emulator.service_port}"))
    via.files_upload(b"x", f"{root}/k")
    return (lambda: via.files_get_metadata(f"{root}/k")), (lambda: direct.files_get_metadata(f"{root}/k"))


def per_request(name: str, make, calls: int, repeat: int) -> list[Row]:
    from emulators.observe import storage_requests
    from emulators.registry import emulator_class

    emulator = emulator_class(name)()
    emulator.start()
    try:
        via, direct = make(emulator)

        def times(fn):
            return lambda: [fn() for _ in range(calls)]

        def recorded():
            with storage_requests():
                for _ in range(calls):
                    via()

        for fn in (via, direct):
            fn()
        medians = common.interleaved_medians(
            {"direct": times(direct), "proxy": times(via), "proxy, recording": recorded}, repeat)
    finally:
        emulator.stop()
    per_call = {label: seconds / calls * 1000 for label, seconds in medians.items()}
    return [
        (f"{name}: straight to the service (ms/request)", per_call["direct"]),
        (f"{name}: through the proxy (ms/request)", per_call["proxy"]),
        (f"{name}: through the proxy, recording (ms/request)", per_call["proxy, recording"]),
        (f"{name}: proxy overhead (ms/request)", per_call["proxy"] - per_call["direct"]),
        (f"{name}: ratio proxy/direct", per_call["proxy"] / per_call["direct"]),
    ]


def scope_rows(repeat: int = 2000) -> list[Row]:
    """Opening and closing both per-test scopes, as the fixtures do for each test."""
    from emulators.observe import storage_faults, storage_requests

    def scopes():
        with storage_requests(), storage_faults() as faults:
            faults.add("get", status=503)

    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        scopes()
        samples.append(time.perf_counter() - started)
    samples.sort()
    median = samples[len(samples) // 2]
    return [("storage_requests + storage_faults scopes per test (µs, median)", median * 1e6)]


def main() -> None:
    parser = common.bench_parser(__doc__, repeat=15)
    parser.add_argument("--calls", type=int, default=50)
    parser.add_argument("names", nargs="*", default=["s3", "gcs", "azure", "dropbox"])
    args = parser.parse_args()
    makers = {"s3": s3_clients, "gcs": gcs_clients, "azure": azure_clients, "dropbox": dropbox_clients}
    rows: list[Row] = []
    for name in args.names:
        rows += per_request(name, makers[name], args.calls, args.repeat)
    rows += scope_rows()
    common.print_rows("observation layer: proxy and scopes", rows)


if __name__ == "__main__":
    main()
