"""sre-expert: deterministic diagnosis for multi-tenant Kubernetes platforms."""

__version__ = "0.1.0"
