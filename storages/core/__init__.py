"""The shared core every backend is built on."""

from .base import CAPABILITIES, BaseStorage, localize
from .errors import ServiceUnavailable, translated
from .files import FromStart, ObjectInfo, RemoteFile, Upload
from .names import clean_name, dir_prefix, is_temp_name, join_root, split_listing, temp_name
from .options import Configurable, Option, to_bool, to_int
from .parallel import PartPool
from .reconnect import Reconnecting
from .sdk import require
from .staged import StagedUpload

__all__ = [
    "CAPABILITIES", "BaseStorage", "Configurable", "FromStart", "ObjectInfo", "Option", "PartPool",
    "Reconnecting", "RemoteFile", "ServiceUnavailable", "StagedUpload", "Upload", "clean_name",
    "dir_prefix", "is_temp_name", "join_root", "localize", "require", "split_listing", "temp_name",
    "to_bool", "to_int", "translated",
]
