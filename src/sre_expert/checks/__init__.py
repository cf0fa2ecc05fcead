"""Checks: one module per area, each a pure function of the Snapshot registered with its codes."""
