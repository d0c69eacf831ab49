"""Files the sample project's tests upload."""

import io
import json
import os

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image


def png(width: int = 3, height: int = 2) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "red").save(buffer, "PNG")
    return SimpleUploadedFile("pixel.png", buffer.getvalue(), content_type="image/png")


def text(name: str = "report.txt", data: bytes = b"quarterly report") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="text/plain")


def record(backend: str, emulator) -> None:
    """Note which process used which emulator, and whether the process that started this one
    (the parent of a --parallel worker) serves it: the repository's tests check there is one
    emulator per backend per run, started before the workers forked. Only when
    SAMPLE_RECORD_DIR is set."""
    directory = os.environ.get("SAMPLE_RECORD_DIR")
    if not directory:
        return
    import psutil

    def listens(process):
        connections = getattr(process, "net_connections", None) or process.connections  # psutil < 6
        return any(c.status == psutil.CONN_LISTEN and c.laddr.port == emulator.port
                   for c in connections("tcp"))

    parent = psutil.Process(os.getppid())
    # In-process emulators listen in the parent itself; Azurite and fake-gcs-server are its children.
    programs = [child for child in parent.children() if child.exe() != parent.exe()]
    entry = {"pid": os.getpid(), "parent": parent.pid, "backend": backend, "endpoint": emulator.endpoint,
             "parent_serves": listens(parent) or any(listens(child) for child in programs)}
    with open(os.path.join(directory, f"{os.getpid()}.jsonl"), "a") as f:
        f.write(json.dumps(entry) + "\n")
