"""Implementations of CLI commands, callable without typer (the CLI wires them in)."""
