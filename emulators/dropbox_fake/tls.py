"""A throwaway certificate authority and a server certificate for 127.0.0.1/localhost
(and any other host names asked for)."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path


@dataclass(frozen=True)
class Certificates:
    ca: Path  # the CA certificate alone
    bundle: Path  # the system/certifi CAs plus ours: a drop-in REQUESTS_CA_BUNDLE
    cert: Path  # server certificate chain
    key: Path  # server private key


def make_certificates(directory: Path, hosts: tuple[str, ...] = ()) -> Certificates:
    """Generate a CA and a server certificate signed by it (valid for a day) into ``directory``,
    for localhost, 127.0.0.1 and ``hosts``."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.now(timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "storages Dropbox fake test CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(
            digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
            key_encipherment=False, data_encipherment=False, key_agreement=False, encipher_only=False,
            decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([
            x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
            *(x509.DNSName(host) for host in hosts),
        ]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
                       critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    ca_pem = ca_cert.public_bytes(pem)
    paths = Certificates(directory / "ca.pem", directory / "ca-bundle.pem", directory / "server.pem",
                         directory / "server-key.pem")
    paths.ca.write_bytes(ca_pem)
    paths.cert.write_bytes(cert.public_bytes(pem) + ca_pem)
    private = key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    paths.key.write_bytes(private)
    paths.key.chmod(0o600)
    paths.bundle.write_bytes(_public_roots() + b"\n" + ca_pem)
    return paths


def _public_roots() -> bytes:
    """The CA bundle requests would use, so REQUESTS_CA_BUNDLE=bundle keeps other https working."""
    try:
        import certifi
    except ImportError:
        return b""
    return Path(certifi.where()).read_bytes()
