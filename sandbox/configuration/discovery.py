"""SSL discovery networks (GET /SSL/Networks, `sq.`) with their ranges (GET /SSL/NetworkRanges/{id}). The revocation
monitoring endpoints (GET /Monitoring/Revocation, `pagedQuery.`): the CRLs and the OCSP responder the dashboard
watches."""

from __future__ import annotations

from typing import Any

from .common import daily, guid, weekly

IP_ADDRESS, IP_RANGE, CIDR, HOST_NAME = 0, 1, 2, 3


def _network(name: str, pool: tuple[str, str], description: str, ranges: list[tuple[int, str]],
             enabled: bool = True, quiet_hours: list[dict[str, Any]] | None = None
             ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    return {
        "NetworkId": guid("ssl network", name), "Name": name, "AgentPoolName": pool[1], "AgentPoolId": pool[0],
        "Description": description, "Enabled": enabled, "DiscoverSchedule": weekly([6], 1),
        "MonitorSchedule": daily(4), "DiscoverPercentComplete": 100.0, "MonitorPercentComplete": 100.0,
        "DiscoverStatus": 0, "MonitorStatus": 0, "DiscoverLastScanned": None, "MonitorLastScanned": None,
        "SslAlertRecipients": ["pki-team@corp.example.com"], "AutoMonitor": True, "GetRobots": False,
        "DiscoverTimeoutMs": 1500.0, "MonitorTimeoutMs": 3000.0, "ExpirationAlertDays": 30.0,
        "DiscoverJobParts": 50, "MonitorJobParts": 50, "QuietHours": quiet_hours or [],
    }, [{"ItemType": kind, "Value": value} for kind, value in ranges]


def networks(default_pool: tuple[str, str], dmz_pool: tuple[str, str]
             ) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
    """(NetworkQueryResponse, its ranges as NetworkDefinition items) per network; a pool is (AgentPoolId, Name)."""
    return [
        _network("Corp data centres", default_pool, "Both data centres, every HTTPS port in use",
                 [(CIDR, "10.10.0.0/16"), (CIDR, "10.20.0.0/16"), (IP_RANGE, "10.30.1.1-10.30.1.254"),
                  (HOST_NAME, "intranet.corp.example.com")]),
        _network("DMZ", dmz_pool, "Internet-facing servers; no scans during business hours",
                 [(CIDR, "192.0.2.0/24"), (IP_ADDRESS, "198.51.100.10")],
                 quiet_hours=[{"StartDay": day, "StartTime": "2023-01-01T07:00:00Z", "EndDay": day,
                               "EndTime": "2023-01-01T19:00:00Z"} for day in range(1, 6)]),
        _network("Partner extranet", default_pool, "Disabled until the partner signs the scanning agreement",
                 [(HOST_NAME, "extranet.partner.example.net")], enabled=False),
    ]
