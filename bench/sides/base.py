"""What every side of bench/compare.py shares: a Django storage side (:class:`DjangoSide`),
the raw-SDK primitives (:class:`Raw`) and how a backend builds both (:class:`Backend`).

Imported in both interpreters (ours and django-storages 1.14.6's): anything from ``storages``
is imported inside the functions that need it.
"""

from __future__ import annotations

from typing import Any, Callable

MB = 1024 * 1024
PAYLOAD = b"small file body " * 64  # the 1 KiB every small operation saves or reads
EMPTY_MANIFEST = b'{"paths": {}, "version": "1.1", "hash": ""}'
NO_OVERWRITE = "django-storages 1.14.6's {} has no overwrite setting (always a free name)"


class NotMeasurable(Exception):
    """A side cannot do an operation; the message says why."""


def read_all(stream: Any, chunk: int | None) -> int:
    """Read ``stream`` to the end (whole with ``chunk=None``, else in chunks); the byte count."""
    from bench.common import drain

    return len(stream.read()) if chunk is None else drain(stream, chunk)


def hash_all(chunks: Any, hasher: Any) -> int:
    """Feed every chunk to ``hasher`` (a raw side doing ours' check on a read); the byte count."""
    count = 0
    for data in chunks:
        hasher.update(data)
        count += len(data)
    return count


def import_path(path: str) -> Any:
    module, _, name = path.rpartition(".")
    return getattr(__import__(module, fromlist=[name]), name)


def manifest_class(cls: type) -> type:
    """``cls`` with Django's ManifestFilesMixin, as ``S3ManifestStaticStorage`` is built."""
    from django.contrib.staticfiles.storage import ManifestFilesMixin

    return type(f"Manifest{cls.__name__}", (ManifestFilesMixin, cls), {})


# -- Django sides --------------------------------------------------------------------------------


class DjangoSide:
    """A Django storage side: ``make(ns, overwrite, endpoint, manifest)`` builds the storage;
    ``overwrite=None`` keeps the backend's default."""

    def __init__(self, make: Callable[..., Any], endpoint: str | None = None) -> None:
        self._make = make
        self._endpoint = endpoint
        self._storages: dict[tuple[str, bool | None, bool], Any] = {}

    def storage(self, ns: str, overwrite: bool | None = None, manifest: bool = False) -> Any:
        key = (ns, overwrite, manifest)
        if key not in self._storages:
            self._storages[key] = self._make(ns, overwrite, self._endpoint, manifest)
        return self._storages[key]

    def put(self, ns: str, name: str, data: bytes, overwrite: bool | None) -> None:
        from django.core.files.base import ContentFile

        self.storage(ns, overwrite).save(name, ContentFile(data, name=name))

    def put_file(self, ns: str, name: str, path: str) -> None:
        from django.core.files.base import File

        with open(path, "rb") as source:
            self.storage(ns).save(name, File(source, name=name))

    def read(self, ns: str, name: str, chunk: int | None) -> int:
        with self.storage(ns).open(name, "rb") as f:
            return read_all(f, chunk)

    def exists(self, ns: str, name: str) -> bool:
        return self.storage(ns).exists(name)

    def size(self, ns: str, name: str) -> int:
        return self.storage(ns).size(name)

    def listdir(self, ns: str, path: str) -> tuple[list[str], list[str]]:
        return self.storage(ns).listdir(path)

    def delete(self, ns: str, name: str) -> None:
        self.storage(ns).delete(name)

    def collectstatic(self, ns: str) -> str | None:
        """Run collectstatic into ``ns``; a note when the manifest had to be seeded first."""
        from django.contrib.staticfiles.management.commands import collectstatic
        from django.core.files.base import ContentFile
        from django.core.management import call_command

        note = None
        try:
            storage = self.storage(ns, manifest=True)
        except Exception as exc:  # ManifestFilesMixin reads staticfiles.json in __init__
            note = (f"cannot start on an empty location: opening the missing staticfiles.json raised "
                    f"{type(exc).__name__}, not FileNotFoundError; timed with an empty manifest put "
                    "there first")
            self.storage(ns).save("staticfiles.json", ContentFile(EMPTY_MANIFEST))
            storage = self.storage(ns, manifest=True)
        command = collectstatic.Command()
        command.storage = storage
        call_command(command, interactive=False, verbosity=0)
        return note


