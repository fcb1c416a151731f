"""What an administrator set on each certificate template in Keyfactor (GET /Templates/{id},
Models.TemplateRetrievalResponse): policy (RSA key sizes, ECC curves, key reuse, wildcards, RFC 2818), subject
regexes and defaults, metadata and enrollment fields, allowed requesters, key retention — and the system-wide
template settings (GET /Templates/Settings) that a template's policy falls back to.

The templates themselves (names, OIDs, key types) are the inventory's; this adds more of them across three
forests, and at the large scale thousands of application templates.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from ..inventory import PARTNER_FOREST
from ..templates import CLIENT_AUTH, CURVES, FOREST, SECURE_EMAIL, SERVER_AUTH, Eku, Template
from .common import DOMAINS, FORESTS, LAB_FOREST

P256, P384 = CURVES["P-256"][1], CURVES["P-384"][1]
CODE_SIGNING = Eku(4, "1.3.6.1.5.5.7.3.3", "Code Signing")
_OID_BASE = {
    FOREST: "1.3.6.1.4.1.311.21.8.7720317.13478329.1605123.8711612.10485126",
    PARTNER_FOREST: "1.3.6.1.4.1.311.21.8.5512081.2250961.9912044.1208834.4420197",
    LAB_FOREST: "1.3.6.1.4.1.311.21.8.9013377.4410273.3318120.6620917.1199342",
}
_ORGANISATION = {FOREST: "Example Corp", PARTNER_FOREST: "Example Partner Ltd", LAB_FOREST: "Example Corp Lab"}


@dataclass(frozen=True)
class Policy:
    rsa_sizes: tuple[int, ...] = (2048, 4096)
    curves: tuple[str, ...] = (P256, P384)
    key_reuse: bool = False
    wildcards: bool = False
    rfc_2818: bool = False

    def response(self) -> dict[str, Any]:
        return {"RSAValidKeySizes": list(self.rsa_sizes), "ECCValidCurves": list(self.curves),
                "AllowKeyReuse": self.key_reuse, "AllowWildcards": self.wildcards, "RFCEnforcement": self.rfc_2818}


SYSTEM_POLICY = Policy()  # GET /Templates/Settings; what "reset to defaults" brings a template back to


@dataclass(frozen=True)
class Profile:
    """One template's settings in Keyfactor (beyond what Active Directory holds)."""

    policy: Policy = SYSTEM_POLICY
    regexes: tuple[tuple[str, str, str], ...] = ()  # (SubjectPart, Regex, Error)
    defaults: tuple[tuple[str, str], ...] = ()  # (SubjectPart, Value)
    metadata: tuple[tuple[int, str, int], ...] = ()  # (MetadataId, DefaultValue, Enrollment: optional 0, required 1)
    enrollment_fields: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (Name, Options); options make a choice
    requesters: tuple[str, ...] = ()
    key_retention: tuple[int, int] = (0, 0)  # (KeyRetention, KeyRetentionDays)
    rfc_2818: bool = True


def _hosts(forest: str) -> tuple[str, str, str]:
    domain = forest.replace(".", r"\.")
    return ("CN", rf"^(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)*\.{domain}$", f"The common name must be a host in {forest}")


def _subject_defaults(forest: str) -> tuple[tuple[str, str], ...]:
    return (("O", _ORGANISATION[forest]), ("L", "Springfield"), ("ST", "Illinois"), ("C", "US"))


# Metadata field ids: see server.METADATA_FIELDS.
APP_OWNER, ENVIRONMENT, TICKET, BUSINESS_CRITICAL, DEPARTMENT = 1, 2, 3, 4, 5
_WEB_METADATA = ((APP_OWNER, "", 1), (ENVIRONMENT, "Production", 1), (TICKET, "", 0))
_WEB_FIELDS = (("Change ticket", ()), ("Server role", ("Web front end", "Load balancer", "API gateway")))

