"""docs/testing.md's examples, run as a downstream project runs them (pytester, a separate
pytest with this plugin installed), and its ``--faults`` examples, parsed and run."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from emulators.faults import parse_faults
from tests.plugin.test_plugin import DOWNSTREAM_CONFTEST

pytest_plugins = ["pytester"]

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "testing.md").read_text()
EXAMPLES = re.findall(r"```python\n# docs-test: (\w+)\n(.*?)```", DOC, re.S)



def test_the_doc_has_pytest_and_unittest_examples():
    kinds = [kind for kind, _ in EXAMPLES]
    assert kinds.count("pytest") >= 2 and kinds.count("unittest") >= 1
    sources = "".join(source for _, source in EXAMPLES)
    assert "storage_requests" in sources and "storage_faults" in sources


def test_doc_examples_pass_in_a_downstream_project(pytester):
    pytester.makeconftest(DOWNSTREAM_CONFTEST)
    tests = 0
    for number, (_, source) in enumerate(EXAMPLES):
        pytester.makepyfile(**{f"test_doc_example_{number}": source})
        tests += len(re.findall(r"^\s*def test_", source, re.M))
    result = pytester.runpytest_subprocess("--storage-backend=s3", "-p", "no:cacheprovider", "-rA")
    result.assert_outcomes(passed=tests)
    # The faults that fired are in the test's report.
    result.stdout.fnmatch_lines(["*storage faults*", "put=503 fired on s3 put 'avatar.png'"])


def test_a_failing_downstream_test_shows_what_the_service_saw(pytester):
    pytester.makeconftest(DOWNSTREAM_CONFTEST)
    pytester.makepyfile('''
        from django.core.files.base import ContentFile


        def test_expects_no_head(storage, storage_requests, storage_faults):
            storage_faults.add("head", stall=0.01, times=None)
            storage.save("a.txt", ContentFile(b"a"))
            storage.exists("a.txt")
            assert storage_requests.count("head") == 0
    ''')
    result = pytester.runpytest_subprocess("--storage-backend=s3", "-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*Recording of 2 call(s)*", "*s3 put *a.txt -> 200*",
                                 "*s3 head *a.txt -> 200*stall*", "*storage faults*",
                                 "head=stall:0.01,times=inf fired on s3 head 'a.txt'"])


def _cli_examples() -> list[list[str]]:
    block = re.search(r"```sh\n(python -m emulators up --faults|python -m emulators up.*?)```", DOC, re.S)
    assert block, "the --faults examples are missing"
    return [shlex.split(line)[4:] for line in block.group(1).splitlines() if "--faults" in line]


def test_every_documented_faults_spec_parses():
    specs = [args[i + 1] for args in _cli_examples() for i, arg in enumerate(args) if arg == "--faults"]
    assert len(specs) >= 4
    for spec in specs:
        assert parse_faults(spec)
    documented = re.search(r"`fault fired: (.*?)`", DOC).group(1)
    assert parse_faults(documented.split(" fired on ")[0])


def test_up_with_faults_fires_them_and_says_so():
    args = _cli_examples()[0]  # python -m emulators up s3 --faults "s3:put=503/SlowDown,times=3"
    process = subprocess.Popen([sys.executable, "-m", "emulators", "up", *args, "--json", "--no-smoke"],
                               cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        described = json.loads(process.stdout.readline())
        assert process.stdout.readline().strip() == "READY"
        bucket = described["options"]["bucket_name"]
        answers = []
        for _ in range(4):
            request = urllib.request.Request(f"{described['endpoint']}/{bucket}/k", data=b"x", method="PUT")
            try:
                with urllib.request.urlopen(request, timeout=10) as response:
                    answers.append(response.status)
            except urllib.error.HTTPError as exc:
                answers.append((exc.code, re.search(rb"<Code>(\w+)</Code>", exc.read()).group(1)))
        assert answers == [(503, b"SlowDown")] * 3 + [200]
    finally:
        process.terminate()
        _, err = process.communicate(timeout=30)
    assert "fault armed: s3:put=503/SlowDown,times=3" in err
    assert err.count("fault fired: s3:put=503/SlowDown,times=3 fired on s3 put 'k'") == 3
    assert process.returncode in (0, -15)


def test_up_refuses_a_bad_faults_spec():
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "emulators", "up", "s3", "--faults", "s3:put=sometimes"],
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "--faults: bad fault 's3:put=sometimes': unknown action 'sometimes'" in result.stderr
    assert time.monotonic() - started < 30  # refused before any emulator starts
