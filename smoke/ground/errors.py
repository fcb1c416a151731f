"""Errors a user can meet. Each one's str() is ONE line naming the cause and the fix."""


class SmokeError(Exception):
    """A failure with a known cause: shown as its one line, never as a traceback."""


class ConfigError(SmokeError):
    """The environment file or the command line is wrong."""


class KerberosError(SmokeError):
    """No usable Kerberos ticket, or the KDC cannot give one for the server's SPN."""


class ApiError(SmokeError):
    """The Keyfactor API did not give the answer the check needs."""


class ApiUnreachable(ApiError):
    """No HTTP answer at all: refused, unresolvable, timed out, TLS failed."""


class ApiAuthenticationFailed(ApiError):
    """The server answered 401/403 after the client authenticated."""


class ApiUnexpectedAnswer(ApiError):
    """An answer that is not the JSON the API documents: an HTML page, a redirect, an error page."""


class ApiIntercepted(ApiUnexpectedAnswer):
    """Something other than Keyfactor answers for it (a proxy's sign-in page, a redirect to a login)."""


class Blocked(SmokeError):
    """A prerequisite (the API, the browser, the database) failed earlier in this run: the check is skipped
    with that root cause instead of repeating the same timeout."""


class ApiFailing(ApiError):
    """The API answers every call with 5xx (its application pool is stopped or failing): one root cause for the run."""
