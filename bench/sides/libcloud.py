"""libcloud's S3 driver on moto."""

from __future__ import annotations

from typing import Any

from .base import MB, NO_OVERWRITE, Backend, Raw, overwrite_option


class Libcloud(Backend):
    """libcloud's S3 driver on the S3 emulator (moto)."""

    name = "libcloud"
    emulator = "s3"
    ours_class = upstream_class = "storages.backends.apache_libcloud.LibCloudStorage"
    upstream_no_overwrite = NO_OVERWRITE.format("LibCloudStorage")
    folder_listing = True

    def _hostport(self, endpoint: str) -> tuple[str, int]:
        from urllib.parse import urlsplit

        parts = urlsplit(endpoint)
        return parts.hostname or "127.0.0.1", parts.port or 80

    def _ours(self, cls: type, ns: str, overwrite: bool | None, endpoint: str) -> Any:
        host, port = self._hostport(endpoint)
        provider = {"type": "libcloud.storage.types.Provider.S3", "key": self.options["access_key"],
                    "secret": self.options["secret_key"], "bucket": f"cmp-{ns}", "host": host, "port": port,
                    "secure": False, "region": self.options["region_name"]}
        return cls(provider_name="bench", providers={"bench": provider},
                   **overwrite_option("file_overwrite", overwrite))

    def _upstream(self, cls: type, ns: str, overwrite: bool | None, endpoint: str) -> Any:
        from django.conf import settings

        # 1.14.6 reads LIBCLOUD_PROVIDERS and passes only user, key, region and project to the
        # driver: the emulator's host and port come from a registered driver class.
        name = f"bench-{ns}-{len(settings.LIBCLOUD_PROVIDERS)}"
        settings.LIBCLOUD_PROVIDERS[name] = {
            "type": _emulator_s3_driver(*self._hostport(endpoint)), "user": self.options["access_key"],
            "key": self.options["secret_key"], "bucket": f"cmp-{ns}", "region": self.options["region_name"]}
        return cls(provider_name=name)

    def raw(self, endpoint: str) -> Raw:
        from libcloud.storage.drivers.s3 import S3StorageDriver

        host, port = self._hostport(endpoint)
        return LibcloudRaw(S3StorageDriver(self.options["access_key"], self.options["secret_key"],
                                           secure=False, host=host, port=port,
                                           region=self.options["region_name"]))


def _emulator_s3_driver(host: str, port: int) -> tuple[str, str, int]:
    """Register (once) libcloud's S3 driver fixed to ``host:port``; the provider key to use.
    The key is a tuple, so 1.14.6 hands it to ``get_driver`` as is."""
    import sys
    import types

    from libcloud.storage.drivers.s3 import S3StorageDriver
    from libcloud.storage.providers import DRIVERS

    key = ("bench-emulator-s3", host, port)
    if key not in DRIVERS:
        class EmulatorS3Driver(S3StorageDriver):
            def __init__(self, user: str, secret: str | None = None, **kwargs: Any) -> None:
                super().__init__(user, secret, secure=False, host=host, port=port, **kwargs)

        module = types.ModuleType(f"bench_emulator_s3_{port}")
        module.EmulatorS3Driver = EmulatorS3Driver  # type: ignore[attr-defined]
        sys.modules[module.__name__] = module
        DRIVERS[key] = (module.__name__, "EmulatorS3Driver")
    return key


class LibcloudRaw(Raw):
    def __init__(self, driver: Any) -> None:
        self.driver = driver

    def _container(self, ns: str) -> Any:
        from libcloud.storage.base import Container

        return Container(f"cmp-{ns}", {}, self.driver)

    def _object(self, ns: str, name: str) -> Any:
        from libcloud.storage.base import Object

        return Object(name, None, None, {}, {}, self._container(ns), self.driver)

    def create(self, ns: str) -> None:
        from libcloud.storage.types import ContainerAlreadyExistsError

        try:
            self.driver.create_container(f"cmp-{ns}")
        except ContainerAlreadyExistsError:
            pass

    def put(self, ns: str, name: str, data: bytes, overwrite: bool | None) -> None:
        self.driver.upload_object_via_stream(iter([data]), self._container(ns), name)

    def put_file(self, ns: str, name: str, path: str) -> None:
        with open(path, "rb") as source:
            chunks = iter(lambda: source.read(MB), b"")
            self.driver.upload_object_via_stream(chunks, self._container(ns), name)

    def read(self, ns: str, name: str, chunk: int | None) -> int:
        # An Object built locally: one GET, no HEAD first (the driver's cheapest read).
        return sum(len(c) for c in self.driver.download_object_as_stream(self._object(ns, name),
                                                                         chunk_size=chunk or MB))

    def _head(self, ns: str, name: str) -> Any:
        """The object's metadata in one HEAD. (The S3 driver's ``get_object`` first HEADs the
        bucket, through ``get_container``: two requests.)"""
        container = self._container(ns)
        path = self.driver._get_object_path(container, name)
        response = self.driver.connection.request(path, method="HEAD")
        if response.status != 200:
            return None
        return self.driver._headers_to_object(object_name=name, container=container, headers=response.headers)

    def exists(self, ns: str, name: str) -> bool:
        return self._head(ns, name) is not None

    def is_folder(self, ns: str, name: str) -> bool:
        objects = self.driver.iterate_container_objects(self._container(ns), prefix=f"{name}/")
        return next(iter(objects), None) is not None

    def size(self, ns: str, name: str) -> int:
        return self._head(ns, name).size

    def listdir(self, ns: str, path: str) -> tuple[list[str], list[str]]:
        prefix = f"{path.strip('/')}/" if path.strip("/") else None
        # The S3 driver lists without a delimiter: every key under the prefix.
        return [], [o.name for o in self.driver.iterate_container_objects(self._container(ns), prefix=prefix)]

    def delete(self, ns: str, name: str) -> None:
        from libcloud.storage.types import ObjectDoesNotExistError

        try:
            self.driver.delete_object(self._object(ns, name))
        except ObjectDoesNotExistError:
            pass
