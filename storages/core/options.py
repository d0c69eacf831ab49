"""One mechanism for every backend's options.

A backend declares its options once, as a tuple of :class:`Option`. Each value is
resolved in this order: constructor keyword (how ``STORAGES[...]["OPTIONS"]``
arrive) > class attribute on a subclass > Django setting > environment > default.
Unknown keywords raise ``ImproperlyConfigured`` naming the option and the class.
Values are re-read when Django's ``setting_changed`` fires, so
``override_settings`` works in tests. Secret options never appear in ``repr()``,
pickles or migrations (``_without_secrets`` is what those carry). An option kept
only for old configurations is declared ``deprecated`` and warns when set.
"""

from __future__ import annotations

import os
import warnings
import weakref
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from django.core.exceptions import ImproperlyConfigured

_MISSING = object()


@dataclass(frozen=True)
class Option:
    """Declaration of one backend option.

    ``name`` is the attribute the resolved value is stored under and the keyword
    accepted by the constructor; ``aliases`` are further accepted keywords (old
    names). ``settings`` are Django setting names, first found wins; ``env`` are
    environment variables read after the settings. ``convert`` turns a raw value
    (e.g. an environment string) into the option's type. ``deprecated`` (an
    option kept for old configurations) is the ``DeprecationWarning`` given when
    it is set to anything but its default.
    """

    name: str
    settings: tuple[str, ...] = ()
    default: Any = None
    env: tuple[str, ...] = ()
    secret: bool = False
    aliases: tuple[str, ...] = ()
    convert: Callable[[Any], Any] | None = None
    deprecated: str | None = None

    def describe(self) -> str:
        """How a user sets this option, for error messages."""
        if self.settings:
            return f"the {self.settings[0]} setting (or the {self.name!r} option)"
        return f"the {self.name!r} option"


def to_bool(value: Any) -> bool:
    """Accept booleans and the usual environment spellings of them."""
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in {"1", "true", "yes", "on"}:
            return True
        if lowered in {"0", "false", "no", "off", ""}:
            return False
        raise ValueError(f"not a boolean: {value!r}")
    return bool(value)


def to_int(value: Any) -> int | None:
    return None if value is None else int(value)


def resolve(options: Iterable[Option], cls: type, kwargs: dict[str, Any]) -> dict[str, Any]:
    """Resolve every option for ``cls`` given constructor ``kwargs``."""
    from django.conf import settings

    options = tuple(options)
    by_keyword = keywords(options)
    refuse_unknown(options, cls, set(kwargs) - set(by_keyword))
    given = {by_keyword[k].name: v for k, v in kwargs.items()}
    values: dict[str, Any] = {}
    for opt in options:
        value = given.get(opt.name, _MISSING)
        if value is _MISSING:
            value = _class_attribute(cls, opt)
        if value is _MISSING:
            for setting in opt.settings:
                value = getattr(settings, setting, _MISSING)
                if value is not _MISSING:
                    break
        if value is _MISSING:
            for var in opt.env:
                if var in os.environ:
                    value = os.environ[var]
                    break
        if value is _MISSING:
            value = opt.default() if callable(opt.default) else opt.default
        if opt.convert is not None and value is not None:
            try:
                value = opt.convert(value)
            except (TypeError, ValueError) as exc:
                raise ImproperlyConfigured(f"Invalid value for {opt.describe()}: {exc}") from None
        if opt.deprecated and value != (opt.default() if callable(opt.default) else opt.default):
            warnings.warn(f"{opt.describe()[4:]}: {opt.deprecated}", DeprecationWarning, stacklevel=4)
        values[opt.name] = value
    return values


def keywords(options: Iterable[Option]) -> dict[str, Option]:
    """Every accepted constructor keyword (names and aliases) -> its option."""
    return {keyword: opt for opt in options for keyword in (opt.name, *opt.aliases)}


def refuse_unknown(options: Iterable[Option], cls: type, unknown: Iterable[str]) -> None:
    """``ImproperlyConfigured`` naming the unknown keywords and the valid ones, if there are any."""
    unknown = sorted(unknown)
    if unknown:
        raise ImproperlyConfigured(
            f"{cls.__module__}.{cls.__qualname__} got unknown option(s) "
            f"{', '.join(map(repr, unknown))}; valid options are: "
            f"{', '.join(sorted(o.name for o in options))}"
        )


def _class_attribute(cls: type, opt: Option) -> Any:
    """A plain class attribute set by a subclass (``bucket_name = "static"``)."""
    for klass in cls.__mro__:
        for attr in (opt.name, *opt.aliases):
            if attr in vars(klass):
                candidate = vars(klass)[attr]
                is_method = callable(candidate) and not isinstance(candidate, type)
                if is_method or isinstance(candidate, (property, Option)):
                    continue
                return candidate
    return _MISSING


@dataclass
class _Registry:
    """Live configured objects, re-resolved when a setting they read changes."""

    objects: "weakref.WeakSet[Configurable]" = field(default_factory=weakref.WeakSet)

    def setting_changed(self, setting: str, **_: Any) -> None:
        for obj in list(self.objects):
            if setting in obj._option_settings():
                obj._configure()


_registry = _Registry()


def _on_setting_changed(*, setting: str, **kwargs: Any) -> None:
    _registry.setting_changed(setting)


def _connect() -> None:
    from django.core.signals import setting_changed

    setting_changed.connect(_on_setting_changed, dispatch_uid="storages.options.setting_changed")


class Configurable:
    """Mixin that gives a class option resolution from its ``options`` tuple."""

    options: tuple[Option, ...] = ()

    def __init__(self, **kwargs: Any) -> None:
        self._init_kwargs = dict(kwargs)
        self._configure()
        _connect()
        _registry.objects.add(self)

    def _configure(self) -> None:
        """(Re)resolve every option and drop anything derived from the old values."""
        by_keyword = keywords(self.options)
        known = {k: v for k, v in self._init_kwargs.items() if k in by_keyword}
        values = resolve(self.options, type(self), known)
        self.__dict__.update(values)
        unknown = self._legacy_settings({k: v for k, v in self._init_kwargs.items() if k not in by_keyword})
        refuse_unknown(self.options, type(self), unknown)
        self._options_changed()

    def _legacy_settings(self, unknown: dict[str, Any]) -> dict[str, Any]:
        """Hook: apply settings an older API supplies (``storages.core.compat``); return the
        keywords that are still unknown."""
        return unknown

    def _options_changed(self) -> None:
        """Hook: clear cached clients and derived state. Called after (re)configuring."""

    @classmethod
    def _option_settings(cls) -> set[str]:
        return {s for opt in cls.options for s in opt.settings}

    @classmethod
    def _secret_names(cls) -> set[str]:
        return {keyword for opt in cls.options if opt.secret for keyword in (opt.name, *opt.aliases)}

    def option_values(self, *, include_secrets: bool = False) -> dict[str, Any]:
        """The resolved options; secrets are left out unless asked for."""
        return {
            opt.name: getattr(self, opt.name)
            for opt in self.options
            if include_secrets or not opt.secret
        }

    def _without_secrets(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        """Constructor keywords minus secrets: all that pickles and migrations carry. A backend
        whose options embed a secret (a password in a URL, keys in a dict) strips it here too."""
        secrets = self._secret_names()
        return {k: v for k, v in kwargs.items() if k not in secrets}

    def __getstate__(self) -> dict[str, Any]:
        # Only the non-secret constructor keywords travel: secrets are resolved
        # again from the class, settings or environment where the pickle is loaded.
        return {"kwargs": self._without_secrets(self._init_kwargs)}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(**state["kwargs"])  # type: ignore[misc]
