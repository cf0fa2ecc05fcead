"""Admission webhooks as the API server calls them: which Service answers a webhook named in an error.

Shared by the workload checks (a ReplicaSet that cannot create pods because a webhook failed) and
diagnosis.shared_services (one webhook Service behind many failures).
"""

from __future__ import annotations

import re

from sre_expert.core.model import Key
from sre_expert.core.snapshot import Snapshot


def webhook_service(snap: Snapshot, webhook: str, detail: str) -> Key | None:
    """The Service behind an admission webhook: from its configuration, else from the URL in the error."""
    for kind in ("ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"):
        for cfg in snap.list(kind):
            for wh in cfg.get("webhooks") or ():
                if wh.get("name") == webhook:
                    svc = (wh.get("clientConfig") or {}).get("service") or {}
                    if svc.get("name"):
                        return ("Service", svc.get("namespace") or "", svc["name"])
    m = re.search(r"https?://([a-z0-9-]+)\.([a-z0-9-]+)\.svc[:/.]", detail)
    if m:
        return ("Service", m.group(2), m.group(1))
    return None
