"""The CA certificates that revocation answers are checked against ([operations] issuer_certificates), and the
signature checks themselves. Knows nothing of HTTP or pytest."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed448, ed25519, padding, rsa

from smoke.ground.errors import ConfigError
from smoke.keyfactor.certs import parse_certificates
from smoke.keyfactor.names import CertificateError, dn_text


@dataclass(frozen=True)
class Issuers:
    certificates: tuple[x509.Certificate, ...] = ()

    @classmethod
    def load(cls, paths: Sequence[str]) -> Issuers:
        found: list[x509.Certificate] = []
        for path in paths:
            try:
                found += parse_certificates(Path(path).read_bytes())
            except OSError as exc:
                raise ConfigError(f"[operations] issuer_certificates: {path} cannot be read ({exc.strerror or exc}) "
                                  "— point it at a PEM file of CA certificates") from None
            except CertificateError as exc:
                raise ConfigError(f"[operations] issuer_certificates: {path} holds no PEM certificate ({exc}) — "
                                  "export the CA certificates as Base-64 (PEM)") from None
        return cls(tuple(found))

    def named(self, name: x509.Name) -> list[x509.Certificate]:
        """Every certificate of a CA with this name (a renewed CA has several keys)."""
        return [c for c in self.certificates if c.subject == name]

    def by_hashes(self, name_hash: bytes, key_hash: bytes) -> x509.Certificate | None:
        """The CA an OCSP CertID names: SHA-1 of its name and of its public key (RFC 6960)."""
        return next((c for c in self.certificates
                     if name_sha1(c.subject) == name_hash and key_sha1(c.public_key()) == key_hash), None)


def name_sha1(name: x509.Name) -> bytes:
    return hashlib.sha1(name.public_bytes(), usedforsecurity=False).digest()


def key_sha1(public_key: object) -> bytes:
    """SHA-1 of the subjectPublicKey bits: what OCSP's issuerKeyHash and a CA's Subject Key Identifier hold."""
    return x509.SubjectKeyIdentifier.from_public_key(public_key).digest  # type: ignore[arg-type]


def signature_valid(public_key: object, signature: bytes, data: bytes,
                    algorithm: hashes.HashAlgorithm | None) -> bool:
    try:
        if isinstance(public_key, rsa.RSAPublicKey) and algorithm is not None:
            public_key.verify(signature, data, padding.PKCS1v15(), algorithm)
        elif isinstance(public_key, ec.EllipticCurvePublicKey) and algorithm is not None:
            public_key.verify(signature, data, ec.ECDSA(algorithm))
        elif isinstance(public_key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
            public_key.verify(signature, data)
        else:
            return False
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def common_name(name: x509.Name) -> str:
    values = name.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    return str(values[0].value) if values else dn_text(name)
