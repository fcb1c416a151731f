"""The Keyfactor Command server: its API client, formats, certificates, enrollment, orchestrators and configuration."""
