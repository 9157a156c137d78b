#!/usr/bin/env bash
# Debian/Ubuntu packages civic311 needs on the host: SIPp (simulated phones), debootstrap
# (to build the cached Asterisk root when no Asterisk >= 20 is installed), espeak-ng + sox
# (IVR prompts), Chromium (browser tests), poppler-utils (pdftoppm: the tests render the
# scheduled reports' PDF), nodejs + npm (the browser phone's SIP.js, from package-lock.json),
# dovecot-imapd + openssl (the e-mail-in tests run their own IMAP server: the package's
# system service is switched off again), kamailio with its websocket and tls modules (the
# SIP front door of several Asterisk nodes and the agents' phones' registrar, over UDP,
# TCP, TLS and WebSocket, docs/nodes.md: civic311 runs its own, so the package's service
# is switched off too), socat (the tests' TLS tunnel: SIPp is built without TLS).
# Installs only what is missing; needs root.
set -euo pipefail
need=()
command -v sipp >/dev/null || need+=(sip-tester)
command -v espeak-ng >/dev/null || need+=(espeak-ng)
command -v sox >/dev/null || need+=(sox)
command -v chromium >/dev/null || need+=(chromium)
command -v pdftoppm >/dev/null || need+=(poppler-utils)
command -v npm >/dev/null || need+=(nodejs npm)
command -v openssl >/dev/null || need+=(openssl)
command -v dovecot >/dev/null || need+=(dovecot-imapd)
command -v kamailio >/dev/null || [ -x /usr/sbin/kamailio ] || need+=(kamailio)
# the front door's WebSocket (browser phones) and TLS (wss) modules are packaged apart
kmods=/usr/lib/x86_64-linux-gnu/kamailio/modules
[ -e "$kmods/websocket.so" ] || [ -e /usr/lib/kamailio/modules/websocket.so ] \
  || need+=(kamailio-websocket-modules)
[ -e "$kmods/tls.so" ] || [ -e /usr/lib/kamailio/modules/tls.so ] || need+=(kamailio-tls-modules)
command -v socat >/dev/null || need+=(socat)
if ! command -v asterisk >/dev/null; then command -v debootstrap >/dev/null || need+=(debootstrap); fi
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "civic311 needs: ${need[*]} (run: sudo apt-get install ${need[*]})" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
if [[ " ${need[*]} " == *" dovecot-imapd "* ]] && command -v systemctl >/dev/null; then
  systemctl disable --now dovecot >/dev/null 2>&1 || true
fi
if [[ " ${need[*]} " == *" kamailio "* ]] && command -v systemctl >/dev/null; then
  systemctl disable --now kamailio >/dev/null 2>&1 || true
fi
