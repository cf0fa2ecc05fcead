#!/usr/bin/env bash
# The real programs the test suite drives, installed from Debian's packages when missing: Prometheus +
# promtool, Alertmanager + amtool, Chromium (headless page tests), PostgreSQL (initdb/pg_ctl for serve's
# PostgreSQL store, run as a throwaway server by tests/pg_harness.py) and libpq5 (psycopg's client library).
# kubectl must already be on PATH.
# Shared by `make test` (the README's test command) and `.ci/run`, so a fresh machine needs nothing else.
set -euo pipefail
command -v kubectl >/dev/null || { echo "kubectl is required on PATH (install it from your distribution or https://kubernetes.io/docs/tasks/tools/)" >&2; exit 1; }
need=()
command -v promtool >/dev/null || need+=(prometheus)
command -v prometheus-alertmanager >/dev/null || command -v alertmanager >/dev/null || need+=(prometheus-alertmanager)
command -v chromium >/dev/null || need+=(chromium)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null || need+=(postgresql)
ldconfig -p 2>/dev/null | grep -q 'libpq\.so\.5' || need+=(libpq5)
[ ${#need[@]} -eq 0 ] && exit 0
command -v apt-get >/dev/null || { echo "missing test programs (${need[*]}) and no apt-get to install them: install them, then rerun" >&2; exit 1; }
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "installing the test programs with apt-get: ${need[*]}" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
