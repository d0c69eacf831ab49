"""The capabilities a backend may lack: one closed list, checked when a class is created.

A backend declares what it cannot do as ``unsupported = {"signed_urls": "reason", ...}``;
a name that is not a :class:`Capability` is a ``TypeError`` when the class is
created (at import). Conformance tests that need a capability carry
``@pytest.mark.capability("name")`` and are skipped, with the backend's reason,
where it is declared missing. Every capability gates at least one conformance test
(``tests/core/test_capabilities.py`` checks the suite's markers).
"""

from __future__ import annotations

from enum import Enum
from typing import Mapping


class Capability(str, Enum):
    """Something a backend may be unable to do (the value is the name used in markers)."""

    SIGNED_URLS = "signed_urls"
    FETCHABLE_URLS = "fetchable_urls"
    MODIFIED_TIME = "modified_time"
    CREATED_TIME = "created_time"
    ACCESSED_TIME = "accessed_time"
    CREATE_ONLY = "create_only"
    DIRECT_UPLOADS = "direct_uploads"
    DIRECT_UPLOAD_LIMITS = "direct_upload_limits"

    def __str__(self) -> str:
        return self.value

    @property
    def description(self) -> str:
        return DESCRIPTIONS[self]


DESCRIPTIONS = {
    Capability.SIGNED_URLS: "url() returns a link the service checks: a tampered one is refused",
    Capability.FETCHABLE_URLS: "url() returns an http(s) link that serves the bytes",
    Capability.MODIFIED_TIME: "get_modified_time()",
    Capability.CREATED_TIME: "get_created_time()",
    Capability.ACCESSED_TIME: "get_accessed_time()",
    Capability.CREATE_ONLY: "a save with overwriting off cannot replace an object, even under a race",
    Capability.DIRECT_UPLOADS: "direct_upload() lets a client upload one name straight to the service",
    Capability.DIRECT_UPLOAD_LIMITS: "the service refuses a direct upload over max_size or of another "
                                     "content type",
}


def capability(name: str | Capability) -> Capability:
    """The Capability called ``name``; ``TypeError`` naming the valid ones otherwise."""
    try:
        return Capability(name)
    except ValueError:
        valid = ", ".join(c.value for c in Capability)
        raise TypeError(f"unknown capability {name!r}; valid capabilities: {valid}") from None


def unsupported_table(declared: Mapping[str, str], owner: str) -> dict[Capability, str]:
    """Validate an ``unsupported`` declaration: known names, each with a reason."""
    table: dict[Capability, str] = {}
    for name, reason in declared.items():
        try:
            key = capability(name)
        except TypeError as exc:
            raise TypeError(f"{owner}.unsupported: {exc}") from None
        if not isinstance(reason, str) or not reason.strip():
            raise TypeError(f"{owner}.unsupported[{name!r}] must give the reason as a non-empty string")
        table[key] = reason
    return table
