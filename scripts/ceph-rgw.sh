#!/usr/bin/env bash
# A throwaway single-node Ceph cluster with a RADOS Gateway (RGW), the S3 server with Object Lock
# that the evidence locker's S3 backend is tested against (packages/server/test/blob/s3-object-lock.test.ts).
#
#   scripts/ceph-rgw.sh start   installs Ceph's Debian packages when missing, starts one monitor,
#                               one memstore OSD (data in memory only) and RGW on loopback, creates
#                               an S3 user, then prints the environment for the tests
#   scripts/ceph-rgw.sh env     prints that environment again (eval "$(scripts/ceph-rgw.sh env)")
#   scripts/ceph-rgw.sh stop    stops every daemon and removes the cluster's directory
#
# No systemd: the daemons run in the background with pid files under the cluster's own directory
# ($STELLA_CEPH_DIR, default stellaops-ceph-rgw in the temporary directory), with their own
# configuration file, so nothing of a system-wide Ceph is read or touched. `start` on a running
# cluster only prints the environment. Settings (environment): STELLA_CEPH_MON_PORT (16789),
# STELLA_CEPH_RGW_PORT (17480), STELLA_CEPH_START_TIMEOUT (seconds, 180).
set -euo pipefail

tmp_root=$(dirname "$(mktemp -u)")
DIR=${STELLA_CEPH_DIR:-$tmp_root/stellaops-ceph-rgw}
MON_PORT=${STELLA_CEPH_MON_PORT:-16789}
RGW_PORT=${STELLA_CEPH_RGW_PORT:-17480}
TIMEOUT=${STELLA_CEPH_START_TIMEOUT:-180}
CONF=$DIR/ceph.conf
ENDPOINT=http://127.0.0.1:$RGW_PORT
S3_UID=stellaops-test

