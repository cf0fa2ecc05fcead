"""Append-only audit log of every command sre-expert runs or refuses to run: JSON lines, one fsync per record.

Each record: `time` (RFC 3339, UTC), `id` (pairs the start and end records of one run), `event`
(`start` | `end` | `decision`), `user`, `host`, `context` (kube context when known), `command` (as
given), `class`, `exposesSecrets`, `decision` (`approved` | `declined` | `refused` | `auto-read-only`),
and for `end`: `exit` (null when killed on timeout or not captured), `outputSha256` / `stderrSha256` /
`outputBytes` and `durationSeconds`. Output itself is never logged, only its digest: a command that prints
Secret values leaves no value in the log.

The file is opened with O_APPEND for every record (so concurrent writers never overwrite each other and a
record is one write(2)), created 0600 in a 0700 directory, and fsynced before the call returns. A record
that cannot be written raises AuditError: callers must not run a command whose start was not recorded.
Path: `$SRE_EXPERT_AUDIT_LOG`, else `$XDG_STATE_HOME/sre-expert/audit.log`, else
`~/.local/state/sre-expert/audit.log`.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import socket
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypedDict

DECISIONS = ("approved", "declined", "refused", "auto-read-only")


class AuditSubject(TypedDict):
    """The fields every record about one command repeats (passed as **subject to decision/start/end)."""

    command: str
    cls: str
    exposes: bool
    context: str | None


class AuditError(OSError):
    """The audit log cannot be written."""


def default_audit_path(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    explicit = env.get("SRE_EXPERT_AUDIT_LOG")
    if explicit:
        return Path(explicit).expanduser()
    state = env.get("XDG_STATE_HOME")
    base = Path(state).expanduser() if state else Path(env.get("HOME") or Path.home()) / ".local" / "state"
    return base / "sre-expert" / "audit.log"


def now_rfc3339() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name and no passwd entry (some containers)
        return f"uid:{os.getuid()}"


class AuditLog:
    """Writes audit records. Cheap to create; the file is opened per record."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path).expanduser() if path is not None else default_audit_path()

    def write(self, record: Mapping[str, Any]) -> dict[str, Any]:
        """Append one record (time, user and host are filled in) and fsync it."""
        rec: dict[str, Any] = {"time": now_rfc3339(), "user": _user(), "host": socket.gethostname(), **record}
        line = (json.dumps(rec, ensure_ascii=False, separators=(",", ":")) + "\n").encode("utf-8")
        try:
            self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError as e:
            raise AuditError(f"cannot open the audit log {self.path}: {e.strerror or e}") from e
        try:
            view = memoryview(line)
            while view:
                n = os.write(fd, view)
                view = view[n:]
            os.fsync(fd)
        except OSError as e:
            raise AuditError(f"cannot write the audit log {self.path}: {e.strerror or e}") from e
        finally:
            os.close(fd)
        return rec

    # -- the three kinds of record --------------------------------------------------------------------------
    def decision(self, *, command: str, cls: str, exposes: bool, decision: str, context: str | None,
                 note: str | None = None) -> str:
        """A command that did not run: declined by the user or refused by sre-expert."""
        run_id = uuid.uuid4().hex
        self.write({"id": run_id, "event": "decision", "context": context, "command": command, "class": cls,
                    "exposesSecrets": exposes, "decision": decision, **({"note": note} if note else {})})
        return run_id

    def start(self, *, command: str, cls: str, exposes: bool, decision: str, context: str | None,
              note: str | None = None) -> str:
        run_id = uuid.uuid4().hex
        self.write({"id": run_id, "event": "start", "context": context, "command": command, "class": cls,
                    "exposesSecrets": exposes, "decision": decision, **({"note": note} if note else {})})
        return run_id

    def end(self, run_id: str, *, command: str, cls: str, exposes: bool, decision: str, context: str | None,
            exit_code: int | None, stdout: bytes | None, stderr: bytes | None, duration: float,
            note: str | None = None) -> None:
        self.write({
            "id": run_id, "event": "end", "context": context, "command": command, "class": cls,
            "exposesSecrets": exposes, "decision": decision, "exit": exit_code,
            "outputSha256": sha256(stdout) if stdout is not None else None,
            "stderrSha256": sha256(stderr) if stderr is not None else None,
            "outputBytes": len(stdout) if stdout is not None else None,
            "durationSeconds": round(duration, 3), **({"note": note} if note else {}),
        })

    def records(self) -> list[dict[str, Any]]:
        """Every record, oldest first (for tests and `guard` tooling; the log is meant for humans and SIEMs)."""
        if not self.path.exists():
            return []
        return [json.loads(line) for line in self.path.read_text(encoding="utf-8").splitlines() if line.strip()]


def current_kube_context(env: Mapping[str, str] | None = None, kubeconfig: str | None = None) -> str | None:
    """The current-context of the kubeconfig kubectl would use (first file of $KUBECONFIG that sets one)."""
    env = os.environ if env is None else env
    paths = [kubeconfig] if kubeconfig else [p for p in (env.get("KUBECONFIG") or "").split(os.pathsep) if p]
    if not paths:
        paths = [str(Path(env.get("HOME") or Path.home()) / ".kube" / "config")]
    import yaml

    for p in paths:
        try:
            doc = yaml.safe_load(Path(p).expanduser().read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError, UnicodeDecodeError):
            continue
        if isinstance(doc, dict) and isinstance(doc.get("current-context"), str) and doc["current-context"]:
            return doc["current-context"]
    return None
