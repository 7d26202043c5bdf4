#!/usr/bin/env bash
# A throwaway one-node Ceph cluster with an S3 endpoint (RADOS Gateway) on 127.0.0.1, for the S3 tests in CI.
#
#   scripts/ceph-rgw.sh start [DIR]   bring it up; prints `endpoint=... access_key=... secret_key=...` and writes the
#                                     same lines as shell assignments to DIR/env (source it)
#   scripts/ceph-rgw.sh stop  [DIR]   kill the daemons and remove DIR
#
# DIR defaults to $CEPH_RGW_DIR, else /tmp/zarr-stream-ceph. Ports: $CEPH_RGW_PORT (default 7480) for S3,
# $CEPH_MON_PORT (default 13300) for the monitor (msgr2). Memory: $CEPH_MEMSTORE_BYTES (default 2 GiB) caps what
# the OSD holds, all of it in RAM.
#
# One monitor, one OSD on memstore (no disk), pools of size 1, no manager (I/O does not need one; `ceph -s` then
# shows HEALTH_WARN "no active mgr"), radosgw with the beast frontend. Every file lives in DIR; no systemd. Needs
# the Debian 12 packages ceph-mon ceph-osd radosgw (ceph-common comes with them).
set -eEuo pipefail

cmd=${1:-}
dir=${2:-${CEPH_RGW_DIR:-/tmp/zarr-stream-ceph}}
rgw_port=${CEPH_RGW_PORT:-7480}
mon_port=${CEPH_MON_PORT:-13300}
memstore_bytes=${CEPH_MEMSTORE_BYTES:-2147483648}
conf=$dir/ceph.conf

for value in "$rgw_port" "$mon_port" "$memstore_bytes"; do
  [[ $value =~ ^[1-9][0-9]*$ ]] || { echo "ceph-rgw: CEPH_RGW_PORT, CEPH_MON_PORT, CEPH_MEMSTORE_BYTES must be positive integers, got '$value'" >&2; exit 2; }
done

