"""What the product's outgoing HTTP (Prometheus queries, notifications) shares: the TLS trust and the few
words that say why a request never got an answer."""

from __future__ import annotations

import ssl


def system_tls() -> ssl.SSLContext:
    """The system's CA store, as urllib used: httpx would otherwise trust certifi's bundle only, and a platform
    whose Prometheus or webhook receiver has a certificate from a private CA installed on the host would fail."""
    return ssl.create_default_context()


def transport_reason(e: BaseException) -> str:
    """The cause of a transport error in a few words: the OS error's text (`Connection refused`, `Name or
    service not known`) when one is underneath, else the error's own text, else its type."""
    seen: BaseException | None = e
    while seen is not None:
        if isinstance(seen, OSError) and seen.strerror:
            return str(seen.strerror)
        seen = seen.__cause__ or seen.__context__
    return str(e) or type(e).__name__
