"""Our own fake of the Dropbox API v2 routes the official SDK uses (see emulators/dropbox.py)."""

from .server import FakeDropboxServer
from .store import Store
from .tls import Certificates, make_certificates
from .wire import ContentHasher, content_hash

__all__ = ["Certificates", "ContentHasher", "FakeDropboxServer", "Store", "content_hash", "make_certificates"]
