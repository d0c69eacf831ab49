"""The shared core every backend is built on."""

from .base import BaseStorage, localize
from .capabilities import Capability
from .direct import DirectUpload
from .errors import ChecksumMismatch, ObjectChanged, ServiceUnavailable, StorageError, not_empty, translated
from .files import FromStart, ObjectInfo, RemoteFile, Upload
from .names import clean_name, dir_prefix, is_temp_name, join_root, split_listing, temp_name
from .options import Configurable, Option, to_bool, to_int
from .parallel import PartPool
from .reconnect import Reconnecting
from .sdk import require
from .staged import StagedUpload

__all__ = [
    "BaseStorage", "Capability", "ChecksumMismatch", "Configurable", "DirectUpload", "FromStart",
    "ObjectChanged", "ObjectInfo", "Option", "PartPool", "Reconnecting", "RemoteFile", "ServiceUnavailable",
    "StagedUpload", "StorageError", "Upload", "clean_name", "dir_prefix", "is_temp_name", "join_root",
    "localize", "not_empty", "require",
    "split_listing", "temp_name", "to_bool", "to_int", "translated",
]
