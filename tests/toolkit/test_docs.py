"""Every example of the testing guide is run by a test: each block marked
``<!-- example: path -->`` must be a verbatim excerpt of that file (which tests/toolkit runs),
and each ``<!-- command: name -->`` block is read and run by tests/toolkit/test_sample_project.py."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCS = [ROOT / "docs" / name for name in ("testing.md", "upgrading.md", "s3.md")] + [ROOT / "README.md"]
BLOCK = re.compile(r"<!-- (example|command): (\S+) -->\n```\w*\n(.*?)```", re.S)


def blocks(kind: str) -> list[tuple[Path, str, str]]:
    return [(doc, target, body) for doc in DOCS for found_kind, target, body in BLOCK.findall(doc.read_text())
            if found_kind == kind]


def documented_command(name: str) -> list[str]:
    """The argv of the ``<!-- command: name -->`` block (one command, starting with ``pytest``)."""
    (body,) = [body for _, target, body in blocks("command") if target == name]
    return shlex.split(body)


def test_the_guide_has_examples():
    assert len(blocks("example")) >= 8
    assert documented_command("contract")[0] == "pytest"


EXAMPLES = blocks("example")


@pytest.mark.parametrize("doc, target, body", EXAMPLES,
                         ids=[f"{doc.name}:{target}:{i}" for i, (doc, target, _) in enumerate(EXAMPLES)])
def test_example_is_an_excerpt_of_a_tested_file(doc, target, body):
    source = (ROOT / target).read_text()
    assert body in source, f"{doc.name}: this example is no longer in {target}:\n{body}"
