"""Direct uploads: the browser sends a file straight to the storage service. This site only
signs a grant for it and, afterwards, checks what arrived (docs/direct-uploads.md)."""

from __future__ import annotations

import os
import uuid

from django.core import signing
from django.core.exceptions import SuspiciousFileOperation
from django.core.files.storage import default_storage
from django.http import HttpRequest, JsonResponse
from django.utils.text import get_valid_filename
from django.views.decorators.http import require_POST

from storages.core import Capability

MAX_SIZE = 5 * 1024 * 1024
SALT = "example.gallery.direct"


@require_POST
def upload_grant(request: HttpRequest) -> JsonResponse:
    """A grant for one file, as JSON: where and how the browser sends it, and a token that
    later proves to this site which name it granted."""
    try:
        filename = get_valid_filename(os.path.basename(request.POST.get("filename", "")))
    except SuspiciousFileOperation:
        return JsonResponse({"error": "a file name is needed"}, status=400)
    limits = Capability.DIRECT_UPLOAD_LIMITS in default_storage.capabilities()
    try:
        grant = default_storage.direct_upload(
            f"direct/{uuid.uuid4().hex}/{filename}", content_type=request.POST.get("content_type") or None,
            max_size=MAX_SIZE if limits else None, expire=600, max_length=100)
    except NotImplementedError as exc:  # FTP, SFTP, Dropbox, libcloud: the reason says why
        return JsonResponse({"error": str(exc)}, status=501)
    return JsonResponse({**grant.as_dict(), "token": signing.dumps(grant.name, salt=SALT)})


def uploaded_name(token: str) -> str:
    """The name a grant of this site wrote, once the browser says it is done; ValueError if the
    token is not ours, nothing arrived, or what arrived is too large."""
    try:
        name = signing.loads(token, salt=SALT, max_age=3600)
    except signing.BadSignature:
        raise ValueError("not a grant of this site") from None
    if not default_storage.exists(name):
        raise ValueError("nothing was uploaded under the granted name")
    if default_storage.size(name) > MAX_SIZE:  # where the service could not enforce max_size
        default_storage.delete(name)
        raise ValueError(f"the upload is larger than {MAX_SIZE} bytes")
    return name
