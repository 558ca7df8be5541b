#!/usr/bin/env bash
# Installs the system packages kitvet's tests use as real validators and browser:
# chromium + chromium-driver (web tests), usbguard (rule parser), nftables (nft -f in network
# namespaces the tests create with iproute2), libxml2-utils (xmllint against the WDAC/AppLocker
# schemas), umockdev (usbguard-daemon runs on mock USB devices in the tests),
# default-jre-headless (Spark engine tests), postgresql (the tests start their own throwaway
# server from its binaries), rpm (the real rpm reads the rpm databases the tests
# write), db5.3-util (libdb writes real Berkeley DB files), poppler-utils (reads PDF reports),
# libpango + fonts-dejavu-core (WeasyPrint renders estate reports and dossiers to PDF). Skips what is already present.
set -euo pipefail
need=()
command -v chromium >/dev/null 2>&1 || need+=(chromium chromium-driver)
command -v usbguard >/dev/null 2>&1 || need+=(usbguard)
command -v nft >/dev/null 2>&1 || need+=(nftables)
command -v ip >/dev/null 2>&1 || need+=(iproute2)
command -v xmllint >/dev/null 2>&1 || need+=(libxml2-utils)
command -v umockdev-wrapper >/dev/null 2>&1 || need+=(umockdev)
command -v java >/dev/null 2>&1 || need+=(default-jre-headless)
ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || command -v pg_ctl >/dev/null 2>&1 \
  || need+=(postgresql)
command -v rpm >/dev/null 2>&1 || need+=(rpm)
command -v db5.3_load >/dev/null 2>&1 || need+=(db5.3-util)
command -v pdftotext >/dev/null 2>&1 || need+=(poppler-utils)
ldconfig -p 2>/dev/null | grep -q 'libpangoft2-1.0' || need+=(libpango-1.0-0 libpangoft2-1.0-0)
[ -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ] || need+=(fonts-dejavu-core)
if [ ${#need[@]} -eq 0 ]; then exit 0; fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "system-deps: not root and no sudo; missing ${need[*]} (the tests needing them will skip)" >&2
    exit 0
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
