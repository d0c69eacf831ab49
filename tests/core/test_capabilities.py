"""Capabilities are one closed list (storages/core/capabilities.py), each gating conformance tests."""

import ast
from pathlib import Path

import pytest

import emulators.contract
from storages.core import BaseStorage, Capability

#: The conformance suite: the shipped contract and this repo's own conformance tests.
CONFORMANCE = (Path(emulators.contract.__file__).parent, Path(__file__).resolve().parents[1] / "conformance")


def _markers() -> dict[str, list[str]]:
    """capability name -> the conformance tests marked with it (read from the source with ast)."""
    found: dict[str, list[str]] = {}
    for path in sorted(p for folder in CONFORMANCE for p in folder.glob("test_*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for decorator in node.decorator_list:
                if (isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Attribute)
                        and decorator.func.attr == "capability"):
                    for arg in decorator.args:
                        found.setdefault(ast.literal_eval(arg), []).append(f"{path.name}::{node.name}")
    return found


def test_every_capability_gates_a_conformance_test():
    markers = _markers()
    assert set(markers) <= {c.value for c in Capability}, "a marker names an unknown capability"
    ungated = [c.value for c in Capability if c.value not in markers]
    assert not ungated, f"capabilities that gate no conformance test (remove them or test them): {ungated}"


def test_an_unknown_capability_is_an_error_when_the_class_is_created():
    with pytest.raises(TypeError, match=r"Broken.unsupported: unknown capability 'ranges'; valid .*signed"):
        type("Broken", (BaseStorage,), {"unsupported": {"ranges": "reads cannot start at an offset"}})
    with pytest.raises(TypeError, match="must give the reason"):
        type("Silent", (BaseStorage,), {"unsupported": {"created_time": ""}})


def test_declarations_become_capabilities_and_strings_still_work():
    class Fine(BaseStorage):
        unsupported = {"created_time": "no such time here"}

    assert Fine.unsupported == {Capability.CREATED_TIME: "no such time here"}
    assert "created_time" in Fine.unsupported and Capability.CREATED_TIME not in Fine().capabilities()
    assert str(Capability.CREATED_TIME) == "created_time"


def test_every_backend_declares_known_capabilities():
    from storages.backends import apache_libcloud, azure_storage, dropbox, ftp, gcloud, s3, sftpstorage

    classes = [s3.S3Storage, gcloud.GoogleCloudStorage, azure_storage.AzureStorage, dropbox.DropboxStorage,
               ftp.FTPStorage, sftpstorage.SFTPStorage]
    for cls in classes:
        assert all(isinstance(key, Capability) for key in cls.unsupported), cls
    for table in apache_libcloud.UNSUPPORTED.values():  # a property picks one per driver family
        assert all(isinstance(key, Capability) for key in table)
