import pytest
from django.core.files.base import ContentFile
import os
SVC = {"libcloud-s3": "s3", "libcloud-azure": "azure", "ftp": "ftp", "sftp": "sftp"}
OPS = {"s3": ("put", "upload_part", "get"), "azure": ("put", "upload_part", "get"), "ftp": ("stor", "stor", "retr"), "sftp": ("write", "write", "read")}

@pytest.mark.parametrize("which,size", [(0, 50_000), (1, 11*1024*1024), (2, 50_000)])
def test_corrupt(storage_factory, storage_target, storage_faults, storage_requests, which, size):
    if storage_target.id not in SVC: pytest.skip()
    svc = SVC[storage_target.id]
    op = OPS[svc][which]
    s = storage_factory()
    data = os.urandom(size)
    if which == 2:
        s.save("a.bin", ContentFile(data))
    storage_faults.add(op, corrupt=1000, service=svc)
    try:
        if which == 2:
            r = s.open("a.bin").read(); print("read ok", r == data)
        else:
            s.save("a.bin", ContentFile(data)); print("saved; equal:", s.open("a.bin").read() == data)
    except Exception as e:
        print("ERR", repr(e)[:300])
    print([f.operation for f in storage_faults.fired])
    print(storage_requests)
