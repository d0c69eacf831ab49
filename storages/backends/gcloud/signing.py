"""URL signing through the IAM signBlob API (``GS_IAM_SIGN_BLOB``): no key file, the caller's token."""

from __future__ import annotations

import threading
from typing import Any

from django.core.exceptions import ImproperlyConfigured

_REFRESH_LOCK = threading.Lock()


def iam_sign_params(credentials: Any, sa_email: str | None) -> dict[str, str]:
    """``generate_signed_url`` keywords to sign as ``sa_email`` (default: the credentials'
    account) with the credentials' access token, refreshed first when missing or expired
    (tokens live an hour; a worker signs for longer; one refresh across threads)."""
    with _REFRESH_LOCK:
        if not getattr(credentials, "token", None) or not credentials.valid:
            from google.auth.transport.requests import Request

            credentials.refresh(Request())
    email = sa_email or getattr(credentials, "service_account_email", None)
    if not email or email == "default":
        raise ImproperlyConfigured("GS_IAM_SIGN_BLOB needs the service account's e-mail: set GS_SA_EMAIL")
    return {"service_account_email": email, "access_token": credentials.token}
