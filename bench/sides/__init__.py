"""The three sides bench/compare.py measures for each backend, on one emulator.

- ``ours``: this project's storage class (run from ``.venv``);
- ``upstream``: django-storages 1.14.6's class (run from ``.bench-venv-upstream``, where
  ``storages`` is that release), configured the way its documentation says;
- ``raw``: the service's SDK alone, by its best plain route (the ceiling a storage adds to).

Both Django sides are a :class:`~bench.sides.base.DjangoSide` over a backend's factory; every
raw side implements the same primitives (:class:`~bench.sides.base.Raw`). Objects live in
namespaces: ``ns`` names a bucket/container ``cmp-<ns>`` (S3, GCS, Azure, libcloud) or a root
folder ``/cmp-<ns>`` (Dropbox, FTP, SFTP), made by the raw side's ``create(ns)``. One module
per backend; none imports an SDK or ``storages`` at module level.
"""

from __future__ import annotations

from .azure import Azure
from .base import EMPTY_MANIFEST, PAYLOAD, Backend, DjangoSide, NotMeasurable, Raw
from .dropbox import Dropbox
from .ftp import FTP
from .gcs import GCS
from .libcloud import Libcloud
from .s3 import S3
from .sftp import SFTP

BACKENDS: dict[str, type[Backend]] = {cls.name: cls for cls in (S3, GCS, Azure, Dropbox, FTP, SFTP, Libcloud)}

__all__ = ["BACKENDS", "EMPTY_MANIFEST", "PAYLOAD", "Backend", "DjangoSide", "NotMeasurable", "Raw"]
