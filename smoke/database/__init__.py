"""The Keyfactor database on SQL Server, through ODBC: the connection, its encryption and fixed read-only queries."""
