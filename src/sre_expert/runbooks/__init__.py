"""Runbooks as data: loading, validation, template filling and branch evaluation (pure). Running one is
an edge: `edges/runbook_runner.py`."""
