"""An NSS certificate database that trusts given CA certificates for TLS servers — what `certutil -A -t "C,,"`
does, through libnss3 itself (Chromium on Linux links it, so it is there wherever the browser is; certutil
often is not). Chromium on Linux reads locally trusted CAs from $HOME/.pki/nssdb. Linux only.
"""

from __future__ import annotations

import base64
import ctypes
import ctypes.util
import re
import threading
from pathlib import Path

CERTDB_VALID_CA = 1 << 3
CERTDB_TRUSTED_CA = 1 << 4  # certutil's "C": a trusted CA for TLS servers
_PEM = re.compile(rb"-----BEGIN CERTIFICATE-----(.*?)-----END CERTIFICATE-----", re.S)
_NSS = threading.Lock()  # NSS is initialised once per process: one database at a time (browsers start side by side)


class NssError(Exception):
    pass


class _SECItem(ctypes.Structure):
    _fields_ = [("type", ctypes.c_int), ("data", ctypes.c_void_p), ("len", ctypes.c_uint)]


class _CERTCertTrust(ctypes.Structure):
    _fields_ = [("sslFlags", ctypes.c_uint), ("emailFlags", ctypes.c_uint), ("objectSigningFlags", ctypes.c_uint)]


def _library() -> ctypes.CDLL:
    name = ctypes.util.find_library("nss3") or "libnss3.so"
    try:
        nss = ctypes.CDLL(name)
    except OSError:
        raise NssError("libnss3 is not installed") from None
    nss.NSS_InitReadWrite.argtypes = [ctypes.c_char_p]
    nss.PK11_GetInternalKeySlot.restype = ctypes.c_void_p
    nss.PK11_NeedUserInit.argtypes = [ctypes.c_void_p]
    nss.PK11_InitPin.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_char_p]
    nss.CERT_GetDefaultCertDB.restype = ctypes.c_void_p
    nss.CERT_NewTempCertificate.restype = ctypes.c_void_p
    nss.CERT_NewTempCertificate.argtypes = [ctypes.c_void_p, ctypes.POINTER(_SECItem), ctypes.c_char_p,
                                            ctypes.c_int, ctypes.c_int]
    nss.PK11_ImportCert.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_ulong, ctypes.c_char_p, ctypes.c_int]
    nss.CERT_ChangeCertTrust.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.POINTER(_CERTCertTrust)]
    nss.CERT_DestroyCertificate.argtypes = [ctypes.c_void_p]
    nss.PK11_FreeSlot.argtypes = [ctypes.c_void_p]
    return nss


def certificates(pem_file: Path) -> list[bytes]:
    """The DER certificates of a PEM bundle."""
    try:
        text = pem_file.read_bytes()
    except OSError as exc:
        raise NssError(f"cannot read {pem_file} ({exc.strerror})") from None
    found = [base64.b64decode(b"".join(body.split())) for body in _PEM.findall(text)]
    if not found:
        raise NssError(f"{pem_file} holds no PEM certificate")
    return found


def trust_for_tls(database: Path, ca_bundle: Path) -> None:
    """Creates (or extends) the NSS database at `database` so that it trusts every certificate of `ca_bundle`
    as a CA for TLS servers. Nothing else: no e-mail or code-signing trust, no private keys."""
    ders = certificates(ca_bundle)
    database.mkdir(parents=True, exist_ok=True)
    with _NSS:
        _trust(_library(), database, ders, ca_bundle)


def _trust(nss: ctypes.CDLL, database: Path, ders: list[bytes], ca_bundle: Path) -> None:
    if nss.NSS_InitReadWrite(f"sql:{database}".encode()) != 0:
        raise NssError(f"cannot create the NSS database in {database}")
    slot = nss.PK11_GetInternalKeySlot()
    try:
        if nss.PK11_NeedUserInit(slot) and nss.PK11_InitPin(slot, None, b"") != 0:
            raise NssError("cannot initialise the NSS database (empty password)")
        for index, der in enumerate(ders):
            buffer = ctypes.create_string_buffer(der, len(der))
            item = _SECItem(0, ctypes.cast(buffer, ctypes.c_void_p), len(der))
            cert = nss.CERT_NewTempCertificate(nss.CERT_GetDefaultCertDB(), ctypes.byref(item), None, 0, 1)
            if not cert:
                raise NssError(f"certificate {index + 1} of {ca_bundle} is not a valid X.509 certificate")
            try:
                if nss.PK11_ImportCert(slot, cert, 0, f"kf-smoke-ca-{index + 1}".encode(), 0) != 0:
                    raise NssError(f"cannot import certificate {index + 1} of {ca_bundle}")
                trust = _CERTCertTrust(CERTDB_VALID_CA | CERTDB_TRUSTED_CA, 0, 0)
                if nss.CERT_ChangeCertTrust(nss.CERT_GetDefaultCertDB(), cert, ctypes.byref(trust)) != 0:
                    raise NssError(f"cannot trust certificate {index + 1} of {ca_bundle}")
            finally:
                nss.CERT_DestroyCertificate(cert)
    finally:
        nss.PK11_FreeSlot(slot)
        nss.NSS_Shutdown()
