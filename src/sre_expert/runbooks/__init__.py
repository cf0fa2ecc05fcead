"""Runbooks: loading and filling them (library, pure) and running them step by step (runner, the edge)."""