NAMED: dict[tuple[str, str], Profile] = {
    (FOREST, "WebServer"): Profile(
        Policy(rsa_sizes=(2048, 3072, 4096), wildcards=True, rfc_2818=True), (_hosts(FOREST),),
        _subject_defaults(FOREST), _WEB_METADATA, _WEB_FIELDS),
    (FOREST, "WebServerECC"): Profile(
        Policy(rsa_sizes=(), curves=(P256, P384), wildcards=True, rfc_2818=True), (_hosts(FOREST),),
        _subject_defaults(FOREST), _WEB_METADATA, _WEB_FIELDS),
    (FOREST, "WebServerApproval"): Profile(
        Policy(rsa_sizes=(2048, 3072, 4096), rfc_2818=True), (_hosts(FOREST),), _subject_defaults(FOREST),
        (*_WEB_METADATA, (BUSINESS_CRITICAL, "true", 1)), _WEB_FIELDS, key_retention=(1, 0)),
    (FOREST, "User"): Profile(
        Policy(rsa_sizes=(2048,)), (("E", r"^[^@\s]+@corp\.example\.com$", "Use your corporate mail address"),),
        _subject_defaults(FOREST), ((DEPARTMENT, "", 1),), requesters=("CORP\\Domain Users",), rfc_2818=False),
    (FOREST, "CorpVPN"): Profile(
        Policy(rsa_sizes=(2048, 4096), key_reuse=True), (), _subject_defaults(FOREST), ((DEPARTMENT, "", 0),),
        requesters=("CORP\\VPN Users",), rfc_2818=False),
    (PARTNER_FOREST, "CorpVPN"): Profile(
        Policy(rsa_sizes=(2048,)), (), _subject_defaults(PARTNER_FOREST), requesters=("PARTNER\\VPN Users",),
        rfc_2818=False),
    (FOREST, "CodeSigning"): Profile(
        Policy(rsa_sizes=(3072, 4096)), (("CN", r"^[A-Za-z0-9 .-]+$", "Name the signing team"),),
        _subject_defaults(FOREST), ((APP_OWNER, "", 1), (TICKET, "", 1)), (("Release", ()),),
        requesters=("CORP\\Code Signers",), key_retention=(2, 730), rfc_2818=False),
    (FOREST, "DomainController"): Profile(
        Policy(rsa_sizes=(2048, 4096), rfc_2818=True), (_hosts(FOREST),), _subject_defaults(FOREST),
        requesters=("CORP\\Domain Controllers",)),
    (FOREST, "Workstation"): Profile(
        Policy(rsa_sizes=(), curves=(P256,)), (_hosts(FOREST),), _subject_defaults(FOREST),
        requesters=("CORP\\Domain Computers",)),
    (PARTNER_FOREST, "PartnerWebServer"): Profile(
        Policy(rsa_sizes=(2048, 3072), wildcards=True, rfc_2818=True), (_hosts(PARTNER_FOREST),),
        _subject_defaults(PARTNER_FOREST), ((APP_OWNER, "", 1),)),
    (PARTNER_FOREST, "PartnerUser"): Profile(
        Policy(rsa_sizes=(2048,)), (("E", r"^[^@\s]+@partner\.example\.net$", "Use your partner mail address"),),
        _subject_defaults(PARTNER_FOREST), requesters=("PARTNER\\Domain Users",), rfc_2818=False),
    (LAB_FOREST, "LabWebServer"): Profile(
        Policy(rsa_sizes=(2048, 3072, 4096), key_reuse=True, wildcards=True), (_hosts(LAB_FOREST),),
        _subject_defaults(LAB_FOREST), ((ENVIRONMENT, "Test", 0),), rfc_2818=False),
    (LAB_FOREST, "LabDevice"): Profile(
        Policy(rsa_sizes=(), curves=(P256, P384)), (), _subject_defaults(LAB_FOREST),
        requesters=("LAB\\Developers",), key_retention=(3, 30), rfc_2818=False),
}


def _oid(forest: str, number: int) -> str:
    return f"{_OID_BASE[forest]}.{number}"


NAMED_TEMPLATES: tuple[tuple[str, str, str, int, str, dict[str, Any]], ...] = (
    # (forest, short name, display name, key size, key type, Template extras)
    (FOREST, "CodeSigning", "Code Signing", 3072, "RSA",
     {"requires_approval": True, "allowed_enrollment_types": 1, "ekus": (CODE_SIGNING,)}),
    (FOREST, "DomainController", "Domain Controller Authentication", 2048, "RSA",
     {"allowed_enrollment_types": 2, "ekus": (SERVER_AUTH, CLIENT_AUTH)}),
    (FOREST, "Workstation", "Workstation Authentication", 256, "ECC",
     {"allowed_enrollment_types": 2, "ekus": (CLIENT_AUTH,)}),
    (PARTNER_FOREST, "PartnerWebServer", "Partner Web Server", 2048, "RSA", {}),
    (PARTNER_FOREST, "PartnerUser", "Partner User", 2048, "RSA",
     {"allowed_enrollment_types": 1, "ekus": (CLIENT_AUTH, SECURE_EMAIL)}),
    (LAB_FOREST, "LabWebServer", "Lab Web Server", 2048, "RSA", {}),
    (LAB_FOREST, "LabDevice", "Lab Device", 384, "ECC", {"allowed_enrollment_types": 2, "ekus": (CLIENT_AUTH,)}),
)


