"""What the vendor's upgrade guide asks for that no check can see from outside the server (§2, §4): each one line
for the summary's "For a person" section, so that the report is the complete record for the change ticket."""

from __future__ import annotations

ALWAYS = (
    ".NET Framework 4.7.2 or later on each Keyfactor server: registry HKLM\\SOFTWARE\\Microsoft\\NET Framework "
    "Setup\\NDP\\v4\\Full, value Release >= 461808 (4.8 is 528040 and up)",
    "Windows Server 2019 or 2022 on each Keyfactor server (the supported platforms for 10.2)",
    "The Keyfactor CA policy module is 7.1 or later on each CA and its configuration was restored after the upgrade",
    "Every AnyGateway is 22.1 or later (older gateways do not work with Command 10.x)",
    "The server was rebooted (or the Keyfactor Command Service and IIS restarted) after the configuration wizard, "
    "and the suite ran again afterwards",
    "Users were told to clear their browser cache: stale portal scripts cause errors after an upgrade",
)

BLOCKED_OUTBOUND = (
    "REST workflow steps exist ({steps}): the server can block their outbound targets with the environment "
    "variable KEYFACTOR_BLOCKED_OUTBOUND_IPS (comma-separated IPv4/IPv6 CIDRs) — check on each Keyfactor server "
    "that it is set as intended and that the REST targets are not in it"
)
