"""Attacks on the many-cluster and PostgreSQL `serve` and on fleet `check`: each test here failed before
its fix (passwords in messages, terminal escapes in names, …)."""

from __future__ import annotations

import pytest

from sre_expert.server.store import StoreError, describe_db, open_store

SECRET = "S3cr3tPw"


# ------------------------------------------------------------------------------ DSN passwords
@pytest.mark.parametrize("dsn", [
    f"postgresql://sre:{SECRET}#x@127.0.0.1:1/sre",  # libpq reads `#` as part of the password
    f"postgresql://sre:{SECRET}?x@127.0.0.1:1/sre",  # and `?` (it looks for `@` before any `/`)
    f"postgresql://sre:{SECRET}/x@127.0.0.1:1/sre",  # an unencoded `/`: libpq fails, the message must not tell
    f"postgresql://sre@127.0.0.1:1/sre?password={SECRET}",  # libpq takes the password as a parameter too
    f"postgresql://sre@127.0.0.1:1/sre?sslmode=disable&PassWord={SECRET}&connect_timeout=1",
    f"postgres://sre:{SECRET}@127.0.0.1:notaport/sre",  # urlsplit's .port raised ValueError: a traceback
    f"postgresql://sre:{SECRET}@[::1:1/sre",  # urlsplit: "Invalid IPv6 URL"
])
def test_describe_db_never_shows_the_password_nor_raises(dsn: str) -> None:
    shown = describe_db(dsn)
    assert SECRET not in shown and "***" in shown
    assert shown.startswith(dsn.split("://")[0] + "://sre")


def test_describe_db_keeps_what_has_no_password() -> None:
    assert describe_db("postgresql://sre@db.example.org:5432/sre?sslmode=require") == \
        "postgresql://sre@db.example.org:5432/sre?sslmode=require"
    assert describe_db("postgresql://sre:pw@db.example.org:5432/sre?sslmode=require") == \
        "postgresql://sre:***@db.example.org:5432/sre?sslmode=require"
    assert describe_db("postgresql:///sre?host=/run/postgresql") == "postgresql:///sre?host=/run/postgresql"


@pytest.mark.parametrize("dsn", [
    f"postgresql://sre:{SECRET}%zz@127.0.0.1:1/sre",  # libpq: invalid percent-encoded token: "<password>"
    f"postgresql://sre:{SECRET}@127.0.0.1:notaport/sre",
    f"postgresql://sre:{SECRET}#x@127.0.0.1:1/sre",
    f"postgresql://sre@127.0.0.1:1/sre?password={SECRET}%zz",
])
def test_a_dsn_libpq_refuses_is_a_store_error_without_the_password(dsn: str) -> None:
    pytest.importorskip("psycopg")
    with pytest.raises(StoreError) as err:
        open_store(dsn)
    assert SECRET not in str(err.value)
