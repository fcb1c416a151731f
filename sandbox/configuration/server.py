"""The server-wide settings: metadata fields (GET /MetadataFields), SMTP (GET /SMTP), custom orchestrator job types
(GET /JobTypes/Custom), custom reports (GET /Reports/Custom) and the schedules of the built-in reports (in GET
/Reports and GET /Reports/{id}/Schedules).

GET /SMTP answers no relay password: the 10.x SMTPResponse has none (only the request to change it does)."""

from __future__ import annotations

from typing import Any

from .common import daily, guid, monthly, weekly

# Models.MetadataFieldTypeModel DataType: 1 string, 2 integer, 3 date, 4 boolean, 5 multiple choice, 6 big text,
# 7 email (as the portal offers them).
METADATA_FIELDS: tuple[dict[str, Any], ...] = tuple(
    {"Id": number, "Name": name, "Description": description, "DataType": kind, "Hint": hint,
     "Validation": validation, "Enrollment": enrollment, "Message": message, "Options": options,
     "DefaultValue": default, "DisplayOrder": number}
    for number, (name, description, kind, hint, validation, enrollment, message, options, default) in enumerate((
        ("AppOwnerEmail", "Who renews the certificate", 7, "name@corp.example.com", "", 1, "", "", ""),
        ("Environment", "Where the certificate is used", 5, "", "", 1, "", "Production,Test,Development",
         "Production"),
        ("ChangeTicket", "The change that brought the certificate", 1, "CHG0000000", r"^CHG\d{7}$", 0,
         "A ServiceNow change number: CHG and seven digits", "", ""),
        ("BusinessCritical", "An outage stops a business process", 4, "", "", 0, "", "", "false"),
        ("Department", "The requesting department", 1, "", "", 0, "", "", ""),
        ("Notes", "Anything the next owner should know", 6, "", "", 2, "", "", ""),
        ("CostCentre", "Charged for the certificate", 2, "4-digit cost centre", r"^\d{4}$", 0,
         "Four digits", "", ""),
    ), 1)
)

SMTP: dict[str, Any] = {"Host": "smtp.corp.example.com", "Id": 1, "Port": 587, "RelayAuthenticationType": 1,
                        "RelayUsername": "svc-keyfactor-mail", "SenderAccount": "keyfactor@corp.example.com",
                        "SenderName": "Keyfactor Command", "UseSSL": True}

JOB_TYPES: tuple[dict[str, Any], ...] = (
    {"Id": guid("custom job type", "RestartIIS"), "JobTypeName": "RestartIIS",
     "Description": "Restart IIS after a certificate was replaced",
     "JobTypeFields": [{"Name": "SiteName", "Type": 1, "DefaultValue": "Default Web Site", "Required": True},
                       {"Name": "GracefulSeconds", "Type": 2, "DefaultValue": "30", "Required": False}]},
    {"Id": guid("custom job type", "FetchTomcatLogs"), "JobTypeName": "FetchTomcatLogs",
     "Description": "Collect Tomcat's logs after a keystore change",
     "JobTypeFields": [{"Name": "LogFolder", "Type": 1, "DefaultValue": "/opt/tomcat/logs", "Required": True},
                       {"Name": "Compress", "Type": 3, "DefaultValue": "true", "Required": False}]},
)

CUSTOM_REPORTS: tuple[dict[str, Any], ...] = (
    {"CustomURL": "https://powerbi.corp.example.com/reports/pki-overview", "Id": 1,
     "DisplayName": "PKI overview (Power BI)", "Description": "The PKI team's dashboard", "InNavigator": True,
     "Favorite": False},
    {"CustomURL": "https://cmdb.corp.example.com/reports/certificates-by-owner", "Id": 2,
     "DisplayName": "Certificates by owner (CMDB)", "Description": "Owners from the CMDB", "InNavigator": False,
     "Favorite": False},
)


def _schedule(number: int, report_format: str, when: dict[str, Any], collection: int = 0,
              recipients: tuple[str, ...] = (), folder: str = "") -> dict[str, Any]:
    return {"Id": number, "SendReport": bool(recipients), "SaveReport": bool(folder), "SaveReportPath": folder,
            "ReportFormat": report_format, "KeyfactorSchedule": when, "CertificateCollectionId": collection,
            "EmailRecipients": list(recipients), "RuntimeParameters": {}}


# Built-in report id (portal.REPORTS) → its schedules (Models.ReportSchedule).
REPORT_SCHEDULES: dict[int, tuple[dict[str, Any], ...]] = {
    1: (_schedule(1, "PDF", weekly([1], 7), 1, ("pki-team@corp.example.com",)),
        _schedule(2, "PDF", monthly(1, 7), 2, ("web-admins@corp.example.com", "it-managers@corp.example.com")),
        _schedule(3, "Excel", daily(5), 1, folder="\\\\fileserver01\\pki\\reports\\expiration")),
    3: (_schedule(4, "Excel", monthly(1, 6), 2, folder="\\\\fileserver01\\pki\\reports\\status"),),
    5: (_schedule(5, "PDF", monthly(2, 8), recipients=("ciso-office@corp.example.com",)),),
}
