"""Pure parts of the observation layer: classifiers, the fault spec, fault matching, error bodies."""

import json
import xml.etree.ElementTree as ET

import pytest

from emulators.classify import AzureClassifier, DropboxClassifier, GCSClassifier, HTTPRequest, S3Classifier
from emulators.faults import Fault, FaultSet, parse_faults
from emulators.observe import Recording
from emulators.ops import OPERATIONS, Call, Operation, ftp_operation
from emulators.service_errors import error_response


def request(method, target, body=b"", **headers):
    return HTTPRequest(method, target, {k.replace("_", "-"): v for k, v in headers.items()},
                       peek=lambda n: body[:n])


@pytest.mark.parametrize("method, target, headers, expected", [
    ("PUT", "/b/k/ey.txt", {}, ("put", "b", "k/ey.txt")),
    ("PUT", "/b/k", {"x_amz_copy_source": "/b/src"}, ("copy", "b", "k")),
    ("POST", "/b/k?uploads", {}, ("create_multipart", "b", "k")),
    ("PUT", "/b/k?partNumber=2&uploadId=u", {}, ("upload_part", "b", "k")),
    ("POST", "/b/k?uploadId=u", {}, ("complete_multipart", "b", "k")),
    ("DELETE", "/b/k?uploadId=u", {}, ("abort_multipart", "b", "k")),
    ("GET", "/b/a%20b.txt", {}, ("get", "b", "a b.txt")),
    ("HEAD", "/b/k", {}, ("head", "b", "k")),
    ("GET", "/b?list-type=2&prefix=x", {}, ("list", "b", "")),
    ("DELETE", "/b/k", {}, ("delete", "b", "k")),
    ("POST", "/b?delete", {}, ("delete_many", "b", "")),
    ("PUT", "/b", {}, ("create_bucket", "b", "")),
    ("HEAD", "/b", {}, ("head_bucket", "b", "")),
    ("GET", "/", {}, ("list_buckets", "", "")),
    ("GET", "/k.txt", {"Host": "media.localhost:9000"}, ("get", "media", "k.txt")),
])
def test_s3_classifier(method, target, headers, expected):
    assert S3Classifier().classify(request(method, target, **headers)) == Operation(*expected)


def test_gcs_classifier_names_json_and_xml_api_calls_and_learns_resumable_sessions():
    gcs = GCSClassifier()
    assert gcs.classify(request("GET", "/storage/v1/b/bk/o/a%2Fb.txt?alt=media")) == ("get", "bk", "a/b.txt")
    assert gcs.classify(request("GET", "/storage/v1/b/bk/o/a%2Fb.txt")) == ("head", "bk", "a/b.txt")
    assert gcs.classify(request("GET", "/storage/v1/b/bk/o?prefix=a")) == ("list", "bk", "")
    assert gcs.classify(request("DELETE", "/storage/v1/b/bk/o/x")) == ("delete", "bk", "x")
    assert gcs.classify(request("POST", "/storage/v1/b/bk/o/s/copyTo/b/other/o/d")) == ("copy", "other", "d")
    assert gcs.classify(request("POST", "/storage/v1/b?project=p")) == ("create_bucket", "", "")
    assert gcs.classify(request("GET", "/bk/a/b.txt?X-Goog-Signature=0")) == ("get", "bk", "a/b.txt")
    assert gcs.classify(request("POST", "/upload/storage/v1/b/bk/o?uploadType=media&name=m.txt")) == (
        "put", "bk", "m.txt")
    multipart = (b'--===1==\r\ncontent-type: application/json; charset=UTF-8\r\n\r\n{"name": "mp.txt"}'
                 b"\r\n--===1==\r\ncontent-type: text/plain\r\n\r\ndata\r\n--===1==--")
    assert gcs.classify(request("POST", "/upload/storage/v1/b/bk/o?uploadType=multipart", multipart)) == (
        "put", "bk", "mp.txt")
    create = request("POST", "/upload/storage/v1/b/bk/o?uploadType=resumable", b'{"name": "big.bin"}',
                     Content_Type="application/json", Content_Length="19")
    assert gcs.classify(create) == ("create_multipart", "bk", "big.bin")
    gcs.learn(create, Operation("create_multipart", "bk", "big.bin"), 200,
              {"Location": "http://h/upload/storage/v1/b/bk/o?uploadType=resumable&upload_id=U1"})
    part = "/upload/storage/v1/b/bk/o?uploadType=resumable&upload_id=U1"
    assert gcs.classify(request("PUT", part, Content_Range="bytes 0-99/*")) == (
        "upload_part", "bk", "big.bin")
    assert gcs.classify(request("PUT", part, Content_Range="bytes 100-149/150")) == (
        "complete_multipart", "bk", "big.bin")
    assert gcs.classify(request("PUT", part, Content_Range="bytes */*")) == ("upload_status", "bk", "big.bin")
    assert gcs.classify(request("DELETE", part)) == ("abort_multipart", "bk", "big.bin")


