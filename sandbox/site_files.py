"""Files on the server's disk that an upgrade's installer may overwrite, and that administrators back up before it:
a customised NLog configuration, Logi's _Settings.lgx, the portal's custom Banner.png. The suite keeps them in a
baseline (`[baseline] files`). Written into the sandbox's home at each start with the customer's content, at the
same paths from one start to the next; the fault logo-overwritten leaves the installer's default banner instead.
"""

from __future__ import annotations

import json
import os
import struct
import zlib
from pathlib import Path

from .faults import ActiveFaults
from .handover import Handover

NLOG = """<?xml version="1.0" encoding="utf-8"?>
<nlog xmlns="http://www.nlog-project.org/schemas/NLog.xsd" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
      autoReload="true" throwExceptions="false">
  <targets>
    <target name="logfile" xsi:type="File" fileName="C:\\Keyfactor\\logs\\Command_OrchestratorsAPI_Log.txt"
            archiveFileName="C:\\Keyfactor\\logs\\Command_OrchestratorsAPI_Log_{#}.txt" archiveAboveSize="52428800"
            maxArchiveFiles="10" layout="${longdate} ${mdlc:item=CorrelationId} ${logger} [${level}] - ${message}" />
    <!-- CORP: copy of every warning to the SIEM collector (CHG0009876) -->
    <target name="siem" xsi:type="Network" address="udp://siem01.corp.example.com:514"
            layout="${longdate} ${machinename} keyfactor ${logger} [${level}] - ${message}" />
  </targets>
  <rules>
    <logger name="*" minlevel="Info" writeTo="logfile" />
    <logger name="*" minlevel="Warn" writeTo="siem" />
  </rules>
</nlog>
"""

LOGI_SETTINGS = """<?xml version="1.0" encoding="utf-8"?>
<Setting>
  <General AppFriendlyName="Keyfactor Command Reports" ApplicationID="KeyfactorReports" />
  <Connections>
    <Connection Type="SqlServer" ID="KeyfactorDatabase" SqlServerServer="sql01.corp.example.com"
                SqlServerDatabase="Keyfactor" SqlServerUseWindowsAuthentication="True" CommandTimeout="360" />
  </Connections>
  <Security SecurityEnabled="True" AuthenticationSource="Windows" AutoRight="KeyfactorReportUser" />
  <Path TempFolder="C:\\Program Files\\Keyfactor\\Keyfactor Platform\\Logi\\rdDownload" />
</Setting>
"""


def banner(width: int, height: int, top: tuple[int, int, int], bottom: tuple[int, int, int]) -> bytes:
    """A PNG of two colour bands. Stored without compression, so its bytes do not depend on the zlib build."""
    rows = [b"\x00" + bytes(top if y < height // 2 else bottom) * width for y in range(height)]

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"".join(rows), 0))
            + chunk(b"IEND", b""))


CUSTOMER_BANNER = banner(240, 48, (0, 82, 147), (255, 255, 255))  # the customer's logo, put there after install
INSTALLER_BANNER = banner(200, 40, (35, 31, 32), (0, 164, 228))  # what the installer ships

BANNER = "inetpub/wwwroot/KeyfactorPortal/Images/Banner.png"
FILES = {
    "Program Files/Keyfactor/Keyfactor Platform/WebAgentServices/NLog.config": NLOG.encode(),
    "Program Files/Keyfactor/Keyfactor Platform/Logi/_Definitions/_Settings.lgx": LOGI_SETTINGS.encode(),
    BANNER: CUSTOMER_BANNER,
}


def start(home: Path, faults: ActiveFaults) -> Handover:
    """Writes the files under `home`/disk and hands the run their paths as `[baseline] files`."""
    paths = []
    for relative, content in FILES.items():
        if relative == BANNER and faults.on("logo-overwritten"):
            content = INSTALLER_BANNER
        path = home / "disk" / relative
        _keep(path, content)
        paths.append(path)
    return Handover(toml=[
        "[baseline]",
        "# files the installer may overwrite, on the sandbox's disk (its home: the same paths at every start)",
        "files = [",
        *(f"    {json.dumps(str(path))}," for path in paths),
        "]",
    ])


def _keep(path: Path, content: bytes) -> None:
    """Writes `content` unless it is there already; whole or not at all, for a run reading it at that moment."""
    try:
        if path.read_bytes() == content:
            return
    except OSError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    writing = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    writing.write_bytes(content)
    os.replace(writing, path)
