"""A throwaway PostgreSQL for the tests: `initdb` + `pg_ctl` in a temp dir, on a free loopback port, its
unix socket in the same dir. One server per test process (started on first use, stopped at exit); each
test gets a database of its own.

initdb refuses to run as root, and tests run as root here and in CI: the server then runs as the
`postgres` user (runuser), in a temp dir handed to that user. Missing PostgreSQL programs stop the PG
tests with one message saying how to install them (tests/programs.py: a failure in CI, a skip elsewhere), never
the collection of the suite. A test using the `pg_dsn` fixture is e2e and needs postgres (tests/conftest.py).

Use: `from pg_harness import pg_dsn` in a test module (a function fixture: a fresh database's DSN), or
`pg_server()` for the server itself (`.dsn(db)`, `.create_database()`, `.port`, `.socket_dir`).
"""

from __future__ import annotations

import atexit
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import programs
import pytest

INSTALL_HINT = programs.missing_message("postgres")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgServer:
    """One PostgreSQL server in a temp dir. fsync off by default: the tests kill clients, never the
    machine, and a commit must still be a commit to every other connection (it is)."""

    def __init__(self, *, fsync: bool = False):
        self.fsync = fsync
        self.bin = programs.pg_bin_dir()
        self.dir: Path | None = None
        self.port = 0
        self._as: list[str] = []

    @property
    def socket_dir(self) -> str:
        assert self.dir is not None
        return str(self.dir)

    def _run(self, *args: str) -> subprocess.CompletedProcess[str]:
        assert self.bin is not None
        cmd = [*self._as, str(self.bin / args[0]), *args[1:]]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)

    def start(self) -> None:
        if self.bin is None:
            raise RuntimeError(INSTALL_HINT)
        self.dir = Path(tempfile.mkdtemp(prefix="sre-expert-pg-"))
        if os.geteuid() == 0:  # initdb refuses root: the server runs as postgres, in a dir it owns
            try:
                pw = pwd.getpwnam("postgres")
            except KeyError:
                raise RuntimeError("running as root and there is no `postgres` user to run PostgreSQL as "
                                   "(the Debian package creates it): " + INSTALL_HINT) from None
            os.chown(self.dir, pw.pw_uid, pw.pw_gid)
            self._as = ["runuser", "-u", "postgres", "--"]
        data = self.dir / "data"
        got = self._run("initdb", "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8",
                        "--no-locale", "--no-sync")
        if got.returncode:
            raise RuntimeError(f"initdb failed: {got.stderr.strip() or got.stdout.strip()}")
        self.port = free_port()
        opts = (f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c max_connections=300 "
                f"-c fsync={'on' if self.fsync else 'off'} -c full_page_writes={'on' if self.fsync else 'off'}")
        got = self._run("pg_ctl", "-D", str(data), "-l", str(self.dir / "server.log"), "-w", "-t", "60",
                        "-o", opts, "start")
        if got.returncode:
            log = (self.dir / "server.log").read_text(errors="replace")[-2000:] if (self.dir / "server.log").exists() else ""
            raise RuntimeError(f"pg_ctl start failed: {got.stderr.strip()} {log}")

    def dsn(self, dbname: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def create_database(self, name: str | None = None) -> str:
        """A new empty database; its DSN."""
        import psycopg

        name = name or f"t_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(self.dsn(), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.dsn(name)

    def stop(self) -> None:
        if self.dir is None:
            return
        if self.port:
            self._run("pg_ctl", "-D", str(self.dir / "data"), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.dir, ignore_errors=True)
        self.dir = None


_server: PgServer | None = None
_server_error: str | None = None
_lock = threading.Lock()


def pg_server() -> PgServer:
    """The process's PostgreSQL, started on first use; fails the calling test (only) when it cannot run."""
    global _server, _server_error
    with _lock:
        if _server is None and _server_error is None:
            server = PgServer()
            try:
                server.start()
            except (RuntimeError, OSError, subprocess.SubprocessError) as e:
                server.stop()
                _server_error = str(e)
            else:
                _server = server
                atexit.register(server.stop)
        if _server is None:
            if programs.find("postgres") is None:
                programs.stop(INSTALL_HINT)
            pytest.fail(f"PostgreSQL tests cannot run: {_server_error}", pytrace=False)
        return _server


@pytest.fixture
def pg_dsn() -> Iterator[str]:
    """A fresh, empty database on the test PostgreSQL."""
    try:
        import psycopg  # noqa: F401
    except ImportError as e:
        pytest.fail(f"PostgreSQL tests need psycopg: pip install -e '.[test]' ({e})", pytrace=False)
    yield pg_server().create_database()
