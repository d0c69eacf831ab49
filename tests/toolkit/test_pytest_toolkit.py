"""The marker, the fixtures and --storage-class as a downstream project's pytest sees them (pytester)."""

import pytest

from tests.plugin.test_plugin import DOWNSTREAM_CONFTEST

pytest_plugins = ["pytester"]

MARKED_TESTS = '''
import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage, storages

ORIGINAL = dict(settings.STORAGES)
SEEN = []


@pytest.mark.storages("s3", "ftp", "sftp")
def test_marked(storages_backend, emulated_storages):
    SEEN.append(storages_backend)
    backend = emulated_storages.emulator.backend
    assert emulated_storages.backend == storages_backend
    for alias in ("default", "staticfiles"):
        assert settings.STORAGES[alias]["BACKEND"] == backend
        assert f"{type(storages[alias]).__module__}.{type(storages[alias]).__name__}" == backend
    assert default_storage.listdir("") == ([], [])
    default_storage.save("x.txt", ContentFile(b"x"))
    assert emulated_storages.namespace.keys() == ["x.txt"]
    assert emulated_storages.namespace.read("x.txt") == b"x"


@pytest.mark.storages("s3", aliases=("default",), file_overwrite=False)
def test_marker_aliases_and_options(emulated_storages):
    assert settings.STORAGES["staticfiles"] == ORIGINAL["staticfiles"]
    assert emulated_storages.options["file_overwrite"] is False
    assert default_storage.save("a.txt", ContentFile(b"1")) == "a.txt"
    assert default_storage.save("a.txt", ContentFile(b"2")) != "a.txt"


@pytest.mark.storages("gcs")
def test_unselected_backend():
    raise AssertionError("gcs is not selected: this must not run")


@pytest.mark.storages
def test_every_selected_backend(storages_backend):
    SEEN.append(storages_backend)


def test_unmarked(storages_backend, emulated_storages):
    assert storages_backend is None
    assert settings.STORAGES == ORIGINAL
    with pytest.raises(RuntimeError, match="call emulated_storages"):
        emulated_storages.namespace


def test_called_twice_the_latest_wins(emulated_storages):
    first = emulated_storages("s3")
    second = emulated_storages("ftp", aliases=("staticfiles",))
    # The second override re-creates cached storages: same class and namespace, new instances.
    assert type(storages["default"]) is type(first) and storages["default"].bucket_name == first.bucket_name
    assert storages["staticfiles"] is second
    assert emulated_storages.backend == "ftp" and emulated_storages.storage is second


def test_z_everything_restored():
    assert settings.STORAGES == ORIGINAL
    assert SEEN == ["s3", "ftp", "s3", "ftp"]
'''


def test_marker_runs_once_per_selected_backend_and_fixtures_restore(pytester):
    pytester.makeconftest(DOWNSTREAM_CONFTEST)
    pytester.makepyfile(MARKED_TESTS)
    result = pytester.runpytest_subprocess("--storage-backend=s3,ftp", "-v", "-rs")
    result.assert_outcomes(passed=8, skipped=1)
    result.stdout.fnmatch_lines_random([
        "*::test_marked[[]s3[]] PASSED*", "*::test_marked[[]ftp[]] PASSED*",
        "*::test_marker_aliases_and_options[[]s3[]] PASSED*",
        "*::test_every_selected_backend[[]s3[]] PASSED*", "*::test_every_selected_backend[[]ftp[]] PASSED*",
        "*none of gcs is selected by --storage-backend=s3,ftp*",
    ])
    assert "test_marked[sftp]" not in result.stdout.str()


def test_marker_with_an_unknown_backend_is_a_collection_error(pytester):
    pytester.makeconftest(DOWNSTREAM_CONFTEST)
    pytester.makepyfile('''
        import pytest

        @pytest.mark.storages("s3", "nosuch")
        def test_x():
            pass
    ''')
    result = pytester.runpytest_subprocess("--storage-backend=s3")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines(["*unknown backend(s) nosuch; valid: s3, gcs, azure*"])


@pytest.mark.parametrize("option, message", [
    ("--storage-class=nosuch.module.Storage", "*--storage-class: cannot import 'nosuch.module.Storage'*"),
    ("--storage-class=storages.backends.ftp.FTPStorage",
     "*FTPStorage subclasses the backend of no selected target; "
     "selected: s3 (storages.backends.s3.S3Storage)*"),
    ("--storage-class=django.conf.settings", "*'django.conf.settings' is not a Django Storage class*"),
])
def test_storage_class_errors_say_what_is_wrong(pytester, option, message):
    pytester.makeconftest(DOWNSTREAM_CONFTEST)
    pytester.makepyfile("def test_x(storage): pass")
    result = pytester.runpytest_subprocess("--storage-backend=s3", option)
    assert result.ret != 0
    pytest.LineMatcher((result.stdout.str() + result.stderr.str()).splitlines()).fnmatch_lines([message])


def test_marker_under_xdist_gives_every_test_its_own_namespace(pytester):
    pytester.makeconftest(DOWNSTREAM_CONFTEST)
    pytester.makepyfile('''
        import pytest
        from django.core.files.base import ContentFile
        from django.core.files.storage import default_storage


        @pytest.mark.storages("ftp", "sftp")
        @pytest.mark.parametrize("i", range(4))
        def test_alone_in_its_namespace(emulated_storages, i):
            assert emulated_storages.namespace.keys() == []
            default_storage.save("same-name.txt", ContentFile(str(i).encode()))
            assert emulated_storages.namespace.read("same-name.txt") == str(i).encode()
    ''')
    result = pytester.runpytest_subprocess("--storage-backend=ftp,sftp", "-n", "2")
    result.assert_outcomes(passed=8)
