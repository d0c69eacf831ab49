"""docker-compose.test.yml, read as the single source of the emulators' container images.

Only what the container route needs is read: each service's ``image``, ``command``,
``environment``, its ``build`` (images made from this checkout) and the ``x-storages``
block (listening port, local stand-in build). ``${VAR}`` / ``${VAR:-default}`` are
interpolated like docker compose does, from a mapping the caller gives (the plugin
sets the port and bind address of each container that way).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from .base import EmulatorUnavailable

REPO_ROOT = Path(__file__).resolve().parents[1]
COMPOSE_FILE_ENV = "STORAGE_COMPOSE_FILE"
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}|\$\$")


@dataclass(frozen=True)
class ServiceSpec:
    """One service of the compose file, interpolated."""

    name: str
    image: str
    command: list[str]
    environment: dict[str, str]
    port: int
    #: Dockerfile (relative to the compose file) that builds ``image``: the service's own
    #: ``build`` or its ``x-storages.local-build`` stand-in; None when it can only be pulled.
    dockerfile: str | None = None
    build_args: dict[str, str] = field(default_factory=dict)
    #: True when ``image`` is made from this checkout (it has no registry to come from).
    own_image: bool = False

    @property
    def tag(self) -> str:
        """The image's version: what follows the last ':' (``5.2.5`` of ``motoserver/moto:5.2.5``)."""
        return self.image.rpartition(":")[2] if ":" in self.image.rpartition("/")[2] else "latest"


def compose_file() -> Path:
    """$STORAGE_COMPOSE_FILE, else the checkout's docker-compose.test.yml."""
    path = Path(os.environ.get(COMPOSE_FILE_ENV) or REPO_ROOT / "docker-compose.test.yml")
    if not path.is_file():
        raise EmulatorUnavailable(
            f"the container route reads its images from docker-compose.test.yml, not found at {path}: "
            f"set {COMPOSE_FILE_ENV} to that file (it is in the project's repository)")
    return path


def interpolate(value: Any, variables: Mapping[str, str]) -> Any:
    """Replace ``${VAR}``, ``${VAR:-default}`` and ``$$`` in every string of ``value``."""
    if isinstance(value, str):
        def replace(match: re.Match[str]) -> str:
            if match.group(0) == "$$":
                return "$"
            name, default = match.group(1), match.group(2)
            current = variables.get(name)
            return current if current not in (None, "") else (default or "")

        return _VARIABLE.sub(replace, value)
    if isinstance(value, list):
        return [interpolate(item, variables) for item in value]
    if isinstance(value, dict):
        return {key: interpolate(item, variables) for key, item in value.items()}
    return value


def load_raw(path: Path | None = None) -> dict[str, Any]:
    """The compose file as parsed YAML."""
    try:
        import yaml
    except ImportError as exc:
        raise EmulatorUnavailable(
            f"reading docker-compose.test.yml needs PyYAML ({exc}): pip install 'django-storages[docker]'"
        ) from exc
    with open(path or compose_file(), encoding="utf-8") as f:
        return yaml.safe_load(f)


def services(variables: Mapping[str, str] | None = None, path: Path | None = None) -> dict[str, ServiceSpec]:
    """Every service of the compose file, interpolated with ``variables`` (default: none)."""
    raw = load_raw(path)
    return {name: _spec(name, interpolate(body, variables or {})) for name, body in raw["services"].items()}


def service(name: str, variables: Mapping[str, str] | None = None) -> ServiceSpec:
    specs = services(variables)
    if name not in specs:
        raise EmulatorUnavailable(
            f"docker-compose.test.yml has no {name!r} service (it has {', '.join(specs)})")
    return specs[name]


def _spec(name: str, body: dict[str, Any]) -> ServiceSpec:
    extra = body.get("x-storages") or {}
    build = body.get("build")
    local = extra.get("local-build") or {}
    environment = body.get("environment") or {}
    if isinstance(environment, list):  # the KEY=value list form
        environment = dict(item.split("=", 1) for item in environment)
    if "port" not in extra:
        raise ValueError(f"docker-compose.test.yml: service {name!r} has no x-storages.port")
    return ServiceSpec(
        name=name, image=body["image"], command=[str(part) for part in body.get("command") or []],
        environment={key: str(value) for key, value in environment.items()}, port=int(extra["port"]),
        dockerfile=(build or local).get("dockerfile"),
        build_args={key: str(value) for key, value in ((build or local).get("args") or {}).items()},
        own_image=build is not None,
    )
