"""The one registry of named faults.

Each fault reproduces a failure the vendor documents. The sandbox's parts consult the active set
(`faults.on("spn-missing")`); the self-tests read this registry to prove that each fault turns
exactly its check red, with a message that names the cause. Adding a fault = one entry here,
the behaviour in the part it affects, nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Fault:
    name: str
    reproduces: str  # the vendor-documented failure, in one sentence
    marker: str  # the pytest marker selecting the checks this fault concerns
    fails: tuple[str, ...]  # node ids (relative to the project) that must go red
    says: str  # a phrase the one-line failure message must contain
    takes_value: bool = False  # the fault takes SECONDS: name=SECONDS
    takes_node: bool = False  # the fault takes a node number instead: name=N (python -m sandbox --nodes)


NODE_API = "smoke/test_nodes.py::test_the_api_answers_authenticated_on_every_node_at_the_same_expected_version"

REGISTRY: dict[str, Fault] = {
    f.name: f
    for f in [
        Fault(
            "api-down",
            "The IIS site does not answer: connection refused.",
            marker="api",
            fails=("smoke/test_api.py::test_the_api_answers_an_authenticated_request",),
            says="connection refused",
        ),
        Fault(
            "spn-missing",
            "The app-pool account has no key for HTTP/<host>: Kerberos fails while Basic would work.",
            marker="api",
            fails=("smoke/test_api.py::test_the_api_answers_an_authenticated_request",),
            says="setspn",
        ),
        Fault(
            "proxy-login-page",
            "A proxy answers the API with an HTML sign-in page and status 200.",
            marker="api",
            fails=("smoke/test_api.py::test_the_api_answers_an_authenticated_request",),
            says="HTML page",
        ),
        Fault(
            "api-pool-stopped",
            "The API's application pool is stopped: HTTP.sys answers every API call with 503 Service Unavailable.",
            marker="api",
            fails=("smoke/test_api.py::test_the_api_answers_an_authenticated_request",),
            says="every call fails",
        ),
        Fault(
            "version-mismatch",
            "The licence still reports Keyfactor Command 10.1: the upgrade did not take.",
            marker="api",
            fails=("smoke/test_api.py::test_the_server_reports_the_expected_command_version",),
            says="10.1",
        ),
        # --- enrollment (issue 3) ---
        Fault(
            "ca-unreachable",
            "The CA does not answer (CA service stopped, RPC blocked): enrollment fails, RPC server unavailable.",
            marker="enrollment",
            fails=("smoke/test_enrollment.py::test_a_certificate_can_be_issued_through_the_api_by_csr",),
            says="CA service",
        ),
        Fault(
            "delegation-broken",
            "Kerberos delegation from the app pool to the CA is broken: enrollment fails while other API calls work.",
            marker="enrollment",
            fails=("smoke/test_enrollment.py::test_a_certificate_can_be_issued_through_the_api_by_csr",),
            says="constrained delegation",
        ),
        Fault(
            "approval-required",
            "The CA holds every request for a certificate manager's approval (RequestDisposition PENDING).",
            marker="enrollment",
            fails=("smoke/test_enrollment.py::test_a_certificate_can_be_issued_through_the_api_by_csr",),
            says="without approval",
        ),
        Fault(
            "revoke-fails",
            "The CA refuses to revoke (access denied): the smoke certificate stays valid.",
            marker="enrollment",
            fails=("smoke/test_enrollment.py::test_the_smoke_certificate_is_revoked_afterwards",),
            says="revoke it by hand",
        ),
        Fault(
            "ca-slow",
            "The CA takes SECONDS to answer an enrollment: a client that gives up first leaves an issued certificate.",
            marker="enrollment",
            fails=("smoke/test_enrollment.py::test_a_certificate_can_be_issued_through_the_api_by_csr",),
            says="no answer within",
            takes_value=True,
        ),
        Fault(
            "revoke-slow",
            "The CA takes SECONDS to answer a revocation (a busy CA): the run's cleanup waits for it, a repeated "
            "Ctrl-C meanwhile is answered, not obeyed.",
            marker="enrollment",
            fails=(),
            says="",
            takes_value=True,
        ),
        # --- portal, dashboard, reports (issue 4) ---
        Fault(
            "portal-down",
            "The portal's application pool is stopped: HTTP.sys answers 503 Service Unavailable.",
            marker="portal",
            fails=("smoke/test_portal.py::test_the_portal_home_page_loads_completely_after_authentication",),
            says="503",
        ),
        Fault(
            "portal-partial",
            "The portal loads only partly: the Certificate Search grid's data call breaks off and its script fails.",
            marker="portal",
            fails=("smoke/test_portal.py::test_certificate_search_shows_its_results_grid",),
            says="Certificate Search",
        ),
        Fault(
            "portal-js-error",
            "A stale script bundle after the upgrade throws an uncaught error on the portal's home page.",
            marker="portal",
            fails=("smoke/test_portal.py::test_the_portal_home_page_loads_completely_after_authentication",),
            says="Cannot read properties of undefined",
        ),
        Fault(
            "dashboard-500",
            "Dashboard panels answer 500 while the rest of the portal works (wrong IPs on the \"Dashboard and "
            "Reports\" tab); the dashboard shows their error page in the panels.",
            marker="dashboard",
            fails=("smoke/test_dashboard.py::test_the_dashboard_and_every_request_it_makes_answer_below_500",),
            says="Dashboard and Reports",
        ),
        Fault(
            "logi-down",
            "Report runs answer Logi's error page: the underlying connection was closed.",
            marker="reports",
            fails=("smoke/test_reports.py::test_every_configured_report_runs_and_renders_its_output",),
            says="rdPage.aspx",
        ),
        Fault(
            "reports-500",
            "Report runs answer 500 while the rest of the portal works (wrong IPs on the \"Dashboard and Reports\" "
            "tab): Logi shows ASP.NET's error page.",
            marker="reports",
            fails=("smoke/test_reports.py::test_every_configured_report_runs_and_renders_its_output",),
            says="Dashboard and Reports",
        ),
        # --- orchestrators, configuration review (issue 5) ---
        Fault(
            "orchestrator-stale",
            "An approved orchestrator stopped checking in after the upgrade (it sits on the last page of GET /Agents).",
            marker="orchestrators",
            fails=("smoke/test_orchestrators.py::test_every_approved_orchestrator_checked_in_recently",),
            says="last seen 3h 07m ago",
        ),
        Fault(
            "orchestrator-unapproved",
            "An expected orchestrator re-registered after the upgrade and waits as New for approval.",
            marker="orchestrators",
            fails=("smoke/test_orchestrators.py::test_every_expected_orchestrator_is_approved_and_checked_in",),
            says="orch01.corp.example.com",
        ),
        Fault(
            "orchestrator-old-version",
            "A Universal Orchestrator was left at 9.5, below the version the environment requires.",
            marker="orchestrators",
            fails=("smoke/test_orchestrators.py::test_orchestrator_versions_meet_the_platform_minimums",),
            says="9.5.0.0",
        ),
        Fault(
            "orchestrator-error",
            "An orchestrator reports a last error: it no longer trusts the server's certificate.",
            marker="orchestrators",
            fails=("smoke/test_orchestrators.py::test_no_orchestrator_reports_an_error",),
            says="remote certificate is invalid",
        ),
        Fault(
            "duplicate-templates",
            "The same template is in the database twice for one forest (same CommonName and OID): 10.x upgrades fail.",
            marker="config",
            fails=("smoke/test_configuration.py::test_no_two_templates_share_a_name_or_oid_in_a_forest",),
            says="WebServer",
        ),
        Fault(
            "duplicate-cas",
            "Two certificate authorities share logical name and host name (refused since 9.0).",
            marker="config",
            fails=("smoke/test_configuration.py::test_no_two_certificate_authorities_share_logical_and_host_name",),
            says='"Keyfactor Smoke Sandbox Issuing CA 1" on host "ca01.corp.example.com"',
        ),
        Fault(
            "deprecated-collection-fields",
            "A saved certificate collection still searches on the removed fields CARequestId, RequestResolutionDate.",
            marker="config",
            fails=("smoke/test_configuration.py::test_no_saved_collection_uses_a_removed_search_field",),
            says="Pending CA requests (legacy)",
        ),
        # --- logs, database (issue 6) ---
        Fault(
            "log-errors",
            "The logs show errors after the upgrade: an upgrade module timed out (the vendor's example), the API "
            "and the Timer Service fail.",
            marker="logs",
            fails=("smoke/test_logs.py::test_no_errors_were_logged_since_the_upgrade",),
            says="Failed to run upgrade module",
        ),
        Fault(
            "logging-stopped",
            "Logging stopped: the log files are there, but nothing was written to them for three hours.",
            marker="logs",
            fails=("smoke/test_logs.py::test_every_log_location_is_still_being_written",),
            says="logging has stopped",
        ),
        Fault(
            "sql-unencrypted",
            "SQL Server has no TLS certificate: Keyfactor Command 10, which encrypts by default, cannot connect.",
            marker="database",
            fails=("smoke/test_database.py::test_the_sql_server_connection_is_encrypted",),
            says="does not support encryption",
        ),
        Fault(
            "sql-compat-120",
            "The Keyfactor database is at compatibility level 120 (SQL Server 2014); 10.x needs 130 or more.",
            marker="database",
            fails=("smoke/test_database.py::test_the_keyfactor_database_is_at_compatibility_level_130_or_more",),
            says="compatibility level 120",
        ),
        Fault(
            "sql-old-version",
            "SQL Server is 2016 RTM (13.0.1601.5), older than the 2016 CU2 that 10.x requires.",
            marker="database",
            fails=("smoke/test_database.py::test_the_sql_server_is_2016_cu2_or_later",),
            says="13.0.1601.5",
        ),
        Fault(
            "sql-down",
            "SQL Server does not accept connections (service stopped): the database checks cannot run.",
            marker="database",
            fails=("smoke/test_database.py::test_the_sql_server_connection_is_encrypted",),
            says="connection refused",
        ),
        Fault(
            "sql-no-view-server-state",
            "The suite's SQL login lacks VIEW SERVER STATE, so it cannot see whether its session is encrypted.",
            marker="database",
            fails=("smoke/test_database.py::test_the_sql_server_connection_is_encrypted",),
            says="GRANT VIEW SERVER STATE",
        ),
        # --- the server's work after the upgrade (issue 14) ---
        Fault(
            "ca-test-fails",
            "A CA reached with explicit credentials fails its test: the database moved without its master keys and "
            "the stored password no longer decrypts (upgrade guide §2.8).",
            marker="operations",
            fails=("smoke/test_operations.py::test_every_certificate_authority_answers",),
            says="ca02.corp.example.com\\CorpIssuingCA2: Unable to decrypt",
        ),
        Fault(
            "jobs-failing",
            "Every inventory job of one orchestrator has failed since the upgrade.",
            marker="operations",
            fails=("smoke/test_operations.py::test_no_orchestrator_job_failed_since_the_upgrade",),
            says="Inventory on orch02.corp.example.com",
        ),
        Fault(
            "jobs-orphaned",
            "Inventory jobs are still scheduled on an orchestrator that was removed during the upgrade: they never "
            "run.",
            marker="operations",
            fails=("smoke/test_operations.py::test_no_scheduled_job_waits_on_an_orchestrator_that_is_gone_or_not_"
                   "approved",),
            says="orch03.corp.example.com: its orchestrator is no longer registered",
        ),
        Fault(
            "workflow-stuck",
            "Enrollment workflows stopped mid-way since the upgrade: one failed at its REST step, one has been "
            "Running unchanged for half an hour.",
            marker="operations",
            fails=("smoke/test_operations.py::test_no_workflow_started_since_the_upgrade_failed_or_is_stuck",),
            says="Enrollment with ITSM ticket",
        ),
        Fault(
            "crl-expired",
            "The issuing CA stopped publishing its CRL: the CRL at its distribution point has expired.",
            marker="operations",
            fails=("smoke/test_operations.py::test_every_monitored_crl_is_current_and_every_ocsp_responder_answers",),
            says="Sandbox Issuing CA 1 CRL",
        ),
        Fault(
            "crl-unreachable",
            "The web server of a CRL distribution point accepts connections but never answers.",
            marker="operations",
            fails=("smoke/test_operations.py::test_every_monitored_crl_is_current_and_every_ocsp_responder_answers",),
            says="Sandbox Issuing CA 1 CRL (web02)",
        ),
        Fault(
            "ocsp-down",
            "The OCSP responder's application pool is stopped: it answers 503 Service Unavailable.",
            marker="operations",
            fails=("smoke/test_operations.py::test_every_monitored_crl_is_current_and_every_ocsp_responder_answers",),
            says="Sandbox OCSP",
        ),
        Fault(
            "audit-invalid",
            "Audit entries written since the upgrade no longer validate: the signing material did not carry over.",
            marker="operations",
            fails=("smoke/test_operations.py::test_the_newest_audit_entries_since_the_upgrade_validate",),
            says="do not validate",
        ),
        # --- report and reruns (issue 7) ---
        Fault(
            "slow-start",
            "The server is still coming up after a reboot: connections are refused for SECONDS, then it is healthy.",
            marker="api",
            fails=("smoke/test_api.py::test_the_api_answers_an_authenticated_request",),
            says="connection refused",
            takes_value=True,
        ),
        # --- the change ticket (issue 16): no check goes red (the checks' exit code stands); the `ticket:` line
        # after the summary names the cause. Concern `--attach` against the ticket stand-ins (tests/test_ticket.py).
        Fault(
            "ticket-not-found",
            "The change ticket does not exist, or the account may not see it: the lookup by number finds nothing.",
            marker="api",
            fails=(),
            says="not found",
        ),
        Fault(
            "ticket-auth-fails",
            "The ticket system refuses the suite's account (a changed password, an expired token): 401.",
            marker="api",
            fails=(),
            says="(401)",
        ),
        Fault(
            "ticket-html-refused",
            "The ServiceNow instance's attachment allow-list (glide.attachment.extensions) lacks .html: 403.",
            marker="api",
            fails=(),
            says="the report is also attached as a .zip",
        ),
        Fault(
            "ticket-slow",
            "The ticket system takes SECONDS to answer each call: longer than [ticket] timeout_s, it gets no answer.",
            marker="api",
            fails=(),
            says="no answer from",
            takes_value=True,
        ),
        Fault(
            "ticket-5xx-once",
            "The ticket system answers the first upload 503 Service Unavailable (a node restarting): a retry succeeds.",
            marker="api",
            fails=(),
            says="after 1 retry",
        ),
        # --- carried over: compared with a baseline of the healthy sandbox (issue 13) ---
        Fault(
            "template-policy-reset",
            "The web server template's policy was reset to the system-wide defaults: wildcards refused, 3072-bit "
            "keys and RFC 2818 enforcement gone.",
            marker="carried_over",
            fails=("smoke/test_carried_over.py::test_every_certificate_template_kept_its_enrollment_settings",),
            says="corp.example.com/WebServer: TemplatePolicy.AllowWildcards true → false",
        ),
        Fault(
            "approval-without-key-retention",
            "The code signing template needs a CA manager's approval but lost its private key retention policy: "
            "the key generated for a PFX enrollment is gone when the request is approved (vendor §4.2).",
            marker="carried_over",
            fails=("smoke/test_carried_over.py::test_every_certificate_template_kept_its_enrollment_settings",
                   "smoke/test_configuration.py::test_every_template_that_needs_approval_keeps_its_private_keys"),
            says="corp.example.com/CodeSigning: KeyRetention 2 → 0",
        ),
        Fault(
            "role-permission-lost",
            "A security role lost a permission in the upgrade: PKI Operators can no longer revoke.",
            marker="carried_over",
            fails=("smoke/test_carried_over.py::test_every_security_role_kept_its_permissions_and_members",),
            says='"Certificates:Revoke" → (absent)',
        ),
        Fault(
            "alert-handler-moved",
            "An expiration alert's PowerShell handler now runs a script outside the Extension Handler Path "
            "(C:\\Scripts\\notify.ps1): 10.x does not run it.",
            marker="carried_over",
            fails=("smoke/test_carried_over.py::test_every_alert_kept_its_recipients_query_schedule_and_handler",
                   "smoke/test_configuration.py::"
                   "test_every_alert_powershell_handler_lies_under_the_extension_handler_path"),
            says="EventHandlerParameters.ScriptName.DefaultValue",
        ),
        Fault(
            "workflow-step-changed",
            "A published workflow's REST step now calls another URL: its ServiceNow ticket goes elsewhere.",
            marker="carried_over",
            fails=("smoke/test_carried_over.py::test_every_workflow_kept_its_published_steps",),
            says="Steps.NotifyServiceNow.ConfigurationParameters.URL",
        ),
        Fault(
            "store-missing",
            "A certificate store is gone after the upgrade: its certificates are no longer inventoried or renewed.",
            marker="carried_over",
            fails=("smoke/test_carried_over.py::test_every_certificate_store_is_still_defined",),
            says="web02.corp.example.com | My | 102: missing",
        ),
        # --- carried over, outside the configuration API (issue 13): checked against a baseline of a healthy start ---
        Fault(
            "iis-ntlm-only",
            "The installer reset an IIS application's authentication: /KeyfactorAgents now offers only NTLM.",
            marker="carried_over",
            fails=("smoke/test_carried_over.py::test_every_iis_application_offers_the_same_sign_in_methods",),
            says="/KeyfactorAgents: SignInMethods",
        ),
        Fault(
            "tls-certificate-replaced",
            "The site's binding presents another certificate from the same CA (same name, new key and serial).",
            marker="carried_over",
            fails=("smoke/test_carried_over.py::test_the_site_presents_the_same_tls_certificate",),
            says="localhost: Thumbprint",
        ),
        Fault(
            "logo-overwritten",
            "The installer overwrote the portal's custom Banner.png with its default one.",
            marker="carried_over",
            fails=("smoke/test_carried_over.py::test_every_baseline_file_is_unchanged",),
            says="Banner.png: sha256",
        ),
        # --- every node behind the load balancer (issue 15): N is a node number, 2 … python -m sandbox --nodes ---
        Fault(
            "node-not-upgraded",
            "One web server behind the load balancer was left on the previous version: node N reports 10.1.1.0.",
            marker="nodes",
            fails=(NODE_API,),
            says="reports 10.1.1.0, the others 10.2.1.0",
            takes_value=True,
            takes_node=True,
        ),
        Fault(
            "node-down",
            "One web server behind the load balancer does not answer (IIS stopped, the server off): node N refuses "
            "connections.",
            marker="nodes",
            fails=(NODE_API,),
            says="does not answer",
            takes_value=True,
            takes_node=True,
        ),
        Fault(
            "node-ntlm-only",
            "Node N's KeyfactorAPI application lost the Negotiate provider: it offers only NTLM, so Kerberos fails "
            "there too.",
            marker="nodes",
            fails=(NODE_API, "smoke/test_nodes.py::"
                             "test_every_iis_application_offers_the_same_sign_in_methods_on_every_node"),
            says="NTLM",
            takes_value=True,
            takes_node=True,
        ),
        Fault(
            "node-certificate",
            "Node N's https binding presents another certificate than the site's (renewed on one node only).",
            marker="nodes",
            fails=("smoke/test_nodes.py::test_every_node_presents_the_same_tls_certificate_as_the_load_balanced_name",),
            says="the load-balanced name",
            takes_value=True,
            takes_node=True,
        ),
    ]
}


MAX_SECONDS = 3600.0  # a fault's SECONDS: long enough for any self-test, short enough to notice


class ActiveFaults:
    """The faults this sandbox run reproduces, with their values (`slow-start=5`)."""

    def __init__(self, specs: list[str] | None = None) -> None:
        self._values: dict[str, str | None] = {}
        for spec in specs or []:
            name, given, value = spec.partition("=")
            if name not in REGISTRY:
                known = ", ".join(sorted(REGISTRY))
                raise ValueError(f"unknown sandbox fault {name!r}; known faults: {known}")
            if REGISTRY[name].takes_node:
                _node(name, value)
            elif REGISTRY[name].takes_value:
                _seconds(name, value)
            elif given:
                raise ValueError(f"sandbox fault {spec}: {name} takes no value — name it alone")
            self._values[name] = value or None

    def on(self, name: str) -> bool:
        assert name in REGISTRY, f"fault {name!r} is not in the registry"
        return name in self._values

    def seconds(self, name: str) -> float | None:
        """The SECONDS of a fault that takes them; None when the fault is off."""
        value = self._values.get(name)
        return _seconds(name, value) if self.on(name) and value else None

    def node(self, name: str) -> int | None:
        """The node number of a fault that takes one; None when the fault is off."""
        value = self._values.get(name)
        return _node(name, value) if self.on(name) and value else None

    def names(self) -> list[str]:
        return sorted(self._values)


def _node(name: str, value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"sandbox fault {name}={value}: give the number of a node, e.g. {name}=2 (with --nodes 3)")
    return int(value)


def _seconds(name: str, value: str) -> float:
    try:
        seconds = float(value)
    except ValueError:
        seconds = -1.0
    if not 0 < seconds <= MAX_SECONDS:  # also NaN
        shown = f"{name}={value}" if value else name
        raise ValueError(f"sandbox fault {shown}: give SECONDS, a number more than 0 and at most {MAX_SECONDS:g}, "
                         f"e.g. {name}=5")
    return seconds
