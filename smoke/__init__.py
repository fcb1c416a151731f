"""Keyfactor Command post-upgrade smoke tests.

The checks are the ``test_*.py`` modules beside this file, one per item of the vendor's checklist. Below them,
each instrument lives in its own wing, and every wing stands on the ground floor:

    checks (test_*.py), run/  ──►  keyfactor/  portal/  database/  logscan/  baseline/  ──►  ground/

No module imports from a floor above its own, and a wing uses another wing only through its package face
(tests/test_layout.py holds these rules).
"""
