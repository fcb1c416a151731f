"""The sandbox's Keyfactor log folder: NLog files as Keyfactor Command writes them, still being written.

`<state>/Keyfactor/logs` holds the configuration log (a failed wizard attempt about three hours before
start, then the run that upgraded the database, a little before start), the API log (rotated into
`archives/` shortly after that run), the Portal and Timer Service logs. Their lines are shaped like the
vendor's (upgrade-facts §4): local time with four fractional digits, logger, `[Level]`, ` - `, message;
CRLF line ends; stack traces on continuation lines. Errors from BEFORE the last wizard run are there on
purpose (SQL unreachable while the services were stopped, the failed attempt), so only a scan that starts
at the wizard run is clean. A background thread keeps appending Info lines every few seconds.

Faults: `log-errors` adds errors after the upgrade (the vendor's upgrade-module timeout with its stack
trace, an API error repeated, a Timer Service alert handler error); `logging-stopped` moves the whole
history back and writes nothing more, so that no entry is newer than the freshness limit.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import threading
from dataclasses import dataclass, field
from pathlib import Path

from .faults import ActiveFaults
from .handover import Handover

CONFIGURATION = "Command_Configuration_Log.txt"
API = "Command_KeyfactorAPI_Log.txt"
PORTAL = "Command_Portal_Log.txt"
TIMER = "Command_TimerService_Log.txt"
API_ARCHIVE = "archives/Command_KeyfactorAPI_Log.1.txt"
WRITE_EVERY_S = 3.0
STOPPED_FOR = dt.timedelta(hours=3)  # logging-stopped: the newest entry is this old

# The timeline, back from the sandbox's start.
HISTORY = dt.timedelta(hours=26)
SQL_ERRORS_AT = dt.timedelta(hours=4)  # SQL unreachable before the upgrade
SERVICES_STOPPED = dt.timedelta(hours=3, minutes=15)  # services stopped for the upgrade...
FAILED_WIZARD_AT = dt.timedelta(hours=3, minutes=10)  # ...a first wizard attempt fails on the SQL certificate
WIZARD_AT = dt.timedelta(minutes=35)  # the wizard run that upgraded the database
SERVICES_RESTARTED = dt.timedelta(minutes=22)
API_ROTATED = dt.timedelta(minutes=18)

# The vendor's example lines (upgrade-facts §2, §4; keyfactor-api-notes §3), verbatim after the level.
VENDOR_UPGRADE_ERROR = (
    "Keyfactor.Sql.Management.Upgrade.UpgradePlan", "Error",
    "Failed to run upgrade module CSS.CMS.Install.Upgrade.Scripts.EJBCA_Resolved_Request_Contents_Removal.sql: "
    "Execution Timeout Expired. The timeout period elapsed prior to completion of the operation or the server "
    "is not responding.",
)
VENDOR_SQL_TLS_ERROR = (
    "CSS.CMS.Install.ConfigurationWizard.ViewModels.DatabaseViewModel", "Error",
    "Unable to establish a connection to the database server. Please ensure that the server name is correct and "
    "sufficient privileges have been granted to the connection account.: Encountered an invalid or untrusted "
    "certificate and could not connect to the database. TLS encryption is enabled by default.",
)
# Continuation lines in the shape .NET writes an exception (the frames are illustrative: `at CSS.CMS…`).
UPGRADE_TRACE = [
    "System.Data.SqlClient.SqlException (0x80131904): Execution Timeout Expired.  The timeout period elapsed "
    "prior to completion of the operation or the server is not responding. ---> "
    "System.ComponentModel.Win32Exception (0x80004005): The wait operation timed out",
    "   at System.Data.SqlClient.SqlConnection.OnError(SqlException exception, Boolean breakConnection, "
    "Action`1 wrapCloseInAction)",
    "   at System.Data.SqlClient.SqlCommand.RunExecuteNonQueryTds(String methodName, Boolean async, Int32 timeout)",
    "   at System.Data.SqlClient.SqlCommand.ExecuteNonQuery()",
    "   at CSS.CMS.Install.Upgrade.SqlScriptModule.Execute(IUpgradeContext context)",
    "   at Keyfactor.Sql.Management.Upgrade.UpgradePlan.RunModule(IUpgradeModule module)",
    "ClientConnectionId:6b0f4e1c-2f7a-4d8e-9a51-0c3d2e7b9f14",
    "Error Number:-2,State:0,Class:11",
]
TLS_TRACE = [
    "System.Data.SqlClient.SqlException (0x80131904): A connection was successfully established with the server, "
    "but then an error occurred during the login process. (provider: SSL Provider, error: 0 - The certificate "
    "chain was issued by an authority that is not trusted.)",
    "   at CSS.CMS.Install.ConfigurationWizard.ViewModels.DatabaseViewModel.TestConnection()",
    "   at CSS.CMS.Install.ConfigurationWizard.ViewModels.DatabaseViewModel.Validate()",
]

_API_LOGGER = "Keyfactor.Web.KeyfactorApi.Controllers"
_INFO = {
    API: [
        (f"{_API_LOGGER}.CertificateController", "GET /KeyfactorAPI/Certificates answered 200 in {ms} ms"),
        (f"{_API_LOGGER}.AgentController", "GET /KeyfactorAPI/Agents answered 200 in {ms} ms"),
        (f"{_API_LOGGER}.StatusController", "GET /KeyfactorAPI/Status/Endpoints answered 200 in {ms} ms"),
        ("Keyfactor.Web.Authentication.NegotiateHandler", "Authenticated CORP\\svc-smoke (Kerberos)"),
    ],
    PORTAL: [
        ("Keyfactor.Portal.Controllers.DashboardController", "Dashboard rendered for CORP\\jürgen.weiß in {ms} ms"),
        ("Keyfactor.Portal.Controllers.CertificateCollectionController", "Collection 0 searched: {n} rows"),
    ],
    TIMER: [
        ("CSS.CMS.Core.Services.Timer.TimerService", "Job 'Certificate Authority Synchronization' completed"),
        ("CSS.CMS.Core.Services.Timer.TimerService", "Job 'Expiration Alerts' completed: {n} alerts"),
        ("CSS.CMS.Core.Services.Timer.OrchestratorJobScheduler", "Scheduled {n} orchestrator jobs"),
    ],
}
_WARN = {
    API: (f"{_API_LOGGER}.CertificateController", "GET /KeyfactorAPI/Certificates took {ms} ms (over 5000 ms)"),
    PORTAL: ("Keyfactor.Portal.Security.SessionManager", "Session expired for CORP\\svc-reports; redirecting"),
    TIMER: ("CSS.CMS.Core.Services.Timer.TimerService", "Job 'Incremental CA Scan' skipped: previous run active"),
}
_SQL_UNREACHABLE = ("A network-related or instance-specific error occurred while establishing a connection to "
                    "SQL Server.")
# log-errors: what the folder shows when the upgrade did not go cleanly.
_API_ERROR = (
    "Keyfactor.Logging.ExceptionLogger", "Error",
    "GET /KeyfactorAPI/Certificates failed: Invalid column name 'KeyfactorRequestId'.",
)
_TIMER_ERROR = (
    "CSS.CMS.Core.Services.Alerts.ExpirationAlertHandler", "Error",
    "Alert handler 'Renewal PowerShell' failed: C:\\Scripts\\Renew.ps1 is not under the Extension Handler Path "
    "C:\\Program Files\\Keyfactor\\Keyfactor Platform\\ExtensionLibrary\\",
)


@dataclass
class Entry:
    time: dt.datetime
    logger: str
    level: str
    message: str
    trace: list[str] = field(default_factory=list)

    def text(self) -> str:
        stamp = f"{self.time:%Y-%m-%d %H:%M:%S}.{self.time.microsecond // 100:04d}"
        return "".join(f"{line}\r\n" for line in [f"{stamp} {self.logger} [{self.level}] - {self.message}",
                                                   *self.trace])


@dataclass
class LogFolder:
    folder: Path
    now: dt.datetime  # the log clock (local wall time, as NLog writes it)
    errors: bool = False  # log-errors
    files: dict[str, list[Entry]] = field(default_factory=dict)

    def build(self) -> None:
        rng = random.Random(6)
        now = self.now
        for name in (API, PORTAL, TIMER):
            self.files[name] = self._routine(rng, name, now - HISTORY, now - SERVICES_STOPPED)
            self.files[name] += self._routine(rng, name, now - SERVICES_RESTARTED, now)
        sql_down = now - SQL_ERRORS_AT
        self.files[API] += [Entry(sql_down + dt.timedelta(seconds=s), "Keyfactor.Logging.ExceptionLogger", "Error",
                                  f"GET /KeyfactorAPI/Agents failed: {_SQL_UNREACHABLE}") for s in (0, 61, 122)]
        self.files[TIMER].append(Entry(sql_down + dt.timedelta(minutes=2), "CSS.CMS.Core.Services.Timer.TimerService",
                                       "Error", f"Job 'Expiration Alerts' failed: {_SQL_UNREACHABLE}"))
        self.files[CONFIGURATION] = self._wizard(now)
        if self.errors:
            self._add_errors(now)
        for name, entries in list(self.files.items()):
            entries.sort(key=lambda e: e.time)
            if name == API:  # rotated (NLog archiveAboveSize) a little after the upgrade
                cut = now - API_ROTATED
                self.files[API_ARCHIVE] = [e for e in entries if e.time < cut]
                self.files[API] = [e for e in entries if e.time >= cut]

    def _routine(self, rng: random.Random, name: str, start: dt.datetime, end: dt.datetime) -> list[Entry]:
        entries, time = [], start
        if start > self.now - HISTORY:  # back after the upgrade
            entries.append(Entry(start, "Keyfactor.Hosting.Startup", "Info", f"{name[8:-8]} started (10.2.0.0)"))
        while True:
            time += dt.timedelta(seconds=rng.randint(60, 300), microseconds=rng.randint(0, 999_900))
            if time >= end:
                return entries
            if rng.random() < 0.06:
                logger, text = _WARN[name]
                entries.append(Entry(time, logger, "Warn", text.format(ms=rng.randint(5001, 9000))))
            else:
                logger, text = rng.choice(_INFO[name])
                entries.append(Entry(time, logger, "Info", text.format(ms=rng.randint(4, 900), n=rng.randint(0, 40))))

    def _wizard(self, now: dt.datetime) -> list[Entry]:
        wizard = "CSS.CMS.Install.ConfigurationWizard"
        failed = now - FAILED_WIZARD_AT
        run = now - WIZARD_AT
        entries = [
            Entry(failed, f"{wizard}.App", "Info", "Keyfactor Command Configuration Wizard 10.2.0.0 started by "
                  "CORP\\kf-admin"),
            Entry(failed + dt.timedelta(seconds=41), f"{wizard}.ViewModels.DatabaseViewModel", "Info",
                  "Testing the connection to sql01.corp.example.com, database Keyfactor"),
            Entry(failed + dt.timedelta(seconds=43), *VENDOR_SQL_TLS_ERROR, TLS_TRACE),
            Entry(failed + dt.timedelta(minutes=3), f"{wizard}.App", "Info", "Configuration Wizard closed"),
            Entry(run, f"{wizard}.App", "Info", "Keyfactor Command Configuration Wizard 10.2.0.0 started by "
                  "CORP\\kf-admin"),
            Entry(run + dt.timedelta(seconds=38), f"{wizard}.ViewModels.DatabaseViewModel", "Info",
                  "Connected to sql01.corp.example.com, database Keyfactor (encrypted)"),
            Entry(run + dt.timedelta(minutes=1), "Keyfactor.Sql.Management.Upgrade.UpgradePlan", "Info",
                  "Upgrading database Keyfactor from 10.1.1 to 10.2.0: 14 modules"),
        ]
        for i, module in enumerate(["MicrosoftECCurveUpgradeModule", "EJBCA_Resolved_Request_Contents_Removal.sql",
                                    "TemplateDuplicateCheck.sql", "CollectionFieldRemoval.sql"]):
            entries.append(Entry(run + dt.timedelta(minutes=2 + i, seconds=7 * i), "Keyfactor.Sql.Management.Upgrade."
                                 "UpgradePlan", "Info", f"Running upgrade module {module}"))
        entries += [
            Entry(run + dt.timedelta(minutes=8), "Keyfactor.Sql.Management.Upgrade.UpgradePlan", "Info",
                  "Database upgrade completed"),
            Entry(run + dt.timedelta(minutes=9), f"{wizard}.ViewModels.ApplicationViewModel", "Info",
                  "Configured IIS applications KeyfactorAPI, KeyfactorPortal, KeyfactorAgents"),
            Entry(run + dt.timedelta(minutes=11), f"{wizard}.App", "Info", "Configuration completed; restart the "
                  "Keyfactor Command Service and IIS"),
        ]
        return entries

    def _add_errors(self, now: dt.datetime) -> None:
        run = now - WIZARD_AT
        self.files[CONFIGURATION].append(Entry(run + dt.timedelta(minutes=3, seconds=30), *VENDOR_UPGRADE_ERROR,
                                               UPGRADE_TRACE))
        # Before and after the API log's rotation: the archive is in the window too.
        for back in (dt.timedelta(minutes=20), dt.timedelta(minutes=9), dt.timedelta(minutes=2)):
            self.files[API].append(Entry(now - back, *_API_ERROR))
        for back in (dt.timedelta(minutes=15), dt.timedelta(minutes=5)):
            self.files[TIMER].append(Entry(now - back, *_TIMER_ERROR))

    def write(self) -> None:
        for name, entries in self.files.items():
            path = self.folder / name
            path.parent.mkdir(parents=True, exist_ok=True)
            bom = b"\xef\xbb\xbf" if name == CONFIGURATION else b""  # the wizard's log starts with a BOM
            path.write_bytes(bom + "".join(entry.text() for entry in entries).encode("utf-8"))
            last = entries[-1].time.timestamp() if entries else None
            if last is not None:
                os.utime(path, (last, last))


class Writer:
    """Appends an Info line to the service logs every few seconds, as running services do."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.stopping = threading.Event()
        self.rng = random.Random()
        self.thread = threading.Thread(target=self._run, name="sandbox-logs", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=5)

    def _run(self) -> None:
        while not self.stopping.wait(WRITE_EVERY_S):
            for name in (API, PORTAL, TIMER):
                logger, text = self.rng.choice(_INFO[name])
                entry = Entry(dt.datetime.now(), logger, "Info",
                              text.format(ms=self.rng.randint(4, 900), n=self.rng.randint(0, 40)))
                with open(self.folder / name, "ab") as f:
                    f.write(entry.text().encode("utf-8"))


def start(state_dir: Path, faults: ActiveFaults) -> Handover:
    """Writes the log folder under `state_dir`, starts its writer (unless logging-stopped), hands the folder to
    the suite."""
    folder = state_dir / "Keyfactor" / "logs"
    stopped = faults.on("logging-stopped")
    now = dt.datetime.now() - (STOPPED_FOR if stopped else dt.timedelta())
    logs = LogFolder(folder, now, errors=faults.on("log-errors"))
    logs.build()
    logs.write()
    handover = Handover(toml=["[logs]", f"paths = [{_toml_string(str(folder))}]"])
    if not stopped:
        writer = Writer(folder)
        writer.start()
        handover.stop = writer.stop
    return handover


def _toml_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'