@pytest.mark.parametrize("method, target, headers, expected", [
    ("PUT", "/acct/c/a/b.txt", {"x_ms_blob_type": "BlockBlob"}, ("put", "c", "a/b.txt")),
    ("PUT", "/acct/c/b?comp=block&blockid=x", {}, ("upload_part", "c", "b")),
    ("PUT", "/acct/c/b?comp=blocklist", {}, ("complete_multipart", "c", "b")),
    ("PUT", "/acct/c/b", {"x_ms_copy_source": "http://x"}, ("copy", "c", "b")),
    ("GET", "/acct/c/b", {}, ("get", "c", "b")),
    ("HEAD", "/acct/c/b", {}, ("head", "c", "b")),
    ("DELETE", "/acct/c/b", {}, ("delete", "c", "b")),
    ("GET", "/acct/c?restype=container&comp=list", {}, ("list", "c", "")),
    ("PUT", "/acct/c?restype=container", {}, ("create_bucket", "c", "")),
    ("GET", "/acct?comp=list", {}, ("list_buckets", "", "")),
])
def test_azure_classifier(method, target, headers, expected):
    assert AzureClassifier().classify(request(method, target, **headers)) == Operation(*expected)


def test_dropbox_classifier_reads_the_path_from_the_argument_header_or_the_json_body():
    dropbox = DropboxClassifier()
    assert dropbox.classify(request("POST", "/2/files/upload", Dropbox_API_Arg='{"path": "/r/a.txt"}')) == (
        "put", "", "/r/a.txt")
    body = b'{"path": "/r/a.txt"}'
    assert dropbox.classify(request("POST", "/2/files/get_metadata", body, Content_Type="application/json",
                                    Content_Length=str(len(body)))) == ("head", "", "/r/a.txt")
    finish = '{"cursor": {"session_id": "s", "offset": 3}, "commit": {"path": "/r/big.bin"}}'
    assert dropbox.classify(request("POST", "/2/files/upload_session/finish", Dropbox_API_Arg=finish)) == (
        "complete_multipart", "", "/r/big.bin")
    assert dropbox.classify(request("POST", "/oauth2/token")).name == "login"
    assert dropbox.classify(request("POST", "/2/files/frobnicate")).name == "other"


def test_ftp_commands_map_onto_the_vocabulary():
    assert [ftp_operation(c) for c in ("STOR", "RETR", "MLSD", "PASS", "RNTO", "NOOP")] == [
        "stor", "retr", "list", "login", "rename", "noop"]


def test_every_classified_name_is_in_its_service_vocabulary():
    for service, names in {"s3": {"put", "get", "head", "list", "delete", "copy", "create_bucket"},
                           "gcs": {"upload_status", "compose"}, "azure": {"list_parts"},
                           "dropbox": {"rename", "get_link"}}.items():
        assert names <= set(OPERATIONS[service])


def test_fault_spec_parses_every_action_and_option():
    faults = parse_faults("s3:put=503/SlowDown,times=2; gcs:get=cut:1000,p=0.5,seed=7;"
                          "ftp:login=stall:1.5+421;sftp:write=reset_before:100,key=/ns/*;"
                          "azure:*=reset_after:0,times=inf,skip=1;dropbox:put=reset")
    s3, gcs, ftp, sftp, azure, dropbox = faults
    assert (s3.service, s3.operation, s3.status, s3.code, s3.times) == ("s3", "put", 503, "SlowDown", 2)
    assert (gcs.cut, gcs.probability, gcs.seed, gcs.times) == (1000, 0.5, 7, None)
    assert (ftp.stall, ftp.status, ftp.kind) == (1.5, 421, "status")
    assert (sftp.reset_before, sftp.key) == (100, "/ns/*")
    assert (azure.operation, azure.reset_after, azure.times, azure.skip) == ("*", 0, None, 1)
    assert (dropbox.reset_before, dropbox.kind) == (0, "reset_before")
    assert [parse_faults(f.describe())[0].describe() for f in faults] == [f.describe() for f in faults]


