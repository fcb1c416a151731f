"""TLS as the suite does it everywhere: the OS trust store (Windows certificate store, macOS keychain, /etc/ssl),
where internal CAs live, unless a PEM bundle is configured. Verification is never switched off."""

from __future__ import annotations

import ssl
from typing import Any

from requests.adapters import HTTPAdapter


class TruststoreAdapter(HTTPAdapter):
    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        import truststore

        kwargs["ssl_context"] = truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        super().init_poolmanager(*args, **kwargs)
