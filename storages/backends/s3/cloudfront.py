"""CloudFront signed URLs (``AWS_CLOUDFRONT_KEY`` + ``AWS_CLOUDFRONT_KEY_ID``): RSA-SHA1 canned policies.

The key may be PEM text or bytes (signed with ``cryptography`` when it is installed,
otherwise with ``rsa``, as upstream), or a private-key object of either library.
"""

from __future__ import annotations

from typing import Any, Callable

from django.core.exceptions import ImproperlyConfigured

BAD_KEY = "AWS_CLOUDFRONT_KEY is not an unencrypted PEM RSA private key"


def signer_from_key(key_id: str, key: Any) -> Any:
    """A botocore ``CloudFrontSigner`` for ``key_id`` that signs with ``key``."""
    from botocore.signers import CloudFrontSigner

    return CloudFrontSigner(key_id, _rsa_sha1(key))


def _rsa_sha1(key: Any) -> Callable[[bytes], bytes]:
    if type(key).__module__.split(".")[0] == "rsa":  # an rsa.PrivateKey
        import rsa

        return lambda message: rsa.sign(message, key, "SHA-1")
    if not isinstance(key, (str, bytes)):  # a cryptography RSAPrivateKey
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        return lambda message: key.sign(message, padding.PKCS1v15(), hashes.SHA1())
    pem = key.encode("ascii") if isinstance(key, str) else key
    try:
        from cryptography.hazmat.primitives.serialization import load_pem_private_key
    except ImportError:
        return _rsa_from_pem(pem)
    try:
        private_key = load_pem_private_key(pem, password=None)
    except (TypeError, ValueError) as exc:
        raise ImproperlyConfigured(BAD_KEY) from exc
    return _rsa_sha1(private_key)


def _rsa_from_pem(pem: bytes) -> Callable[[bytes], bytes]:
    """The ``rsa`` package's signer, for installs without ``cryptography`` (PKCS#1 PEM keys)."""
    try:
        import rsa
    except ImportError:
        raise ImproperlyConfigured(
            "CloudFront signed URLs need an RSA library: pip install 'django-storages[s3]' "
            "(cryptography), or pip install rsa") from None
    try:
        return _rsa_sha1(rsa.PrivateKey.load_pkcs1(pem))
    except (TypeError, ValueError) as exc:
        raise ImproperlyConfigured(f"{BAD_KEY} (the rsa package reads PKCS#1: "
                                   "-----BEGIN RSA PRIVATE KEY-----)") from exc
