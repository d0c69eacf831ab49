"""The pytest plugin as a downstream project sees it (pytester runs a separate pytest)."""

import pytest

pytest_plugins = ["pytester"]

DOWNSTREAM_CONFTEST = '''
import django
from django.conf import settings


def pytest_configure(config):
    settings.configure(
        USE_TZ=True, SECRET_KEY="x", INSTALLED_APPS=["django.contrib.contenttypes", "storages"],
        DATABASES={"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}},
    )
    django.setup()
'''


def test_unknown_backend_is_a_usage_error_listing_valid_ones(pytester):
    pytester.makeconftest(DOWNSTREAM_CONFTEST)
    pytester.makepyfile("def test_x(): pass")
    result = pytester.runpytest_subprocess("--storage-backend=s3,nosuch", "-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*unknown backend(s) nosuch; valid: all, s3, gcs, azure*"])


def test_downstream_project_points_storages_at_an_emulator(pytester):
    pytester.makeconftest(DOWNSTREAM_CONFTEST)
    pytester.makepyfile('''
        from django.core.files.storage import default_storage, storages
        from storages.backends.s3 import S3Storage


        def test_seed_storage_example(emulated_storages):
            store = emulated_storages("s3")
            assert isinstance(default_storage._wrapped if hasattr(default_storage, "_wrapped") else
                              default_storage, object)
            assert isinstance(storages["default"], S3Storage) and store is storages["default"]
            assert default_storage.exists("storage_test") is False
            f = default_storage.open("storage_test", "w")
            f.write("storage contents")
            f.close()
            assert default_storage.open("storage_test", "r").read() == "storage contents"
            default_storage.delete("storage_test")
            assert not default_storage.exists("storage_test")
            assert isinstance(storages["staticfiles"], S3Storage)


        def test_each_test_gets_a_fresh_namespace(emulated_storages):
            assert emulated_storages("s3").listdir("") == ([], [])


        def test_service_fixture(s3_emulator):
            assert s3_emulator.health()
    ''')
    result = pytester.runpytest_subprocess("--storage-backend=s3", "-p", "no:cacheprovider", "-q")
    result.assert_outcomes(passed=3)


def test_storage_fixture_is_parametrized_by_selection(pytester):
    pytester.makeconftest(DOWNSTREAM_CONFTEST)
    pytester.makepyfile('''
        import pytest

        def test_backend(storage, storage_target):
            assert storage_target.id == "s3"
            storage.save("x", __import__("io").BytesIO(b"x"))
            assert storage.listdir("") == ([], ["x"])

        @pytest.mark.capability("created_time")
        def test_needs_created_time(storage):
            raise AssertionError("S3 has no created time: this must be skipped")

        @pytest.mark.capability("signed_url")
        def test_misspelt_capability(storage):
            pass
    ''')
    result = pytester.runpytest_subprocess("--storage-backend=s3", "-p", "no:cacheprovider", "-rs")
    result.assert_outcomes(passed=1, skipped=1, errors=1)
    result.stdout.fnmatch_lines(["*s3 cannot do created_time: S3 records only a last-modified time*"])
    result.stdout.fnmatch_lines(["*unknown capability 'signed_url'; valid capabilities: signed_urls*"])


def test_strict_mode_fails_when_an_emulator_cannot_start(pytester, monkeypatch):
    monkeypatch.delenv("STORAGE_STRICT", raising=False)  # CI runs strict; this test compares both modes
    pytester.makeconftest(DOWNSTREAM_CONFTEST + '''

import pytest
from emulators import session


@pytest.fixture(autouse=True)
def broken_s3(monkeypatch):
    from emulators.base import EmulatorUnavailable

    def refuse(self, name):
        raise EmulatorUnavailable("pretend Node.js is missing: install Node.js")
    monkeypatch.setattr(session.EmulatorSession, "get", refuse)
''')
    pytester.makepyfile("def test_x(storage): pass")
    lenient = pytester.runpytest_subprocess("--storage-backend=s3", "-p", "no:cacheprovider", "-rs")
    lenient.assert_outcomes(skipped=1)
    lenient.stdout.fnmatch_lines(["*the s3 emulator cannot run here: pretend Node.js is missing*"])
    strict = pytester.runpytest_subprocess("--storage-backend=s3", "--storage-strict",
                                           "-p", "no:cacheprovider")
    strict.assert_outcomes(errors=1)


def test_stress_tests_run_only_when_m_names_them(pytester):
    pytester.makeconftest(DOWNSTREAM_CONFTEST)
    pytester.makepyfile('''
        import pytest


        def test_quick():
            pass


        @pytest.mark.storage_stress
        def test_long():
            pass
    ''')
    default = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q")
    default.assert_outcomes(passed=1, deselected=1)
    selected = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-q", "-m", "storage_stress")
    selected.assert_outcomes(passed=1, deselected=1)
    assert "test_long" in "\n".join(pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-v", "-m", "storage_stress").outlines)


def test_the_documented_stress_command_runs_fifty_rounds(pytester):
    """docs/testing.md's command, on libcloud (its local driver declares create-only saves)."""
    from tests.toolkit.test_docs import documented_command

    command = documented_command("stress")
    assert command[0] == "pytest" and "storage_stress" in command
    args = [arg if not arg.startswith("--storage-backend=") else "--storage-backend=libcloud"
            for arg in command[1:]]
    pytester.makeconftest(DOWNSTREAM_CONFTEST)
    result = pytester.runpytest_subprocess(*args, "-p", "no:cacheprovider", "-v", "-rs")
    result.stdout.fnmatch_lines(["*test_concurrent_saves_never_overwrite_50_rounds?libcloud-local? PASSED*"])
    assert result.parseoutcomes().get("failed", 0) == 0
