"""docs/direct-uploads.md and the S3/GCS/Azure sections on direct uploads: every example block
marked ``<!-- example: path -->`` is a verbatim excerpt of a file that a test runs."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.storage import default_storage

from tests.toolkit.test_docs import BLOCK

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "direct-uploads.md"
EXAMPLES = [(target, body) for kind, target, body in BLOCK.findall(DOC.read_text()) if kind == "example"]


def test_the_guide_quotes_the_view_the_client_and_the_cors_rules():
    targets = [target for target, _ in EXAMPLES]
    assert {"example/gallery/direct.py", "example/gallery/views.py", "tests/uploads/test_example_view.py",
            "example/gallery/templates/gallery/direct.html", "example/backends.py"} <= set(targets)


@pytest.mark.parametrize("target, body", EXAMPLES, ids=[f"{t}:{i}" for i, (t, _) in enumerate(EXAMPLES)])
def test_example_is_an_excerpt_of_a_tested_file(target, body):
    assert body in (ROOT / target).read_text(), f"this example is no longer in {target}:\n{body}"


@pytest.mark.storages("s3", "gcs")
def test_the_first_example(storages_backend):
    storage = default_storage
    grant = storage.direct_upload("uploads/report.pdf", max_size=20 * 1024 * 1024, expire=600)
    answer = grant.as_dict()
    assert answer["name"] == "uploads/report.pdf" and answer["content_type"] == "application/pdf"
    assert answer["max_size"] == 20 * 1024 * 1024 and answer["method"] in ("POST", "PUT")
