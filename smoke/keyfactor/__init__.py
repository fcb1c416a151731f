"""The Keyfactor Command server: its API client, formats, certificates, enrollment, orchestrators, configuration
and the server's work (CAs, orchestrator jobs, workflows, revocation, the audit trail)."""
