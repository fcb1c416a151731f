#!/usr/bin/env bash
# Sets up the suite on a fresh Debian/Ubuntu machine: system packages (Kerberos, Chromium, ODBC),
# a virtualenv in .venv with the suite and its sandbox. `./setup.sh --dev` adds the self-test tools.
set -euo pipefail
cd "$(dirname "$0")"

APT_PACKAGES=(
  krb5-user krb5-kdc krb5-admin-server libkrb5-dev gcc   # Kerberos client; the sandbox's KDC; gssapi build
  chromium                                               # the browser checks (Debian's build)
  unixodbc unixodbc-dev tdsodbc freetds-bin              # pyodbc and the FreeTDS SQL Server driver
)
# The Allure report command line runs on Node.js; a Node.js from elsewhere (NodeSource, nvm) is fine.
command -v npm >/dev/null 2>&1 || APT_PACKAGES+=(nodejs npm)

python="${PYTHON:-python3}"
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "setup: needs Python 3.11 or newer as ${python} — install it, or run PYTHON=/path/to/python3.11 ./setup.sh" >&2
  exit 1
fi
# Debian's own Python keeps venv and the C headers (gssapi compiles against them) in separate packages.
"$python" -c 'import ensurepip' 2>/dev/null || APT_PACKAGES+=(python3-venv)
"$python" -c 'import os, sysconfig; os.stat(os.path.join(sysconfig.get_paths()["include"], "Python.h"))' \
  2>/dev/null || APT_PACKAGES+=(python3-dev)

extra="sandbox"
[ "${1:-}" = "--dev" ] && extra="dev"

if command -v apt-get >/dev/null 2>&1; then
  missing=()
  for package in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    echo "setup: installing ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
else
  echo "setup: no apt-get here; install MIT Kerberos, Chromium (or Edge/Chrome), unixODBC + a SQL Server driver yourself"
fi

[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[$extra]"

# The Allure command line that renders the single-file HTML report (package.json, pinned by package-lock.json).
# Without it a run still gives its verdict, summary and JUnit XML, and says how to render the report later.
if [ ! -x node_modules/.bin/allure ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  if command -v npm >/dev/null 2>&1; then
    npm ci --no-audit --no-fund --loglevel=error
  else
    echo "setup: npm not found: install Node.js 18+ and run 'npm ci' here for the HTML report"
  fi
fi
echo "setup: ready (.venv, node_modules)"
