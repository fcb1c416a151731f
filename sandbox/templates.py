"""Certificate templates as the sandbox's Keyfactor knows them: key rules, EKUs, enrollment types, their JSON.

The four default templates are the ones enrollment offers (GET /Enrollment/{CSR,PFX}/Context/My); inventory adds
more to GET /Templates. Field formats: see certificate_fields.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID

FOREST = "corp.example.com"

CURVES: dict[str, tuple[type[ec.EllipticCurve], str]] = {
    "P-256": (ec.SECP256R1, "1.2.840.10045.3.1.7"),
    "P-384": (ec.SECP384R1, "1.3.132.0.34"),
}
_CURVE_BY_SIZE = {256: "P-256", 384: "P-384"}


@dataclass(frozen=True)
class Eku:
    id: int  # Keyfactor's database id; 1 = Server Authentication as recorded, the others are sandbox ids
    oid: str
    display_name: str

    def as_json(self) -> dict[str, Any]:
        return {"Id": self.id, "Oid": self.oid, "DisplayName": self.display_name}


SERVER_AUTH = Eku(1, ExtendedKeyUsageOID.SERVER_AUTH.dotted_string, "Server Authentication")
CLIENT_AUTH = Eku(2, ExtendedKeyUsageOID.CLIENT_AUTH.dotted_string, "Client Authentication")
SECURE_EMAIL = Eku(3, ExtendedKeyUsageOID.EMAIL_PROTECTION.dotted_string, "Secure Email")
ANY_PURPOSE = Eku(24, "2.5.29.37.0", "Any Purpose")
EKUS_BY_OID = {e.oid: e for e in (SERVER_AUTH, CLIENT_AUTH, SECURE_EMAIL, ANY_PURPOSE)}


@dataclass(frozen=True)
class Template:
    """A certificate template as the sandbox serves it (GET /Templates, /Enrollment/*/Context/My)."""

    id: int
    common_name: str  # the short name enrollment requests send as "Template"
    template_name: str  # the full display name, as in CertificateRetrievalResponse.TemplateName
    display_name: str
    oid: str
    key_size: int  # RSA: minimum modulus size; ECC: the curve size (P-256 → 256)
    key_type: str  # "RSA" or "ECC"
    forest_root: str = FOREST
    requires_approval: bool = False
    allowed_enrollment_types: int = 3  # bitmask: 1 PFX, 2 CSR, 3 both
    validity_days: int = 365
    ekus: tuple[Eku, ...] = field(default=(SERVER_AUTH,))

    @property
    def allows_pfx(self) -> bool:
        return bool(self.allowed_enrollment_types & 1)

    @property
    def allows_csr(self) -> bool:
        return bool(self.allowed_enrollment_types & 2)

    @property
    def curve(self) -> str | None:
        """ "P-256"/"P-384" for ECC templates."""
        return _CURVE_BY_SIZE.get(self.key_size) if self.key_type == "ECC" else None

    def template_response(self) -> dict[str, Any]:
        """GET /Templates item (TemplateCollectionRetrievalResponse)."""
        return {
            "Id": self.id,
            "CommonName": self.common_name,
            "TemplateName": self.template_name,
            "Oid": self.oid,
            "KeySize": str(self.key_size),
            "KeyType": self.key_type,
            "ForestRoot": self.forest_root,
            "FriendlyName": self.display_name,
            # A template that needs approval keeps the keys it generates for PFX enrollments (vendor §4.2).
            "KeyRetention": 1 if self.requires_approval else 0,
            "KeyRetentionDays": 0,
            "KeyArchival": False,
            "EnrollmentFields": [],
            # The spec's enum says [0, 1, 2, 4]; Keyfactor documents a bitmask and returns 3 for both.
            "AllowedEnrollmentTypes": self.allowed_enrollment_types,
            "TemplateRegexes": [],
            "UseAllowedRequesters": False,
            "AllowedRequesters": [],
            "DisplayName": self.display_name,
            "RequiresApproval": self.requires_approval,
            "KeyUsage": _key_usage_code(self.key_type),
            "ExtendedKeyUsages": [e.as_json() for e in self.ekus],
        }

    def enrollment_template(self, ca_names: Sequence[str] = ()) -> dict[str, Any]:
        """An item of EnrollmentTemplateCAResponse.Templates (GET /Enrollment/{PFX,CSR}/Context/My)."""
        curve = self.curve
        return {
            "Id": self.id,
            "Name": self.common_name,
            "DisplayName": self.display_name,
            "Forest": self.forest_root,
            "KeySize": str(self.key_size),
            "KeyType": self.key_type,
            "RequiresApproval": self.requires_approval,
            "RFCEnforcement": False,
            "CAs": [{"Name": name, "RFCEnforcement": False, "SubscriberTerms": False} for name in ca_names],
            "EnrollmentFields": [],
            "MetadataFields": [],
            "Regexes": [],
            "ExtendedKeyUsages": [e.as_json() for e in self.ekus],
            "Curve": CURVES[curve][1] if curve else None,  # OID, as 25.4 lists curves; 10.x format unknown
        }


def _template_oid(n: int) -> str:
    return f"1.3.6.1.4.1.311.21.8.7720317.13478329.1605123.8711612.10485126.{n}"


DEFAULT_TEMPLATES: tuple[Template, ...] = (
    Template(1, "WebServer", "Web Server", "Web Server", _template_oid(1), 2048, "RSA"),
    Template(2, "WebServerECC", "Web Server ECC", "Web Server ECC", _template_oid(2), 256, "ECC"),
    Template(
        3,
        "WebServerApproval",
        "Web Server (Manager Approval)",
        "Web Server (Manager Approval)",
        _template_oid(3),
        2048,
        "RSA",
        requires_approval=True,
    ),
    Template(
        4,
        "User",
        "User",
        "User",
        _template_oid(4),
        2048,
        "RSA",
        allowed_enrollment_types=1,
        ekus=(CLIENT_AUTH, SECURE_EMAIL),
    ),
)


def find_template(name: str, templates: Sequence[Template] = DEFAULT_TEMPLATES) -> Template | None:
    """The template whose short name (CommonName) is `name`, ignoring case, as enrollment requests name it."""
    wanted = name.strip().casefold()
    return next((t for t in templates if t.common_name.casefold() == wanted), None)


def _key_usage_code(key_type: str) -> int:
    # X509KeyUsageFlags: DigitalSignature 128 + KeyEncipherment 32 = 160 (recorded for RSA).
    return 160 if key_type == "RSA" else 128
