#!/usr/bin/env bash
# StellaOps Offline Kit: check that this host can use the kit, verify the kit, print the next steps.
#
# Run it from the imported kit (stella offline-kit import writes scripts/ into the target) — or
# from any copy of scripts/ once the archive itself has been verified by hand with
# 'stella offline-kit verify': a script is only as trustworthy as the kit it came from.
set -euo pipefail

me=$(basename "$0")
kit_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

usage() {
  cat <<EOF
Usage: $me --kit <kit.tar.gz> (--key <pub.pem> | --keyring <ring.json>)

Checks the prerequisites of the Offline Kit on this host, verifies the kit, and prints what to do next.

  1. node 20.11 or later on PATH
  2. stella on PATH (the StellaOps CLI; its version is printed)
  3. the kit verifies: 'stella offline-kit verify' (manifest signature, every file, the pinned
     Collector binaries, every profile's signature)
  4. when run from an imported kit ($kit_dir/import.json): that the import records this very kit,
     and that its Collector binaries are executable
  5. whether this host is sealed (STELLA_SEALED=true)

Arguments:
  --kit <kit.tar.gz>    the Offline Kit archive (stella offline-kit build)
  --key <pub.pem>       the public key the kit must be signed with (SPKI PEM)
  --keyring <ring.json> or a key ring (keys checked at the kit's created_at)
  -h, --help            this text

Exit codes: 0 ready; 1 the kit does not verify (or the import records another kit); 2 a
prerequisite is missing, or usage.

Example:
  bash /opt/stellaops/offline-kit/scripts/$me --kit stellaops-offline-kit.tar.gz --key kit-signing.pub.pem
EOF
}

die() {
  echo "$me: $1" >&2
  [ $# -lt 2 ] || echo "  hint: $2" >&2
  exit 2
}

kit=''
trust=()
while [ $# -gt 0 ]; do
  case "$1" in
    -h | --help) usage; exit 0 ;;
    --kit) [ $# -ge 2 ] || die '--kit needs a file'; kit=$2; shift 2 ;;
    --key) [ $# -ge 2 ] || die '--key needs a file'; trust+=(--key "$2"); shift 2 ;;
    --keyring) [ $# -ge 2 ] || die '--keyring needs a file'; trust+=(--keyring "$2"); shift 2 ;;
    *) die "unknown argument $1" "$me --help" ;;
  esac
done
[ -n "$kit" ] || die 'pass --kit <kit.tar.gz>' "$me --help"
[ ${#trust[@]} -gt 0 ] || die 'pass --key <pub.pem> or --keyring <ring.json>: what the kit must be signed by' "$me --help"

echo "== prerequisites"
missing=0
if command -v node >/dev/null 2>&1; then
  node_version=$(node -p 'process.versions.node')
  IFS=. read -r major minor _ <<<"$node_version"
  if [ "$major" -gt 20 ] || { [ "$major" -eq 20 ] && [ "$minor" -ge 11 ]; }; then
    echo "ok   node $node_version"
  else
    echo "FAIL node $node_version is older than 20.11 (the stella CLI and the service need 20.11 or later)"
    missing=1
  fi
else
  echo "FAIL node is not on PATH (install Node.js 20.11 or later from your offline mirror)"
  missing=1
fi
if command -v stella >/dev/null 2>&1; then
  echo "ok   stella $(stella --version) ($(command -v stella))"
else
  echo "FAIL stella is not on PATH (install the CLI package, e.g. npm install -g ./stellaops-cli-<version>.tgz)"
  missing=1
fi
[ -f "$kit" ] || { echo "FAIL no kit at $kit"; missing=1; }
[ "$missing" -eq 0 ] || die 'prerequisites missing (above); nothing was verified'

echo "== verify $kit"
status=0
stella offline-kit verify "$kit" "${trust[@]}" || status=$?
[ "$status" -eq 0 ] || { echo "$me: the kit does not verify (above): do not import or run anything from it" >&2; exit "$status"; }

if [ -f "$kit_dir/import.json" ]; then
  echo "== imported kit in $kit_dir"
  # node is a prerequisite anyway: no sha256sum or jq needed.
  if ! node -e '
    const { createHash } = require("node:crypto");
    const { readFileSync } = require("node:fs");
    const [kit, record] = process.argv.slice(1);
    const rec = JSON.parse(readFileSync(record, "utf8"));
    const digest = createHash("sha256").update(readFileSync(kit)).digest("hex");
    if (rec.kit_sha256 !== digest) {
      console.log(`FAIL ${record} records kit sha256 ${rec.kit_sha256}, but ${kit} is ${digest}: another kit was imported here`);
      process.exit(1);
    }
    console.log(`ok   import.json records this kit (sha256 ${digest}), imported ${rec.imported_at}, sealed then: ${rec.sealed}`);
  ' "$kit" "$kit_dir/import.json"; then
    exit 1
  fi
  for bin in "$kit_dir"/collector/*; do
    [ -e "$bin" ] || continue
    if [ -x "$bin" ]; then echo "ok   collector binary $bin is executable"; else echo "FAIL collector binary $bin is not executable (chmod 0755 it, or import again)"; exit 1; fi
  done
fi

echo "== sealed"
sealed=${STELLA_SEALED:-}
case "${sealed,,}" in
  1 | true | yes | on) echo "ok   STELLA_SEALED=$sealed: replays and exporters reach loopback only (or the telemetry policy's egress.allowlist)" ;;
  *) echo "note STELLA_SEALED is not true in this shell: on an air-gapped host, set STELLA_SEALED=true for the service and for every stella command" ;;
esac

trust_args=${trust[*]}
collector='<pinned collector binary>'
if [ -f "$kit_dir/import.json" ]; then
  import_step="The kit is imported in $kit_dir. A newer kit goes in the same way (changed files only with --force):
       bash $kit_dir/scripts/import.sh <new-kit.tar.gz> --target $kit_dir $trust_args"
else
  import_step="Import the kit (verifies again; never overwrites a changed file without --force):
       bash $kit_dir/scripts/import.sh $kit --target /opt/stellaops/offline-kit $trust_args"
fi
for bin in "$kit_dir"/collector/*; do
  if [ -e "$bin" ]; then collector=$bin; break; fi
done
cat <<EOF

Next steps:
  1. $import_step
  2. Seal the host: STELLA_SEALED=true in the service's environment and in the shell that runs stella.
  3. Deploy the Collector with the signed airgap profile (files only, no network egress):
       $collector validate --config $kit_dir/profiles/airgap/config.yaml
     The pinned binaries are under $kit_dir/collector/ (their SHA-256 in manifest.json, "collectors").
  4. Replay a forensic capture into the local service (verified first, loopback only):
       bash $kit_dir/scripts/replay.sh <capture.tar.gz> --key <capture.pub.pem>
  5. Work through the checklists and keep the evidence they ask for:
       $kit_dir/compliance/sealed-install-checklist.md
       $kit_dir/compliance/forensic-replay-checklist.md
       $kit_dir/compliance/evidence-retention-checklist.md
EOF
