#!/usr/bin/env bash
# StellaOps Offline Kit: replay a forensic capture into the local service (FOR-3, OFF-2).
#
# Verifies the capture against a trusted public key (stella forensic verify) and only then
# re-sends its traces, metrics and logs to the local service's OTLP/HTTP receiver
# (stella telemetry replay). Loopback only: this script refuses any other receiver, and with
# STELLA_SEALED=true stella's own sealed-mode egress guard refuses it again before a request.
set -euo pipefail

me=$(basename "$0")

usage() {
  cat <<EOF
Usage: $me <capture.tar.gz> --key <capture.pub.pem> [--to <url>] [--token <jwt>] [--tenant <tenant>]

Verifies a forensic capture, then replays its records into the local StellaOps service.
Nothing is sent unless the capture verifies.

Arguments:
  <capture.tar.gz>   the capture: from 'stella telemetry capture', or an incident's automatic
                     capture (.tar.gz or the .tar inside it)
  --key <pub.pem>    the public key the capture must be signed with (SPKI PEM), saved on the
                     capturing side with 'stella telemetry signing-key --out capture.pub.pem';
                     a capture signed by any other key, or altered, is refused (exit 1)
  --to <url>         the local service's OTLP/HTTP receiver, loopback only (127.0.0.0/8, ::1,
                     localhost); default http://127.0.0.1:\${STELLA_OTLP_HTTP_PORT:-4318}
  --token <jwt>      bearer token with stella:telemetry:write for the tenant the records go to
                     (default: \$STELLA_TOKEN; e.g. stella auth token --scope
                     'stella:telemetry:write#tenant/<tenant>' on an embedded install)
  --tenant <tenant>  X-Stella-Tenant, when the token names several tenants (default: \$STELLA_TENANT)
  -h, --help         this text

Exit codes: 0 replayed; 1 the capture does not verify (nothing sent); 2 usage, a receiver that
is not loopback, or an error answer from the receiver.

Example:
  STELLA_SEALED=true STELLA_TOKEN="\$(stella auth token --scope 'stella:telemetry:write#tenant/acme')" \\
    $me incident-42.tar.gz --key keys/capture.pub.pem --to http://127.0.0.1:4318
EOF
}

die() {
  echo "$me: $1" >&2
  [ $# -lt 2 ] || echo "  hint: $2" >&2
  exit 2
}

capture=''
key=''
to="http://127.0.0.1:${STELLA_OTLP_HTTP_PORT:-4318}"
token="${STELLA_TOKEN:-}"
tenant="${STELLA_TENANT:-}"
while [ $# -gt 0 ]; do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --key) [ $# -ge 2 ] || die '--key needs a file'; key=$2; shift 2 ;;
    --to) [ $# -ge 2 ] || die '--to needs a URL'; to=$2; shift 2 ;;
    --token) [ $# -ge 2 ] || die '--token needs a token'; token=$2; shift 2 ;;
    --tenant) [ $# -ge 2 ] || die '--tenant needs a tenant'; tenant=$2; shift 2 ;;
    -*) die "unknown option $1" "$me --help" ;;
    *) [ -z "$capture" ] || die "one capture at a time (got $capture and $1)"; capture=$1; shift ;;
  esac
done
[ -n "$capture" ] || die 'which capture? pass <capture.tar.gz>' "$me --help"
[ -n "$key" ] || die 'pass --key <capture.pub.pem>: the public key the capture must be signed with' "$me --help"
[ -f "$capture" ] || die "no capture at $capture"
[ -f "$key" ] || die "no public key at $key"
command -v stella >/dev/null 2>&1 || die 'stella is not on PATH' 'install the stella CLI (npm install -g ./stellaops-cli-<version>.tgz) or add its bin directory to PATH'

# The receiver's host: scheme://[user@]host[:port][/path], IPv6 in brackets.
case "$to" in
  http://* | https://*) ;;
  *) die "--to $to is not an http:// or https:// URL" 'e.g. --to http://127.0.0.1:4318' ;;
esac
authority=${to#*://}
authority=${authority%%/*}
authority=${authority##*@}
if [[ $authority == \[* ]]; then
  host=${authority#\[}
  host=${host%%\]*}
else
  host=${authority%%:*}
fi
case "$host" in
  localhost | ::1 | 0:0:0:0:0:0:0:1) ;;
  *)
    [[ $host =~ ^127\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}$ ]] ||
      die "--to $to: $host is not a loopback address; this script replays into the local service only" 'use --to http://127.0.0.1:4318 (the service on this host); to send elsewhere, use stella telemetry replay directly (refused with STELLA_SEALED=true)'
    ;;
esac

auth=()
[ -z "$token" ] || auth+=(--token "$token")
[ -z "$tenant" ] || auth+=(--tenant "$tenant")

echo "== 1/2 verify $capture (stella forensic verify)"
stella forensic verify "$capture" --key "$key"
echo "== 2/2 replay into $to (stella telemetry replay; STELLA_SEALED=${STELLA_SEALED:-unset})"
stella telemetry replay "$capture" --to "$to" --key "$key" ${auth[@]+"${auth[@]}"}