@pytest.mark.parametrize("spec, message", [
    ("s3:put", "expected"), ("s3:put=frob", "unknown action"), ("s3:put=503,color=red", "unknown option"),
    ("s3:putt=503", "s3 has no operation 'putt'"), ("s4:put=503", "unknown service 's4'"),
    ("s3:put=503+cut:1", "one thing"), ("s3:get=cut:-1", "cut must be >= 0"),
    ("s3:get=503,p=2", "probability"),
])
def test_bad_fault_specs_say_what_is_wrong(spec, message):
    with pytest.raises(ValueError, match=message):
        parse_faults(spec)


def test_fault_set_honours_times_skip_key_and_service():
    faults = FaultSet()
    first = faults.add("put", status=500, times=2, skip=1, key="media/*", service="s3")
    assert faults.take("s3", "put", "media/a") is None  # skipped
    assert faults.take("s3", "put", "static/a") is None  # other key
    assert faults.take("gcs", "put", "media/a") is None  # other service
    assert faults.take("s3", "get", "media/a") is None  # other operation
    assert faults.take("s3", "put", "media/b").fault is first
    assert faults.take("s3", "put", "media/c").fault is first
    assert faults.take("s3", "put", "media/d") is None  # times used up
    assert first.fired == 2 and [hit.key for hit in faults.fired] == ["media/b", "media/c"]
    assert faults.unfired() == []
    spare = faults.add("delete", stall=0.1)
    assert faults.unfired() == [spare] and "never fired" in faults.report()


def test_probability_with_a_seed_is_repeatable():
    def hits(seed):
        faults = FaultSet()
        faults.add("get", status=503, probability=0.3, seed=seed)
        return [faults.take("s3", "get", str(i)) is not None for i in range(200)]

    assert hits(7) == hits(7) and hits(7) != hits(8)
    assert 30 < sum(hits(7)) < 90  # about 30% of 200, every call eligible (no times limit)


def test_byte_counted_faults_match_the_call_that_reaches_their_byte():
    faults = FaultSet()
    faults.add("read", cut=100_000, service="sftp")
    assert faults.take("sftp", "read", "/f", span=(0, 32768)) is None
    assert faults.take("sftp", "read", "/f", span=(98304, 32768)) is not None


def test_recording_filters():
    recording = Recording()
    for call in (Call("s3", "put", "media/a.txt", 200, 5), Call("s3", "head", "media/a.txt", 404),
                 Call("s3", "get", "media/a.txt", 200, 0, 5), Call("gcs", "get", "x", 200)):
        recording._add(call)
    assert recording.count("get") == 2 and recording.count("get", service="s3") == 1
    assert recording.count(("put", "head"), key="media/*") == 2 and recording.count(status=404) == 1
    assert recording.operations(service="s3") == ["put", "head", "get"]
    assert recording[0].bytes == 5 and len(recording) == 4
    assert "s3 head media/a.txt -> 404" in repr(recording)
    only_gcs = Recording(["gcs"])
    only_gcs._add(Call("s3", "put", "k", 200))
    assert len(only_gcs) == 0


@pytest.mark.parametrize("status, code", [(503, "SlowDown"), (500, "InternalError"), (403, "AccessDenied")])
def test_s3_error_bodies(status, code):
    headers, body = error_response("s3", status, resource="/b/k?x=1")
    root = ET.fromstring(body)
    assert root.findtext("Code") == code and root.findtext("Resource") == "/b/k"
    assert ("Content-Type", "application/xml") in headers


def test_gcs_error_bodies_follow_the_api_used():
    _, body = error_response("gcs", 429, resource="/storage/v1/b/b/o/k")
    assert json.loads(body)["error"]["errors"][0]["reason"] == "rateLimitExceeded"
    _, body = error_response("gcs", 403, code="SignatureDoesNotMatch", resource="/b/k")
    assert ET.fromstring(body).findtext("Code") == "SignatureDoesNotMatch"


def test_azure_and_dropbox_error_bodies():
    headers, body = error_response("azure", 503)
    assert dict(headers)["x-ms-error-code"] == "ServerBusy" == ET.fromstring(body).findtext("Code")
    headers, body = error_response("dropbox", 409, code="path/not_found")
    assert json.loads(body) == {"error_summary": "path/not_found/..",
                                "error": {".tag": "path", "path": {".tag": "not_found"}}}
    headers, body = error_response("dropbox", 429)
    assert dict(headers)["Retry-After"] == "1" and json.loads(body)["error_summary"].startswith("too_many")


def test_a_fault_needs_exactly_one_action():
    with pytest.raises(ValueError, match="needs"):
        Fault("put")
    assert Fault("put", stall=0.5).kind == "stall"
