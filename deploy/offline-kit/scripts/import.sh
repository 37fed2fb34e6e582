#!/usr/bin/env bash
# StellaOps Offline Kit: import a kit into a directory with 'stella offline-kit import' (OFF-2).
#
# stella verifies the kit first and writes nothing unless it verifies; then it writes every file
# into the target (no path leaves it, no link is followed), refuses to replace a changed file
# without --force, and records the import in <target>/import.json. No network is used.
set -euo pipefail

me=$(basename "$0")

usage() {
  cat <<EOF
Usage: $me <kit.tar.gz> --target <dir> (--key <pub.pem> | --keyring <ring.json>) [--force] [--json]

Verifies an Offline Kit and imports it into --target (stella offline-kit import).

Arguments:
  <kit.tar.gz>          the Offline Kit archive (stella offline-kit build)
  --target <dir>        where the kit's files go (created if missing), e.g. /opt/stellaops/offline-kit
  --key <pub.pem>       the public key the kit must be signed with (SPKI PEM)
  --keyring <ring.json> or a key ring (keys checked at the kit's created_at)
  --force               replace files in --target whose content differs from the kit's
                        (without it such files are listed and nothing is written)
  --json                one JSON document instead of text
  -h, --help            this text

Importing the same kit again changes nothing. With STELLA_SEALED=true in the environment the
import reports the host as sealed.

Exit codes: 0 imported; 1 the kit does not verify (nothing written); 2 usage, a changed file
without --force, or an unwritable target.

Example:
  STELLA_SEALED=true bash $me stellaops-offline-kit.tar.gz --target /opt/stellaops/offline-kit --key kit-signing.pub.pem
EOF
}

die() {
  echo "$me: $1" >&2
  [ $# -lt 2 ] || echo "  hint: $2" >&2
  exit 2
}

kit=''
target=''
args=()
trusted=0
while [ $# -gt 0 ]; do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --target) [ $# -ge 2 ] || die '--target needs a directory'; target=$2; shift 2 ;;
    --key | --keyring) [ $# -ge 2 ] || die "$1 needs a file"; args+=("$1" "$2"); trusted=1; shift 2 ;;
    --force | --json) args+=("$1"); shift ;;
    -*) die "unknown option $1" "$me --help" ;;
    *) [ -z "$kit" ] || die "one kit at a time (got $kit and $1)"; kit=$1; shift ;;
  esac
done
[ -n "$kit" ] || die 'which kit? pass <kit.tar.gz>' "$me --help"
[ -n "$target" ] || die 'pass --target <dir>: where the kit goes' "$me --help"
[ "$trusted" -eq 1 ] || die 'pass --key <pub.pem> or --keyring <ring.json>: what the kit must be signed by' "$me --help"
command -v stella >/dev/null 2>&1 || die 'stella is not on PATH' 'install the stella CLI (npm install -g ./stellaops-cli-<version>.tgz) or add its bin directory to PATH'

exec stella offline-kit import "$kit" --target "$target" "${args[@]}"
