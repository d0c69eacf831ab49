"""``signed_urls``: url() gives a link the service checks. A valid link serves the bytes; the
same link with its signature (or token) altered is refused by the service itself."""

import urllib.error
import urllib.request
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pytest
from django.core.files.base import ContentFile

#: Query parameters that carry a signature: S3 (SigV4, SigV2), GCS (V4), Azure (SAS).
SIGNATURES = ("X-Amz-Signature", "Signature", "X-Goog-Signature", "sig")
#: Targets whose emulator serves a forged link today. The xfail is strict: once the emulators
#: check signatures (branch `harness`), these pass, fail as XPASS, and the entry goes.
FORGERY_BLIND = {
    "s3": "moto's server does not check presigned-URL signatures",
    "libcloud-s3": "moto's server does not check presigned-URL signatures",
    "gcs": "fake-gcs-server does not check V4 signatures",
}


def fetch(url):
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _altered(value):
    return ("B" if value[0] == "A" else "A") + value[1:]


def tampered(url):
    """``url`` with its credential altered by one character."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    for i, (key, value) in enumerate(query):
        if key in SIGNATURES:
            query[i] = (key, _altered(value))
            return urlunsplit(parts._replace(query=urlencode(query)))
    head, marker, rest = parts.path.partition("/tmplink/")  # Dropbox: the link's token is the credential
    if marker:
        token, slash, tail = rest.partition("/")
        return urlunsplit(parts._replace(path=f"{head}{marker}{_altered(token)}{slash}{tail}"))
    raise AssertionError(f"url() gave no signature or token to check: {url}")


def test_tampering_changes_only_the_credential():
    url = "https://h/b/k.txt?X-Amz-Expires=60&X-Amz-Signature=abc"
    assert tampered(url) == "https://h/b/k.txt?X-Amz-Expires=60&X-Amz-Signature=Abc"
    assert tampered("http://h/tmplink/Tok3n/f.txt") == "http://h/tmplink/Aok3n/f.txt"
    with pytest.raises(AssertionError, match="no signature"):
        tampered("https://h/b/k.txt")


@pytest.mark.capability("signed_urls")
def test_a_signed_url_works_and_a_tampered_one_is_refused(request, storage, storage_target):
    if storage_target.id in FORGERY_BLIND:
        request.applymarker(pytest.mark.xfail(strict=True, reason=FORGERY_BLIND[storage_target.id]))
    storage.save("signed/ü file.txt", ContentFile(b"signed bytes"))
    url = storage.url("signed/ü file.txt")
    assert fetch(url) == (200, b"signed bytes")
    status, body = fetch(tampered(url))
    assert 400 <= status < 500 and body != b"signed bytes", (status, body[:200])
