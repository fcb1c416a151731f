"""The sandbox's own PKI: a root CA, an issuing CA under it, and the HTTPS server certificate.

Like a customer's internal CA, the suite trusts it only through `ca_bundle`, never by switching verification off.
Made at a start; kept from one start to the next by sandbox/identity.py when the sandbox has a home folder.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


@dataclass(frozen=True)
class CertificateAuthority:
    cert: x509.Certificate
    key: PrivateKey

    @property
    def name(self) -> str:
        return self.cert.subject.rfc4514_string()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _name(common_name: str) -> x509.Name:
    # Most general first, as real CAs encode it, so that it reads "CN=…,O=…" in Keyfactor's DN fields.
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Keyfactor Smoke Sandbox"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _ca(subject: str, issuer: CertificateAuthority | None, path_length: int, valid_days: int) -> CertificateAuthority:
    key = ec.generate_private_key(ec.SECP256R1())
    name = _name(subject)
    issuer_name = issuer.cert.subject if issuer else name
    signing_key = issuer.key if issuer else key
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(_now() - dt.timedelta(hours=1))
        .not_valid_after(_now() + dt.timedelta(days=valid_days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True, crl_sign=True,
                encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if issuer:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), critical=False
        )
    return CertificateAuthority(builder.sign(signing_key, hashes.SHA256()), key)


@dataclass(frozen=True)
class SandboxPKI:
    root: CertificateAuthority
    issuing: CertificateAuthority

    @classmethod
    def create(cls, label: str = "Sandbox", valid_days: int = 30) -> SandboxPKI:
        root = _ca(f"Keyfactor Smoke {label} Root CA", None, path_length=1, valid_days=valid_days)
        return cls(root, _ca(f"Keyfactor Smoke {label} Issuing CA 1", root, path_length=0, valid_days=valid_days))

    def server_certificate(self, hostnames: list[str], valid_days: int = 7) -> tuple[x509.Certificate, PrivateKey]:
        """A TLS server certificate issued by the issuing CA, like an IIS binding's."""
        key = ec.generate_private_key(ec.SECP256R1())
        sans: list[x509.GeneralName] = []
        for host in hostnames:
            try:
                sans.append(x509.IPAddress(ipaddress.ip_address(host)))
            except ValueError:
                sans.append(x509.DNSName(host))
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name(hostnames[0]))
            .issuer_name(self.issuing.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(_now() - dt.timedelta(minutes=5))
            .not_valid_after(_now() + dt.timedelta(days=valid_days))
            .add_extension(x509.SubjectAlternativeName(sans), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.issuing.key.public_key()),
                critical=False,
            )
            .sign(self.issuing.key, hashes.SHA256())
        )
        return cert, key

    def write_server_files(self, directory: Path, hostnames: list[str],
                           server: tuple[x509.Certificate, PrivateKey] | None = None) -> tuple[Path, Path, Path]:
        """Writes (server chain PEM, server key PEM, CA bundle PEM) into `directory`: `server`'s certificate and
        key, or a new one for `hostnames`."""
        cert, key = server or self.server_certificate(hostnames)
        chain = directory / "server-chain.pem"
        key_file = directory / "server-key.pem"
        bundle = directory / "ca-bundle.pem"
        chain.write_bytes(pem(cert) + pem(self.issuing.cert))
        key_file.write_bytes(key_pem(key))
        key_file.chmod(0o600)
        bundle.write_bytes(pem(self.root.cert))
        return chain, key_file, bundle


def pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def key_pem(key: PrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())
