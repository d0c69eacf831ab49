"""The list page, the upload form, and the file view that serves FTP/SFTP files over HTTP."""

from __future__ import annotations

import mimetypes

from django.conf import settings
from django.core.files.storage import storages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from .forms import UploadForm
from .models import Upload


def index(request: HttpRequest) -> HttpResponse:
    return render(request, "gallery/index.html", {"uploads": Upload.objects.all(), "site": settings.SITE})


def upload(request: HttpRequest) -> HttpResponse:
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        form.save()
        return redirect("index")
    return render(request, "gallery/upload.html", {"form": form, "site": settings.SITE})


def storage_file(request: HttpRequest, name: str, alias: str) -> FileResponse:
    """Stream ``name`` from ``STORAGES[alias]``: what a web server in front of FTP/SFTP would do."""
    try:
        handle = storages[alias].open(name, "rb")
    except FileNotFoundError:
        raise Http404(name) from None
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return FileResponse(handle, content_type=content_type)
