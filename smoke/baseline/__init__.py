"""Configuration carried over: baseline documents taken before an upgrade, and their comparison after it (offline)."""