@dataclass
class TemplateSettings:
    """The templates this configuration adds, and every template's Keyfactor settings."""

    added: list[Template] = field(default_factory=list)
    profiles: dict[tuple[str, str], Profile] = field(default_factory=dict)
    retention_lost: set[tuple[str, str]] = field(default_factory=set)  # fault approval-without-key-retention

    def profile(self, template: Template) -> Profile:
        return self.profiles.get((template.forest_root, template.common_name), Profile())

    def summary(self, template: Template) -> dict[str, Any]:
        """A GET /Templates item (TemplateCollectionRetrievalResponse)."""
        profile = self.profile(template)
        retention, days = profile.key_retention
        if template.requires_approval and not retention and \
                (template.forest_root, template.common_name) not in self.retention_lost:
            retention = 1  # a template that needs approval keeps the keys it generates (vendor §4.2)
        return {
            **template.template_response(),
            "ConfigurationTenant": template.forest_root,
            "KeyRetention": retention,
            "KeyRetentionDays": days,
            "KeyArchival": template.requires_approval,
            "EnrollmentFields": [{"Id": number, "Name": name, "Options": list(options),
                                  "DataType": 2 if options else 1}
                                 for number, (name, options) in enumerate(profile.enrollment_fields, 1)],
            "TemplateRegexes": [{"TemplateId": template.id, "SubjectPart": part, "Regex": regex, "Error": text}
                                for part, regex, text in profile.regexes],
            "UseAllowedRequesters": bool(profile.requesters),
            "AllowedRequesters": list(profile.requesters),
        }

    def detail(self, template: Template) -> dict[str, Any]:
        """GET /Templates/{id} (TemplateRetrievalResponse)."""
        profile = self.profile(template)
        curve = template.curve
        return {
            **self.summary(template),
            "MetadataFields": [{"Id": number, "DefaultValue": default, "MetadataId": metadata, "Validation": "",
                                "Enrollment": enrollment, "Message": ""}
                               for number, (metadata, default, enrollment) in enumerate(profile.metadata, 1)],
            "TemplateDefaults": [{"SubjectPart": part, "Value": value} for part, value in profile.defaults],
            "TemplatePolicy": {"TemplateId": template.id, **profile.policy.response()},
            "RFCEnforcement": profile.rfc_2818,
            "Curve": CURVES[curve][1] if curve else None,
        }


def settings_response() -> dict[str, Any]:
    """GET /Templates/Settings (GlobalTemplateSettingsResponse)."""
    return {
        "TemplateRegexes": [{"SubjectPart": "C", "Regex": "^[A-Z]{2}$", "Error": "Two capital letters (ISO 3166)"},
                            {"SubjectPart": "E", "Regex": r"^[^@\s]+@[^@\s]+$", "Error": "A mail address"}],
        "TemplateDefaults": [{"SubjectPart": "O", "Value": "Example Corp"}, {"SubjectPart": "C", "Value": "US"}],
        "TemplatePolicy": SYSTEM_POLICY.response(),
    }


def build(existing: list[Template], total: int, policy_reset: bool, retention_lost: bool = False) -> TemplateSettings:
    """The named templates beyond the inventory's, generated application templates up to `total`, and the
    profiles; `policy_reset`: the web server template's policy was reset to the system-wide defaults;
    `retention_lost`: the code signing template, which needs approval, no longer keeps private keys."""
    settings = TemplateSettings(profiles=dict(NAMED))
    next_id = max(t.id for t in existing) + 1
    for number, (forest, name, display, size, kind, extra) in enumerate(NAMED_TEMPLATES, 100):
        settings.added.append(Template(next_id, name, display, display, _oid(forest, number), size, kind,
                                       forest_root=forest, **extra))
        next_id += 1
    for n in range(max(total - len(existing) - len(settings.added), 0)):
        forest = FORESTS[n % len(FORESTS)]
        name = f"App{n + 1:04d}"
        ecc = n % 4 == 3
        template = Template(next_id + n, name, f"Application {n + 1:04d}", f"Application {n + 1:04d}",
                            _oid(forest, 1000 + n), 256 if ecc else 2048, "ECC" if ecc else "RSA",
                            forest_root=forest, requires_approval=n % 10 == 7,
                            allowed_enrollment_types=(3, 2, 1)[n % 3])
        settings.added.append(template)
        settings.profiles[(forest, name)] = Profile(
            Policy(rsa_sizes=() if ecc else ((2048, 4096), (3072, 4096), (2048, 3072, 4096))[n % 3],
                   curves=(P256, P384) if ecc else (P256,), key_reuse=n % 6 == 5, wildcards=n % 5 == 0,
                   rfc_2818=n % 2 == 0),
            (_hosts(forest),), _subject_defaults(forest), ((APP_OWNER, "", 1), (ENVIRONMENT, "Production", n % 2)),
            requesters=(f"{DOMAINS[forest]}\\app-team-{n % 500 + 1:04d}",) if n % 3 == 0 else (),
            key_retention=(1, 0) if n % 10 == 7 else (0, 0))
    if policy_reset:
        key = (FOREST, "WebServer")
        settings.profiles[key] = replace(settings.profiles[key], policy=SYSTEM_POLICY)
    if retention_lost:
        key = (FOREST, "CodeSigning")
        settings.profiles[key] = replace(settings.profiles[key], key_retention=(0, 0))
        settings.retention_lost.add(key)
    return settings
