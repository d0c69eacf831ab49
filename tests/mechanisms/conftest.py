"""The private emulators of the FTP and SFTP tests, for tests that restart or cut them."""

from tests.ftp.conftest import private_ftp  # noqa: F401
from tests.sftp.conftest import own_sftp  # noqa: F401
