"""Links sre-expert renders from input it does not control (Alertmanager's generatorURL and externalURL):
http(s) with a host, bounded, or nothing."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

MAX_URL_CHARS = 2048


def web_url(value: Any) -> str | None:
    """An http(s) URL with a host, at most MAX_URL_CHARS long, else None. Links on the pages come from here
    (generatorURL, externalURL): anything else (javascript:, data:, a bare path, a huge string) is dropped,
    not refused, since Alertmanager sends an empty generatorURL for alerts that have none."""
    if not isinstance(value, str) or not value or len(value) > MAX_URL_CHARS:
        return None
    try:
        parts = urlsplit(value.strip())
    except ValueError:
        return None
    return value.strip() if parts.scheme in ("http", "https") and parts.hostname else None
