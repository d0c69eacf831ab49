"""The list page, the upload forms (through the site, or straight to the storage), and the file
view that serves FTP/SFTP files over HTTP."""

from __future__ import annotations

import mimetypes

from django.conf import settings
from django.core.files.storage import storages
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from .direct import uploaded_name
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


def direct(request: HttpRequest) -> HttpResponse:
    """The page whose script uploads an image straight to the storage (``direct.upload_grant``),
    then posts the grant's token here; the upload is recorded once the storage has it."""
    error = ""
    if request.method == "POST":
        try:
            name = uploaded_name(request.POST.get("token", ""))
        except ValueError as exc:
            error = str(exc)
        else:
            Upload.objects.create(title=request.POST.get("title", "")[:100] or name, image=name)
            return redirect("index")
    return render(request, "gallery/direct.html", {"site": settings.SITE, "error": error})


def storage_file(request: HttpRequest, name: str, alias: str) -> FileResponse:
    """Stream ``name`` from ``STORAGES[alias]``: what a web server in front of FTP/SFTP would do."""
    try:
        handle = storages[alias].open(name, "rb")
    except FileNotFoundError:
        raise Http404(name) from None
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    return FileResponse(handle, content_type=content_type)
