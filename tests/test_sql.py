"""Self-tests of smoke/database/sql.py: pyodbc + FreeTDS against the sandbox's TDS server, TLS included. No mocks."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path

import pyodbc
import pytest

from sandbox.pki import SandboxPKI
from sandbox.tds import TdsServer
from smoke.database import sql
from tests.tds_helpers import DATABASE, PASSWORD, SqlSandbox, freetds_driver, msodbc18_driver, sql_sandbox

TIMEOUT_S = 5.0
Factory = Callable[..., AbstractContextManager[SqlSandbox]]


@pytest.fixture(scope="module")
def pki() -> SandboxPKI:
    return SandboxPKI.create("TDS")


@pytest.fixture
def sandbox_factory(tmp_path: Path, pki: SandboxPKI, monkeypatch: pytest.MonkeyPatch) -> Factory:
    count = iter(range(100))

    def make(**options: object) -> AbstractContextManager[SqlSandbox]:
        directory = tmp_path / f"sql-{next(count)}"
        monkeypatch.setenv("FREETDSCONF", str(directory / "freetds.conf"))
        return sql_sandbox(directory, pki, **options)  # type: ignore[arg-type]

    return make


@pytest.fixture
def healthy(sandbox_factory: Factory) -> Iterator[SqlSandbox]:
    with sandbox_factory() as box:
        yield box


def one_line(error: BaseException) -> str:
    text = str(error)
    assert "\n" not in text and "Traceback" not in text
    assert PASSWORD not in text
    return text


# -- healthy server ---------------------------------------------------------------------------------------


def test_a_healthy_server_gives_an_encrypted_sql_session_over_tcp(healthy: SqlSandbox) -> None:
    with sql.connect(healthy.connection_string(), TIMEOUT_S) as conn:
        assert sql.session_security(conn) == sql.SessionSecurity(True, "SQL", "TCP")
    assert healthy.server.sessions[-1].encryption == "full"  # on the wire, not only in the answer


def test_a_healthy_database_is_at_compatibility_level_150(healthy: SqlSandbox) -> None:
    with sql.connect(healthy.connection_string(), TIMEOUT_S) as conn:
        assert sql.compatibility_level(conn) == (DATABASE, 150)
        _name, level = sql.compatibility_level(conn, "keyfactor")  # names compare case-insensitively
    assert level == 150 and level >= sql.MIN_COMPATIBILITY_LEVEL


def test_a_healthy_server_is_sql_server_2019_and_newer_than_2016_cu2(healthy: SqlSandbox) -> None:
    with sql.connect(healthy.connection_string(), TIMEOUT_S) as conn:
        version = sql.server_version(conn)
    assert version == sql.ServerVersion((15, 0, 4355, 3), "RTM", "Standard Edition (64-bit)")
    assert version.release == "SQL Server 2019" and version.text == "15.0.4355.3"
    assert version.is_at_least(sql.MIN_SERVER_VERSION)


@pytest.mark.parametrize("tds_version", ["7.1", "7.2", "7.3", "7.4"])
def test_every_tds_version_since_sql_server_2000_reads_the_same_answers(
    healthy: SqlSandbox, tds_version: str
) -> None:
    with sql.connect(healthy.connection_string(tds_version=tds_version), TIMEOUT_S) as conn:
        assert sql.session_security(conn).encrypt_option is True
        assert sql.compatibility_level(conn) == (DATABASE, 150)
        assert sql.server_version(conn).version == (15, 0, 4355, 3)


def test_a_server_that_forces_encryption_encrypts_a_client_that_asked_for_none(healthy: SqlSandbox) -> None:
    with sql.connect(healthy.connection_string(validate=False, encryption="off"), TIMEOUT_S) as conn:
        assert sql.session_security(conn).encrypt_option is True


def test_a_database_name_with_a_quote_travels_as_a_literal_and_is_reported_missing(healthy: SqlSandbox) -> None:
    with sql.connect(healthy.connection_string(), TIMEOUT_S) as conn, pytest.raises(sql.DatabaseMissing) as err:
        sql.compatibility_level(conn, "Key'factor")
    assert "Key'factor" in one_line(err.value)
    assert healthy.server.sessions[-1].batches[-1].endswith("WHERE name = N'Key''factor'")


def test_a_query_the_sandbox_does_not_know_is_refused_so_drift_shows(healthy: SqlSandbox) -> None:
    with sql.connect(healthy.connection_string(), TIMEOUT_S) as conn, pytest.raises(pyodbc.Error) as err:
        conn.cursor().execute("SELECT @@VERSION").fetchall()
    assert "Sandbox: query not supported: SELECT @@VERSION" in str(err.value)


# -- the minimum version ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "supported"),
    [
        ((12, 0, 6024, 0), False),  # 2014 SP3
        ((13, 0, 1601, 5), False),  # 2016 RTM
        ((13, 0, 1745, 2), False),  # 2016 RTM GDR: security fixes only, without CU2's
        ((13, 0, 2149, 0), False),  # 2016 RTM CU1
        ((13, 0, 2164, 0), True),  # 2016 RTM CU2
        ((13, 0, 2186, 6), True),  # 2016 RTM CU3
        ((13, 0, 4001, 0), True),  # 2016 SP1
        ((13, 0, 4202, 2), True),  # 2016 SP1 GDR
        ((13, 0, 5026, 0), True),  # 2016 SP2
        ((13, 0, 6300, 2), True),  # 2016 SP3
        ((14, 0, 1000, 169), True),  # 2017 RTM
        ((16, 0, 1000, 6), True),  # 2022 RTM
    ],
)
def test_the_minimum_is_2016_rtm_cu2_and_every_later_service_pack_is_newer(
    build: tuple[int, ...], supported: bool
) -> None:
    assert sql.ServerVersion(build, "RTM", "Standard Edition (64-bit)").is_at_least() is supported


# -- faults -----------------------------------------------------------------------------------------------


def test_the_compat_120_fault_shows_a_level_below_the_minimum(sandbox_factory: Factory) -> None:
    with sandbox_factory(faults={"sql-compat-120"}) as box, sql.connect(box.connection_string(), TIMEOUT_S) as conn:
        name, level = sql.compatibility_level(conn)
    assert (name, level) == (DATABASE, 120) and level < sql.MIN_COMPATIBILITY_LEVEL


def test_the_old_version_fault_shows_2016_rtm_older_than_cu2(sandbox_factory: Factory) -> None:
    with sandbox_factory(faults={"sql-old-version"}) as box, sql.connect(box.connection_string(), TIMEOUT_S) as conn:
        version = sql.server_version(conn)
    assert version.text == "13.0.1601.5" and version.release == "SQL Server 2016"
    assert not version.is_at_least(sql.MIN_SERVER_VERSION)


def test_a_login_without_view_server_state_gets_the_grant_to_run(sandbox_factory: Factory) -> None:
    with (
        sandbox_factory(faults={"sql-no-view-server-state"}) as box,
        sql.connect(box.connection_string(), TIMEOUT_S) as conn,
        pytest.raises(sql.PermissionMissing) as err,
    ):
        sql.session_security(conn)
    assert one_line(err.value) == (
        "SQL: the login cannot read sys.dm_exec_connections — grant VIEW SERVER STATE to it "
        "(GRANT VIEW SERVER STATE TO [login]) so the encryption check can run"
    )


def test_a_server_without_tls_gives_a_plaintext_session_to_a_client_that_allows_it(
    sandbox_factory: Factory,
) -> None:
    with sandbox_factory(faults={"sql-unencrypted"}) as box:
        with sql.connect(box.connection_string(validate=False, encryption="request"), TIMEOUT_S) as conn:
            assert sql.session_security(conn).encrypt_option is False
        assert box.server.sessions[-1].encryption == "none"


def test_a_server_without_tls_is_one_clear_line_for_a_client_that_requires_encryption(
    sandbox_factory: Factory,
) -> None:
    with sandbox_factory(faults={"sql-unencrypted"}) as box, pytest.raises(sql.EncryptionUnavailable) as err:
        sql.connect(box.connection_string(validate=False, encryption="require"), TIMEOUT_S)
    assert "does not support encryption" in one_line(err.value) and "Force Encryption" in str(err.value)


def test_optional_encryption_protects_only_the_login_of_a_client_that_does_not_ask(
    sandbox_factory: Factory,
) -> None:
    with sandbox_factory(faults={"sql-encryption-optional"}) as box:
        with sql.connect(box.connection_string(validate=False, encryption="request"), TIMEOUT_S) as conn:
            assert sql.session_security(conn).encrypt_option is False
        assert box.server.sessions[-1].encryption == "login-only"
        with sql.connect(box.connection_string(encryption="require"), TIMEOUT_S) as conn:
            assert sql.session_security(conn).encrypt_option is True


# -- connection failures ----------------------------------------------------------------------------------


def test_a_certificate_from_an_unknown_ca_is_untrusted_in_the_vendors_words(
    sandbox_factory: Factory,
) -> None:
    with sandbox_factory(trusted=SandboxPKI.create("Other")) as box, pytest.raises(sql.UntrustedCertificate) as err:
        sql.connect(box.connection_string(), TIMEOUT_S)
    text = one_line(err.value)
    assert "Encountered an invalid or untrusted certificate" in text and "TLS encryption is enabled by default" in text
    assert "TrustServerCertificate=yes only as a stop-gap" in text


def test_a_certificate_for_another_host_name_is_untrusted(sandbox_factory: Factory) -> None:
    with sandbox_factory(hostnames=("sql.example.test",)) as box, pytest.raises(sql.UntrustedCertificate):
        sql.connect(box.connection_string(), TIMEOUT_S)


def test_a_wrong_password_is_a_one_line_login_failure_without_the_password(healthy: SqlSandbox) -> None:
    with pytest.raises(sql.LoginFailed) as err:
        sql.connect(healthy.connection_string(password="Wrong-pw-123"), TIMEOUT_S)
    text = one_line(err.value)
    assert "login failed for user 'kf_smoke'" in text and "Wrong-pw-123" not in text


def test_a_database_the_login_cannot_open_is_named(healthy: SqlSandbox) -> None:
    # LoginFailed with FreeTDS, which shows only the 18456 that follows SQL Server's 4060.
    with pytest.raises((sql.LoginFailed, sql.DatabaseMissing)) as err:
        sql.connect(healthy.connection_string(database="KeyfactorOld"), TIMEOUT_S)
    assert "'KeyfactorOld'" in one_line(err.value)


def test_nothing_listening_is_one_line_unreachable_error(sandbox_factory: Factory) -> None:
    with sandbox_factory(faults={"sql-down"}) as box, pytest.raises(sql.ServerUnreachable) as err:
        sql.connect(box.connection_string(validate=False), TIMEOUT_S)
    assert f"127.0.0.1,{box.server.port} (connection refused)" in one_line(err.value)


def test_a_server_that_never_answers_the_login_is_a_timeout(sandbox_factory: Factory) -> None:
    with sandbox_factory(faults={"sql-hang"}) as box, pytest.raises(sql.SqlTimeout) as err:
        sql.connect(box.connection_string(validate=False), 1)
    assert "while logging in" in one_line(err.value)


def test_a_query_that_never_completes_is_a_timeout(sandbox_factory: Factory) -> None:
    with (
        sandbox_factory(faults={"sql-slow-query"}) as box,
        sql.connect(box.connection_string(), 1) as conn,
        pytest.raises(sql.SqlTimeout) as err,
    ):
        sql.server_version(conn)
    assert "reading SERVERPROPERTY got no answer within 1 s" in one_line(err.value)


def test_a_missing_odbc_driver_is_named_with_how_to_install_one(healthy: SqlSandbox) -> None:
    connection_string = healthy.connection_string().replace(freetds_driver(), "{ODBC Driver 18 for SQL Server}")
    if "ODBC Driver 18 for SQL Server" in pyodbc.drivers():
        pytest.skip("Microsoft ODBC Driver 18 is installed here")
    with pytest.raises(sql.DriverMissing) as err:
        sql.connect(connection_string, TIMEOUT_S)
    text = one_line(err.value)
    assert "'ODBC Driver 18 for SQL Server' is not installed" in text and "apt install tdsodbc" in text


# -- redaction and the sandbox's own contract -------------------------------------------------------------


@pytest.mark.parametrize(
    ("connection_string", "redacted"),
    [
        ("DRIVER={FreeTDS};UID=kf;PWD=s3cret;DATABASE=K", "DRIVER={FreeTDS};UID=kf;PWD=***;DATABASE=K"),
        ("Server=x;pwd = s3cret", "Server=x;pwd = ***"),
        ("UID=kf;PWD= {a;b};X=1", "UID=kf;PWD= ***;X=1"),
        ("UID=kf;PWD={a;b}}c};Encrypt=yes", "UID=kf;PWD=***;Encrypt=yes"),
        ("Password=s3cret;UID=kf", "Password=***;UID=kf"),
        ("UID=kf;PWD={unclosed;DATABASE=K", "UID=kf;PWD=***"),
        ("DRIVER={ODBC Driver 18};SERVER=h,1433;Trusted_Connection=yes", "DRIVER={ODBC Driver 18};SERVER=h,1433;"
         "Trusted_Connection=yes"),
    ],
)
def test_redaction_hides_every_spelling_of_the_password(connection_string: str, redacted: str) -> None:
    assert sql.redact_connection_string(connection_string) == redacted


def test_the_sandbox_refuses_a_fault_it_does_not_know(pki: SandboxPKI, tmp_path: Path) -> None:
    chain, key, _bundle = pki.write_server_files(tmp_path, ["localhost"])
    with pytest.raises(ValueError, match="sql-typo"):
        TdsServer(certfile=str(chain), keyfile=str(key), faults={"sql-typo"})


# -- Microsoft ODBC Driver 18, when present (never required) ---------------------------------------------


@pytest.fixture
def driver18() -> str:
    driver = msodbc18_driver()
    if driver is None:
        pytest.skip("Microsoft ODBC Driver 18 is not installed (optional: pip install mssql-python-odbc)")
    return driver


def test_driver18_gets_an_encrypted_session_once_it_trusts_the_servers_ca(
    sandbox_factory: Factory, driver18: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with sandbox_factory() as box:
        monkeypatch.setenv("SSL_CERT_FILE", str(box.ca_bundle))  # the driver's OpenSSL reads it per connection
        with sql.connect(box.driver18_connection_string(driver18), TIMEOUT_S) as conn:
            assert sql.session_security(conn) == sql.SessionSecurity(True, "SQL", "TCP")
            assert sql.compatibility_level(conn) == (DATABASE, 150)
            assert sql.server_version(conn).is_at_least()


def test_driver18_reports_an_unknown_ca_in_the_vendors_words(
    sandbox_factory: Factory, driver18: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    with sandbox_factory() as box, pytest.raises(sql.UntrustedCertificate) as err:
        sql.connect(box.driver18_connection_string(driver18), TIMEOUT_S)
    assert "certificate verify failed" in one_line(err.value)
    assert "Encountered an invalid or untrusted certificate" in str(err.value)


def test_driver18_against_a_server_without_tls(sandbox_factory: Factory, driver18: str) -> None:
    with sandbox_factory(faults={"sql-unencrypted"}) as box:
        with pytest.raises(sql.EncryptionUnavailable):
            sql.connect(box.driver18_connection_string(driver18, encrypt="yes"), TIMEOUT_S)
        with sql.connect(box.driver18_connection_string(driver18, encrypt="no"), TIMEOUT_S) as conn:
            assert sql.session_security(conn).encrypt_option is False


def test_driver18_names_a_database_the_login_cannot_open(
    sandbox_factory: Factory, driver18: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with sandbox_factory() as box, pytest.raises(sql.DatabaseMissing) as err:
        monkeypatch.setenv("SSL_CERT_FILE", str(box.ca_bundle))
        sql.connect(box.driver18_connection_string(driver18, database="KeyfactorOld"), TIMEOUT_S)
    assert "'KeyfactorOld'" in one_line(err.value)


def test_driver18_reports_a_refused_port_as_unreachable_not_as_a_timeout(
    sandbox_factory: Factory, driver18: str
) -> None:
    with sandbox_factory(faults={"sql-down"}) as box, pytest.raises(sql.ServerUnreachable) as err:
        sql.connect(box.driver18_connection_string(driver18), 2)
    assert "(connection refused)" in one_line(err.value)


def test_driver18_strict_encryption_against_sql_server_2019_says_it_needs_2022(
    sandbox_factory: Factory, driver18: str
) -> None:
    with sandbox_factory() as box, pytest.raises(sql.ServerUnreachable) as err:
        sql.connect(box.driver18_connection_string(driver18, encrypt="strict"), TIMEOUT_S)
    assert "Encrypt=strict (TDS 8.0) needs SQL Server 2022" in one_line(err.value)
