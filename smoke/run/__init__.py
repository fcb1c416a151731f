"""The run itself: the pytest plugin, the embedded sandbox's launcher, readiness, the report and its summary."""
