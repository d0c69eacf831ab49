"""Compatibility import path: ``storages.backends.s3boto3.S3Boto3Storage`` and friends."""

from .s3 import S3Boto3StorageFile, S3File, S3ManifestStaticStorage, S3StaticStorage, S3Storage

S3Boto3Storage = S3Storage
S3Boto3StaticStorage = S3StaticStorage
S3Boto3ManifestStaticStorage = S3ManifestStaticStorage
S3StaticStorage = S3StaticStorage
S3ManifestStaticStorage = S3ManifestStaticStorage

__all__ = [
    "S3Boto3Storage", "S3Boto3StorageFile", "S3File", "S3Boto3StaticStorage", "S3Boto3ManifestStaticStorage",
    "S3Storage", "S3StaticStorage", "S3ManifestStaticStorage",
]
