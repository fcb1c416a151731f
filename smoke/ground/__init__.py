"""The ground floor every wing stands on: errors, redacted evidence, the environment file, Kerberos, prerequisites."""
