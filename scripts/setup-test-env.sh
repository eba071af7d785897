#!/usr/bin/env bash
# Installs what `npm test` needs beyond npm packages, on Debian (run as root, or through sudo):
# the PC/SC stack (pcscd, the vsmartcard virtual reader, libpcsclite-dev and a compiler for the
# optional `smartcard` binding), Debian's Chromium with a Japanese font for the browser tests,
# OpenSSL and PostgreSQL (127.0.0.1:5432, trust authentication on loopback) for the storage tests.
# `.ci/run` runs it on a fresh machine; `npm test` names it when something is missing. Re-running
# it is harmless: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBIAN_FRONTEND=noninteractive

need_apt=()
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)
command -v pcscd >/dev/null 2>&1 || [ -x /usr/sbin/pcscd ] || need_apt+=(pcscd)
[ -e /usr/include/PCSC/winscard.h ] || need_apt+=(libpcsclite-dev)
ls /usr/lib/pcsc/drivers/serial/libifdvpcd.so* >/dev/null 2>&1 || need_apt+=(vsmartcard-vpcd)
command -v g++ >/dev/null 2>&1 || need_apt+=(g++)
command -v make >/dev/null 2>&1 || need_apt+=(make)
command -v python3 >/dev/null 2>&1 || need_apt+=(python3)
# Browser tests drive Debian's Chromium with playwright-core (no browser download); without a CJK
# font Japanese pages render as boxes.
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
[ -e /usr/share/fonts/opentype/ipafont-gothic/ipag.ttf ] || [ -e /usr/share/fonts/truetype/fonts-japanese-gothic.ttf ] || need_apt+=(fonts-ipafont-gothic)
installed_postgres=false
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  need_apt+=(postgresql)
  installed_postgres=true
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup-test-env: installing ${need_apt[*]}"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need_apt[@]}"
fi

# PostgreSQL on 127.0.0.1:5432 for the storage tests (each test makes and drops its own database).
version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -1)
if [ -n "$version" ] && [ "$installed_postgres" = true ]; then
  # A cluster this script installed: let loopback connect without a password, as the tests do.
  hba=/etc/postgresql/$version/main/pg_hba.conf
  sed -i -E 's/^(host\s+all\s+all\s+(127\.0\.0\.1\/32|::1\/128)\s+)\S+/\1trust/' "$hba"
  pg_ctlcluster --skip-systemctl-redirect "$version" main reload 2>/dev/null || true
fi
if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null && [ -n "$version" ]; then
  pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
fi
pg_isready -h 127.0.0.1 -p 5432 || { echo "setup-test-env: PostgreSQL is not reachable on 127.0.0.1:5432" >&2; exit 1; }

# An install made before libpcsclite-dev was there skipped the optional smartcard binding.
if [ -d node_modules ] && ! [ -e node_modules/smartcard/build/Release/smartcard_napi.node ]; then
  if [ -d node_modules/smartcard ]; then npm rebuild smartcard; else npm install --no-audit --no-fund; fi
fi
echo "setup-test-env: ready"
