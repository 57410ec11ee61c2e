"""Client certificates for the sandbox's certificate credential: a fresh key pair and a
self-signed certificate, written as one PEM (key, then certificate) as azure-identity's
``CertificateCredential(certificate_path=...)`` and ``AZURE_CLIENT_CERTIFICATE_PATH`` read it."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

__all__ = ["new_client_certificate", "self_signed", "write_client_certificate"]


def self_signed(common_name: str, days: int) -> tuple[Any, Any]:
    """A new RSA 2048 key and a self-signed certificate for it (cryptography objects), valid from a
    day ago for ``days``: the client certificates here and the token signing key (tokens.py)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=days))
        .sign(key, hashes.SHA256())
    )
    return key, certificate


def new_client_certificate(common_name: str = "o365check sandbox client", days: int = 30) -> tuple[str, str]:
    """A new RSA 2048 key and a self-signed certificate for it, as PEM texts ``(key, certificate)``."""
    from cryptography.hazmat.primitives import serialization

    key, certificate = self_signed(common_name, days)
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    return key_pem, certificate.public_bytes(serialization.Encoding.PEM).decode()


def write_client_certificate(path: str | os.PathLike[str], key_pem: str, certificate_pem: str) -> Path:
    """Write key and certificate to ``path`` (mode 0600: it holds a private key)."""
    target = Path(path)
    descriptor = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="ascii") as file:
        file.write(key_pem + certificate_pem)
    return target