log() { echo "ceph-rgw: $*" >&2; }
# Set once start has made $dir: from then on a failure stops what was started and removes $dir, so a failed
# start leaves nothing running.
cleanup_on_failure=0
fail() {
  log "$*"
  if ((cleanup_on_failure)); then
    cleanup_on_failure=0
    tail -n 5 "$dir"/log/* >&2 || true
    stop
  fi
  exit 1
}
trap 'fail "failed at line $LINENO: $BASH_COMMAND"' ERR

# True when an HTTP server answers on 127.0.0.1:$1 (bash's /dev/tcp: a minimal Debian has no curl).
http_up() {
  local status
  exec 3<>"/dev/tcp/127.0.0.1/$1" || return 1
  printf 'GET / HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3
  read -r -t 5 status <&3 || true
  exec 3<&-
  [[ $status == HTTP/* ]]
}

# Polls `$@` once a second until it succeeds or `seconds` pass; then shows the daemon's log and fails.
wait_for() {
  local what=$1 seconds=$2 logfile=$3
  shift 3
  local i
  for ((i = 0; i < seconds; i++)); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 1
  done
  log "$what not up after ${seconds}s; last lines of $logfile:"
  tail -n 30 "$logfile" >&2 || true
  fail "$what did not come up"
}

stop() {
  [[ -d $dir ]] || return 0
  [[ -f $conf ]] || fail "$dir has no ceph.conf: not ours, refusing to remove it"
  local pidfile pid
  for pidfile in "$dir"/run/*.pid; do
    [[ -f $pidfile ]] || continue
    pid=$(<"$pidfile")
    kill "$pid" 2>/dev/null || true
  done
  for pidfile in "$dir"/run/*.pid; do
    [[ -f $pidfile ]] || continue
    pid=$(<"$pidfile")
    for _ in {1..20}; do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    kill -9 "$pid" 2>/dev/null || true
  done
  rm -rf -- "$dir"
}

start() {
  local t0=$SECONDS
  for bin in ceph-mon ceph-osd radosgw radosgw-admin ceph ceph-authtool monmaptool; do
    command -v "$bin" >/dev/null || fail "$bin not found: apt-get install -y --no-install-recommends ceph-mon ceph-osd radosgw"
  done
  [[ -e $dir ]] && fail "$dir exists: run '$0 stop $dir' first"
  local port
  for port in "$mon_port" "$rgw_port"; do
    # bash's /dev/tcp: a connection that succeeds means something already listens there.
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      fail "127.0.0.1:$port is in use (set CEPH_MON_PORT / CEPH_RGW_PORT)"
    fi
  done
  mkdir -p "$dir"/{mon.a,osd.0,run,log}
  cleanup_on_failure=1
  local fsid keyring=$dir/keyring
  fsid=$(cat /proc/sys/kernel/random/uuid)

  cat >"$conf" <<EOF
[global]
fsid = $fsid
mon host = v2:127.0.0.1:$mon_port
mon initial members = a
public addr = 127.0.0.1
ms bind ipv6 = false
ms bind msgr1 = false
auth cluster required = cephx
auth service required = cephx
auth client required = cephx
keyring = $keyring
run dir = $dir/run
pid file = $dir/run/\$name.pid
admin socket = $dir/run/\$name.asok
log file = $dir/log/\$name.log
log to stderr = false
err to stderr = true
crash dir = $dir/crash
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool size one = true
mon allow pool delete = true
mon max pg per osd = 1000
mon warn on pool no redundancy = false
auth allow insecure global id reclaim = false
mon data avail warn = 2
mon data avail crit = 1

[mon]
mon data = $dir/mon.\$id

[osd]
osd data = $dir/osd.\$id
keyring = $dir/osd.\$id/keyring
osd objectstore = memstore
memstore device bytes = $memstore_bytes

[client.rgw.gw]
rgw frontends = beast endpoint=127.0.0.1:$rgw_port
rgw dns name = 127.0.0.1
rgw data = $dir/rgw
# Deleted objects' tails wait for RGW's garbage collector (2 h by default) and memstore holds them in RAM until
# then: collect them within seconds so repeated writes and deletes stay within memstore device bytes.
rgw gc obj min wait = 5
rgw gc processor period = 5
EOF

  # Keys: the monitor's, the admin's (for ceph / radosgw-admin) and the gateway's, all in one keyring.
  ceph-authtool --create-keyring "$keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
  ceph-authtool "$keyring" --gen-key -n client.admin \
    --cap mon 'allow *' --cap osd 'allow *' --cap mgr 'allow *' --cap mds 'allow *' >/dev/null
  ceph-authtool "$keyring" --gen-key -n client.rgw.gw --cap mon 'allow rw' --cap osd 'allow rwx' >/dev/null

  monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$mon_port]" "$dir/monmap" >/dev/null
  ceph-mon -c "$conf" --mkfs -i a --monmap "$dir/monmap" --keyring "$keyring"
  ceph-mon -c "$conf" -i a >>"$dir/log/mon.a.stdout" 2>&1
  wait_for "monitor" 60 "$dir/log/mon.a.log" ceph -c "$conf" --connect-timeout 5 mon stat
  local t_mon=$SECONDS

  # The OSD's key is made here and handed to the monitor with `osd new`, as vstart.sh does.
  local osd_uuid osd_key osd_id
  osd_uuid=$(cat /proc/sys/kernel/random/uuid)
  osd_key=$(ceph-authtool --gen-print-key)
  printf '{"cephx_secret": "%s"}' "$osd_key" >"$dir/osd.0/new.json"
  osd_id=$(ceph -c "$conf" osd new "$osd_uuid" -i "$dir/osd.0/new.json")
  rm -f "$dir/osd.0/new.json"
  [[ $osd_id == 0 ]] || fail "expected OSD id 0, the monitor gave $osd_id"
  ceph-osd -c "$conf" -i 0 --mkfs --no-mon-config --key "$osd_key" --osd-uuid "$osd_uuid" >>"$dir/log/osd.0.mkfs.log" 2>&1
  ceph-authtool --create-keyring "$dir/osd.0/keyring" -n osd.0 --add-key "$osd_key" >/dev/null
  ceph-osd -c "$conf" -i 0 >>"$dir/log/osd.0.stdout" 2>&1
  wait_for "OSD" 60 "$dir/log/osd.0.log" bash -c "ceph -c '$conf' osd stat -f json | grep -q '\"num_up_osds\":1'"
  local t_osd=$SECONDS

  mkdir -p "$dir/rgw"
  radosgw -c "$conf" -n client.rgw.gw >>"$dir/log/rgw.stdout" 2>&1
  wait_for "radosgw" 120 "$dir/log/client.rgw.gw.log" http_up "$rgw_port"
  local t_rgw=$SECONDS

  local user_json access_key secret_key
  user_json=$(radosgw-admin -c "$conf" user create --uid=zarr-stream --display-name="zarr-stream CI" 2>/dev/null)
  access_key=$(sed -n 's/.*"access_key": "\([^"]*\)".*/\1/p' <<<"$user_json" | head -n1)
  secret_key=$(sed -n 's/.*"secret_key": "\([^"]*\)".*/\1/p' <<<"$user_json" | head -n1)
  [[ -n $access_key && -n $secret_key ]] || fail "radosgw-admin user create gave no keys: $user_json"

  printf 'CEPH_RGW_ENDPOINT=http://127.0.0.1:%s\nAWS_ACCESS_KEY_ID=%s\nAWS_SECRET_ACCESS_KEY=%s\n' \
    "$rgw_port" "$access_key" "$secret_key" >"$dir/env"
  chmod 600 "$dir/env"
  log "up in $((SECONDS - t0))s (monitor $((t_mon - t0))s, OSD $((t_osd - t_mon))s, radosgw $((t_rgw - t_osd))s); env in $dir/env"
  echo "endpoint=http://127.0.0.1:$rgw_port access_key=$access_key secret_key=$secret_key"
}

case $cmd in
  start) start ;;
  stop) stop ;;
  *) echo "usage: $0 start|stop [DIR]" >&2; exit 2 ;;
esac
