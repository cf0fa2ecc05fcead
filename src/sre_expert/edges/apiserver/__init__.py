"""A bundle served as a read-only Kubernetes API, for kubectl and client libraries (`bundle serve`)."""

from sre_expert.edges.apiserver.http_front import ServerHandle, start_server

__all__ = ["ServerHandle", "start_server"]
