"""Renderers of a diagnosis report: JSON (the contract), Markdown, and the terminal."""
