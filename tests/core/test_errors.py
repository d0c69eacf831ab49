"""The one exit for errors (storages/core/errors.py), on a storage whose only hook fails."""

import errno

import pytest
from django.core.exceptions import SuspiciousFileOperation

from storages.core import BaseStorage, Option, ServiceUnavailable, StorageError
from storages.core.errors import EXITS, redact, secret_strings, translated


class Failing(BaseStorage):
    """Its metadata hook raises whatever the test puts in ``error``."""

    options = (
        Option("token", ("FAILING_TOKEN",), secret=True),
        Option("conn", ("FAILING_CONN",), secret=True),
        Option("file_overwrite", default=True),
    )
    error: BaseException = RuntimeError("unset")

    def endpoint(self):
        return "https://failing.example"

    def _stat(self, key):
        raise self.error


@pytest.mark.parametrize("error", [ValueError("bad parameter token-s3cr3t-value"), TypeError("nope"),
                                   KeyError("k"), RuntimeError("boom")])
def test_anything_a_backend_does_not_translate_leaves_as_the_generic_error(error):
    storage = Failing(token="token-s3cr3t-value")
    storage.error = error
    with pytest.raises(StorageError) as info:
        storage.size("a.txt")
    message = str(info.value)
    assert "Failing failed on 'a.txt' at https://failing.example" in message
    assert type(error).__name__ in message and "token-s3cr3t-value" not in message
    assert info.value.__cause__ is error and isinstance(info.value, OSError)


def test_django_and_python_errors_pass_untouched():
    storage = Failing()
    for error in (FileNotFoundError("x"), PermissionError("y"), SuspiciousFileOperation("z"),
                  ServiceUnavailable("w"), NotImplementedError("v")):
        with pytest.raises(type(error)) as info:
            with translated(storage, "a.txt"):
                raise error
        assert info.value is error


def test_socket_errors_name_the_endpoint_and_long_names_are_refused():
    storage = Failing()
    storage.error = ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused")
    with pytest.raises(ServiceUnavailable, match="could not reach https://failing.example"):
        storage.exists("a.txt")
    storage.error = OSError(errno.ENAMETOOLONG, "File name too long")
    with pytest.raises(SuspiciousFileOperation, match="refuses the name 'a.txt'"):
        storage.exists("a.txt")


def test_a_translation_that_is_not_an_exit_is_replaced():
    class Sloppy(Failing):
        def translate_error(self, exc, name):
            return KeyError("not an exit")  # a backend bug: must not leak either

    storage = Sloppy()
    storage.error = RuntimeError("boom")
    with pytest.raises(StorageError, match="builtins.RuntimeError: boom"):
        storage.size("a.txt")
    assert not issubclass(KeyError, EXITS)


def test_secrets_are_found_in_strings_connection_strings_and_dicts():
    assert list(secret_strings("plain")) == ["plain"]
    connection = "AccountName=acct;AccountKey=a2V5a2V5;SharedAccessSignature=sv=1&sig=abc"
    assert list(secret_strings(connection)) == [connection, "a2V5a2V5", "sv=1&sig=abc"]
    assert list(secret_strings({"username": "me", "password": "pw-value", "port": 22})) == ["pw-value"]
    assert redact("key a2V5a2V5 and pw-value, me", ["a2V5a2V5", "pw-value", "me"]) == "key *** and ***, me"
    storage = Failing(token="t0ken-value", conn="AccountName=a;AccountKey=k3y-value")
    assert storage.redact("t0ken-value k3y-value") == "*** ***"