class Raw:
    """The SDK alone. Subclasses implement the primitives; ``collectstatic`` has no raw form."""

    def create(self, ns: str) -> None:
        raise NotImplementedError

    def put(self, ns: str, name: str, data: bytes, overwrite: bool | None) -> None:
        """Store ``data``; with ``overwrite=False`` by the service's create-only request where it
        has one (what a storage with overwriting off must do), else the plain one."""
        raise NotImplementedError

    def put_file(self, ns: str, name: str, path: str) -> None:
        raise NotImplementedError

    def read(self, ns: str, name: str, chunk: int | None) -> int:
        raise NotImplementedError

    def exists(self, ns: str, name: str) -> bool:
        raise NotImplementedError

    def size(self, ns: str, name: str) -> int:
        raise NotImplementedError

    def listdir(self, ns: str, path: str) -> tuple[list[str], list[str]]:
        raise NotImplementedError

    def delete(self, ns: str, name: str) -> None:
        raise NotImplementedError

    def collectstatic(self, ns: str) -> str | None:
        raise NotMeasurable("collectstatic is Django's; the SDK has no equivalent")

    def is_folder(self, ns: str, name: str) -> bool:
        """Whether anything lies under ``name/``: one listing of at most one key, the request
        ours adds to ``exists()`` of a missing name on a service without folders."""
        raise NotMeasurable("one request tells a file from a folder here: ours asks no second one")

    def checked(self) -> Raw:
        """This SDK doing the check ours does where its plain route does not: ``put_file`` and
        ``read`` with the service's digest (see :attr:`Backend.raw_check_reasons`)."""
        raise NotMeasurable("the SDK's plain route already does ours' check")

    #: Threads that may call ``put`` at once when filling a listing (1: the client is not thread-safe).
    fill_threads = 16


# -- backends --------------------------------------------------------------------------------------


class Backend:
    """One service: how each side is built against the emulator described by ``spec``
    (``bench.common.serve``'s description, plus ``spec["bench"]`` from bench/compare.py)."""

    name = ""
    emulator = ""  # the emulators CLI name serve() starts
    http = True  # requests can be counted by emulators.proxy.CountingProxy
    ours_class = ""
    upstream_class = ""
    #: A ready-made manifest static storage (both sides), else ManifestFilesMixin + the class.
    manifest_class_path: str | None = None
    #: Why 1.14.6 cannot save with overwriting on (None: it can).
    upstream_no_overwrite: str | None = None
    #: One more way to run ours in the same rounds of the large transfers, to tell a gap's cause:
    #: ``(label, storage attributes set on ours, directions)`` (the ``variant`` side).
    variant: tuple[str, dict[str, Any], tuple[str, ...]] | None = None
    #: A service without folders: ours' ``exists()`` of a missing name lists ``name/`` too
    #: (the directories rule); compare.py then also times the raw SDK doing both requests.
    folder_listing = False
    #: Ours sends the service's integrity check with writes and verifies reads
    #: (``storages.core.checksums``): compare.py then also times ours with ``checksums = False``.
    checks = False
    #: Per direction ("save", "read"), why the raw SDK is not timed again doing ours' check
    #: (a direction missing here: :meth:`Raw.checked` does it).
    raw_check_reasons: dict[str, str] = {}

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.options = spec["options"]

    def side(self, flavour: str, endpoint: str | None = None) -> Any:
        """The side ``flavour`` names: ``ours``, ``upstream``, ``raw``, the two that explain a
        checksum's cost: ``unchecked`` (ours with ``checksums = False``) and ``checked`` (the
        raw SDK doing the check ours does), or ``variant`` (ours with :attr:`variant`)."""
        if flavour in ("raw", "checked"):
            raw = self.raw(endpoint or self.spec["endpoint"])
            return raw.checked() if flavour == "checked" else raw
        build = self._upstream if flavour == "upstream" else self._ours
        # Set before the storage's first call: an SDK client may be built with them.
        attributes = {"unchecked": {"checksums": False},
                      "variant": self.variant[1] if self.variant else {}}.get(flavour, {})

        def make(ns: str, overwrite: bool | None, endpoint: str | None, manifest: bool) -> Any:
            if flavour == "upstream" and overwrite and self.upstream_no_overwrite:
                raise NotMeasurable(self.upstream_no_overwrite)
            path = self.upstream_class if flavour == "upstream" else self.ours_class
            ready_manifest = manifest and self.manifest_class_path
            cls = import_path(self.manifest_class_path if ready_manifest else path)
            endpoint = endpoint or self.spec["endpoint"]
            if flavour == "upstream":
                cls = self._pointed(cls, endpoint)
            if manifest and not ready_manifest:
                cls = manifest_class(cls)
            storage = build(cls, ns, overwrite, endpoint)
            for name, value in attributes.items():
                setattr(storage, name, value)
            return storage

        return DjangoSide(make, endpoint)

    def _pointed(self, cls: type, endpoint: str) -> type:
        """1.14.6's class, pointed at the emulator where its settings cannot do it: the
        ``_point(storage, endpoint)`` hook runs at the end of ``__init__``, so before
        ManifestFilesMixin reads its manifest."""
        point = getattr(self, "_point", None)
        if point is None:
            return cls

        def __init__(storage: Any, *args: Any, **kwargs: Any) -> None:
            super(pointed, storage).__init__(*args, **kwargs)
            point(storage, endpoint)

        pointed = type(cls.__name__, (cls,), {"__init__": __init__, "__module__": cls.__module__})
        return pointed

    def _ours(self, cls: type, ns: str, overwrite: bool | None, endpoint: str) -> Any:
        raise NotImplementedError

    def _upstream(self, cls: type, ns: str, overwrite: bool | None, endpoint: str) -> Any:
        raise NotImplementedError

    def raw(self, endpoint: str) -> Raw:
        raise NotImplementedError


def overwrite_option(option: str, overwrite: bool | None) -> dict[str, Any]:
    return {} if overwrite is None else {option: overwrite}
