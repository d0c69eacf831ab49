"""Manifest static storages for the backends that ship none.

S3 has ``storages.backends.s3.S3ManifestStaticStorage``; for every other
backend a project gets hashed static names (``collectstatic``) the same way:
Django's ``ManifestFilesMixin`` in front of the backend's storage class.

``ManifestFilesMixin`` rewrites the references inside CSS files with the last
path segment of ``url()``, so ``url()`` must be stable and end in the file name:
a public URL (GCS with ``querystring_auth`` off, an Azure container with public
read access and no expiry) or, where the service only hands out signed or
temporary links (Dropbox, libcloud's drivers), ``STATIC_URL`` plus the name,
with the site streaming the file from the storage (``SiteServedURLs``).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.staticfiles.storage import ManifestFilesMixin
from django.utils.encoding import filepath_to_uri

from storages.backends.apache_libcloud import LibCloudStorage
from storages.backends.azure_storage import AzureStorage
from storages.backends.dropbox import DropboxStorage
from storages.backends.ftp import FTPStorage
from storages.backends.gcloud import GoogleCloudStorage
from storages.backends.sftpstorage import SFTPStorage


class SiteServedURLs:
    """``url()`` is ``STATIC_URL`` + name; the site's ``storage_file`` view serves it from the storage."""

    def url(self, name: str | None) -> str:
        return settings.STATIC_URL + filepath_to_uri(name or "")


class GoogleCloudManifestStaticStorage(ManifestFilesMixin, GoogleCloudStorage):
    """Static files with hashed names on Google Cloud Storage."""


class AzureManifestStaticStorage(ManifestFilesMixin, AzureStorage):
    """Static files with hashed names on Azure Blob Storage."""


class DropboxManifestStaticStorage(ManifestFilesMixin, SiteServedURLs, DropboxStorage):
    """Static files with hashed names on Dropbox, served by the site (temporary links expire,
    cost an API call each and do not end in the file name)."""


class FTPManifestStaticStorage(ManifestFilesMixin, FTPStorage):
    """Static files with hashed names on an FTP server (served through BASE_URL)."""


class SFTPManifestStaticStorage(ManifestFilesMixin, SFTPStorage):
    """Static files with hashed names on an SFTP server (served through SFTP_BASE_URL)."""


class LibCloudManifestStaticStorage(ManifestFilesMixin, SiteServedURLs, LibCloudStorage):
    """Static files with hashed names in a libcloud container, served by the site
    (the drivers' URLs are signed, so they change on every call)."""
