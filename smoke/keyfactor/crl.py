"""A downloaded CRL judged: a CRL at all (DER or PEM), signed by its CA, and valid for at least the margin.
Knows nothing of HTTP or pytest."""

from __future__ import annotations

import datetime as dt

from cryptography import x509

from smoke.keyfactor.finding import Finding
from smoke.keyfactor.issuers import Issuers, common_name
from smoke.keyfactor.names import dn_text

REPUBLISH = ("the CA no longer publishes this CRL in time: publish it (certutil -CRL), then check the CA service, its "
             "CRL publication schedule and the copy to this location")


def parse(content: bytes) -> x509.CertificateRevocationList | None:
    try:
        if content.lstrip().startswith(b"-----BEGIN"):
            return x509.load_pem_x509_crl(content)
        return x509.load_der_x509_crl(content)
    except ValueError:
        return None


def judge(content: bytes, content_type: str, issuers: Issuers, min_left: dt.timedelta, now: dt.datetime) -> Finding:
    crl = parse(content)
    if crl is None:
        return Finding(False, f"answered {content_type or 'no Content-Type'} ({len(content)} bytes), not a CRL",
                       "a proxy, an error page or another file answers at this location — make the CDP's web server "
                       "serve the CA's .crl file")
    issuer = dn_text(crl.issuer)
    candidates = issuers.named(crl.issuer)
    if not candidates:
        return Finding(False, f"issued by {issuer}, whose CA certificate is not in [operations] issuer_certificates",
                       "add that CA's certificate (PEM) to issuer_certificates so that the signature can be checked")
    if not any(crl.is_signature_valid(ca.public_key()) for ca in candidates):  # type: ignore[arg-type]
        return Finding(False, f"not signed by {issuer}: the signature does not verify with the CA's key",
                       "this location serves a CRL of another key (a stale copy, or the CA was renewed): publish the "
                       "CA's current CRL here (certutil -CRL) and check the copy job")
    next_update = crl.next_update_utc
    if next_update is None:
        return Finding(False, f"CRL of {common_name(crl.issuer)} has no next update", REPUBLISH)
    left = next_update - now
    when = f"{next_update:%Y-%m-%d %H:%M} UTC"
    if left <= dt.timedelta(0):
        return Finding(False, f"expired: its next update {when} passed {_hours(-left)} ago", REPUBLISH)
    if left < min_left:
        return Finding(False, f"next update {when}, in {_hours(left)}: less than the "
                              f"{_hours(min_left)} of [operations] crl_min_hours_left", REPUBLISH)
    revoked = sum(1 for _ in crl)
    return Finding(True, f"CRL of {common_name(crl.issuer)}, signature valid, this update "
                         f"{crl.last_update_utc:%Y-%m-%d %H:%M} UTC, next update {when} ({_hours(left)} left), "
                         f"{revoked} revoked")


def _hours(delta: dt.timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:.0f} h" if hours >= 10 else f"{hours:.1f} h"
