"""Upstream's boto3 *resource* API on ``S3Storage``, built lazily on first use.

``storage.connection`` is an S3 ``ServiceResource`` (``storage.connection.meta.client``
is its client), ``storage.unsigned_connection`` the same without credentials, and
``storage.bucket`` a ``Bucket`` (``storage.bucket.name``, ``storage.bucket.Object(key)``,
``storage.bucket.meta.client.generate_presigned_post(...)``), as in django-storages
1.14. Each is created once per thread, when first used: creating a storage, and
every operation of the storage itself, never builds one (the storage's own calls use
its plain client). :class:`S3File` is what ``open()`` returns (upstream's ``S3File``
and ``S3Boto3StorageFile``).
"""

from __future__ import annotations

from typing import Any, Callable, TypeVar

from storages.core.compat import BackendFile, upstream_arguments

from .upload import MIN_PART_SIZE

T = TypeVar("T")


class S3Resources:
    """Mixin for ``S3Storage``: the resource objects of upstream's API (see the module docstring)."""

    bucket_name: str | None
    location: str
    _per_thread: Callable[[str, Callable[[], Any]], Any]
    _session_and_arguments: Callable[..., tuple[Any, dict[str, Any]]]
    container_name: Callable[[], str]

    def _make_resource(self, *, unsigned: bool = False) -> Any:
        session, arguments = self._session_and_arguments(unsigned=unsigned)
        return session.resource("s3", **arguments)

    @property
    def connection(self) -> Any:
        """This thread's boto3 S3 ``ServiceResource`` (upstream's ``connection``)."""
        return self._per_thread("resource", self._make_resource)

    @property
    def unsigned_connection(self) -> Any:
        """This thread's S3 ``ServiceResource`` that signs nothing (public objects)."""
        return self._per_thread("unsigned_resource", lambda: self._make_resource(unsigned=True))

    @property
    def bucket(self) -> Any:
        """This thread's boto3 ``Bucket`` of ``AWS_STORAGE_BUCKET_NAME`` (upstream's ``bucket``)."""
        return self._per_thread("bucket_resource", lambda: self.connection.Bucket(self.container_name()))


class S3File(BackendFile):
    """What ``S3Storage.open()`` returns (upstream's ``S3File``, alias ``S3Boto3StorageFile``).

    Takes upstream's arguments ``(name, mode, storage, buffer_size=None)``; ``buffer_size``
    (default ``AWS_S3_FILE_BUFFER_SIZE``, else the storage's part size) is the part size of
    a write, at least S3's 5 MiB. ``obj`` is the boto3 ``Object`` (built on first use).
    """

    def __init__(self, *args: Any, buffer_size: int | None = None, **kwargs: Any) -> None:
        if len(args) == 4:
            *args, buffer_size = args  # type: ignore[assignment]
        storage, name, mode, options = upstream_arguments(tuple(args), kwargs)
        size = buffer_size or getattr(storage, "file_buffer_size", None)
        self.part_size = max(MIN_PART_SIZE, int(size)) if size else None
        super().__init__(storage, name, mode, **options)

    @property
    def buffer_size(self) -> int:
        return self.part_size or self._storage.part_size

    @property
    def obj(self) -> Any:
        """The boto3 ``Object`` of this file (upstream's ``S3File.obj``)."""
        return self._storage.bucket.Object(self._key)


#: upstream's other name (``storages.backends.s3boto3.S3Boto3StorageFile``)
S3Boto3StorageFile = S3File