log() { echo "ceph-rgw: $*" >&2; }
die() {
  log "$*"
  for f in "$DIR"/log/*.log; do
    [ -f "$f" ] && { echo "--- last lines of $f" >&2; tail -n 20 "$f" >&2; }
  done
  exit 1
}
ceph_() { timeout 30 ceph -c "$CONF" --connect-timeout 10 "$@"; }
deadline=0
# Retries "$@" once a second until it succeeds or the start deadline passes.
wait_for() {
  local what=$1
  shift
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$deadline" ] || die "timed out after ${TIMEOUT}s waiting for $what"
    sleep 1
  done
}

install_packages() {
  local need=()
  command -v ceph-mon >/dev/null 2>&1 || need+=(ceph-mon)
  command -v ceph-osd >/dev/null 2>&1 || need+=(ceph-osd)
  command -v radosgw >/dev/null 2>&1 || need+=(radosgw)
  command -v ceph >/dev/null 2>&1 || need+=(ceph-common)
  [ ${#need[@]} -eq 0 ] && return 0
  log "installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
}

alive() { [ -f "$DIR/run/$1.pid" ] && kill -0 "$(cat "$DIR/run/$1.pid")" 2>/dev/null; }
rgw_answers() { curl -fsS -o /dev/null --max-time 3 "$ENDPOINT/"; }

print_env() {
  [ -f "$DIR/s3.env" ] || die "no cluster in $DIR (run: $0 start)"
  cat "$DIR/s3.env"
}

stop() {
  local name pid i
  for name in client.rgw osd.0 mon.a; do
    [ -f "$DIR/run/$name.pid" ] || continue
    pid=$(cat "$DIR/run/$name.pid")
    # Only a daemon of this cluster: a stale pid file may name a process that reused the number.
    grep -q -- "$CONF" "/proc/$pid/cmdline" 2>/dev/null || continue
    kill "$pid" 2>/dev/null || continue
    for i in $(seq 1 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.2
    done
    kill -9 "$pid" 2>/dev/null || true
  done
  rm -rf "$DIR"
}

start() {
  if alive client.rgw && alive osd.0 && alive mon.a && rgw_answers && [ -f "$DIR/s3.env" ]; then
    print_env
    return 0
  fi
  [ -d "$DIR" ] && stop
  install_packages
  command -v curl >/dev/null 2>&1 || die "curl is needed"
  local t0 fsid osd_uuid access secret
  t0=$(date +%s)
  deadline=$((t0 + TIMEOUT))
  mkdir -p "$DIR"/{run,log,mon,osd/osd.0,rgw/client.rgw}
  fsid=$(cat /proc/sys/kernel/random/uuid)
  cat >"$CONF" <<EOF
[global]
fsid = $fsid
mon_host = [v1:127.0.0.1:$MON_PORT]
public_addr = 127.0.0.1
ms_bind_msgr2 = false
ms_bind_ipv6 = false
auth_cluster_required = none
auth_service_required = none
auth_client_required = none
run_dir = $DIR/run
pid_file = $DIR/run/\$name.pid
admin_socket = $DIR/run/\$name.asok
log_file = $DIR/log/\$name.log
log_to_stderr = false
err_to_stderr = true
keyring = $DIR/keyring
mon_data = $DIR/mon/\$name
osd_data = $DIR/osd/\$name
rgw_data = $DIR/rgw/\$name
osd_objectstore = memstore
memstore_device_bytes = 1073741824
osd_memory_target = 536870912
osd_op_num_shards = 1
osd_op_num_threads_per_shard = 2
osd_pool_default_size = 1
osd_pool_default_min_size = 1
osd_pool_default_pg_num = 1
osd_pool_default_pgp_num = 1
osd_pool_default_pg_autoscale_mode = off
osd_crush_chooseleaf_type = 0
# The OSD is placed in the CRUSH map below, before it starts: its own placement commands at
# start race with its first monitor map and fail now and then ("wrong fsid").
osd_crush_update_on_start = false
osd_class_update_on_start = false
mon_allow_pool_size_one = true
mon_allow_pool_delete = true
mon_warn_on_pool_no_redundancy = false
rgw_frontends = beast endpoint=127.0.0.1:$RGW_PORT
rgw_thread_pool_size = 16
rgw_dns_name = 127.0.0.1
EOF
  ceph-authtool --create-keyring "$DIR/keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
  monmaptool --create --fsid "$fsid" --addv a "[v1:127.0.0.1:$MON_PORT]" "$DIR/monmap" >/dev/null
  ceph-mon -c "$CONF" -i a --mkfs --monmap "$DIR/monmap" >/dev/null || die "ceph-mon --mkfs failed"
  ceph-mon -c "$CONF" -i a 2>>"$DIR/log/daemons.err" || die "ceph-mon did not start"
  wait_for "the monitor" ceph_ mon stat

  osd_uuid=$(cat /proc/sys/kernel/random/uuid)
  [ "$(ceph_ osd new "$osd_uuid")" = 0 ] || die "ceph osd new did not answer 0"
  ceph_ osd crush add osd.0 1.0 root=default >/dev/null 2>&1 || die "ceph osd crush add failed"
  ceph-osd -c "$CONF" -i 0 --mkfs --osd-uuid "$osd_uuid" >/dev/null 2>&1 || die "ceph-osd --mkfs failed"
  ceph-osd -c "$CONF" -i 0 2>>"$DIR/log/daemons.err" || die "ceph-osd did not start"
  wait_for "the OSD" sh -c "ceph -c '$CONF' --connect-timeout 10 osd dump 2>/dev/null | grep -q '^osd.0 up'"

  radosgw -c "$CONF" -n client.rgw 2>>"$DIR/log/daemons.err" || die "radosgw did not start"
  wait_for "RGW on $ENDPOINT" rgw_answers

  access=$(head -c 10 /dev/urandom | od -An -tx1 | tr -d ' \n' | tr a-f A-F)
  secret=$(head -c 30 /dev/urandom | od -An -tx1 | tr -d ' \n')
  timeout 60 radosgw-admin -c "$CONF" user create --uid "$S3_UID" --display-name "StellaOps tests" \
    --access-key "$access" --secret-key "$secret" >/dev/null || die "radosgw-admin user create failed"
  cat >"$DIR/s3.env" <<EOF
export STELLA_TEST_S3_ENDPOINT=$ENDPOINT
export STELLA_TEST_S3_REGION=us-east-1
export STELLA_TEST_S3_ACCESS_KEY=$access
export STELLA_TEST_S3_SECRET_KEY=$secret
EOF
  log "Ceph $(ceph-mon --version | awk '{print $3}') RGW ready on $ENDPOINT in $(($(date +%s) - t0))s (cluster in $DIR)"
  print_env
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  env) print_env ;;
  *)
    echo "usage: $0 start|stop|env" >&2
    exit 2
    ;;
esac
