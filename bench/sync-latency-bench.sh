#!/usr/bin/env bash
# Commit latency, synchronous against asynchronous replication, side by side on one loopback pair (the test pair's set-up):
# pgbench -N (simple-update transactions, one client) with synchronous_standby_names '' and then '"pg2"', alternating
# rounds, per-transaction latencies logged (-l); prints p50, p99 and transactions per second of each mode over all rounds.
# Needs root (the servers run as `postgres`) and PostgreSQL binaries. Usage: bench/sync-latency-bench.sh [seconds per round] [rounds]
set -euo pipefail
SECONDS_PER_ROUND=${1:-10}
ROUNDS=${2:-3}
PGBIN=${FW_PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)}
WORK=$(mktemp -d /tmp/fw-sync-bench.XXXXXX)
chmod 755 "$WORK"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
P1=$(free_port); P2=$(free_port)
cleanup() {
  for n in pg1 pg2; do runuser -u postgres -- "$PGBIN/pg_ctl" -D "$WORK/$n/data" -m immediate stop >/dev/null 2>&1 || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
as_pg() { runuser -u postgres -- "$@"; }
psql1() { "$PGBIN/psql" -X -q -h 127.0.0.1 -p "$P1" -U postgres -d postgres -At -c "$1"; }

mkdir -p "$WORK/pg1/sock" "$WORK/pg2/sock" "$WORK/logs" && chown -R postgres: "$WORK"
as_pg "$PGBIN/initdb" -D "$WORK/pg1/data" -U postgres --auth=trust -E UTF8 --locale=C >/dev/null
as_pg "$PGBIN/pg_ctl" -D "$WORK/pg1/data" -l "$WORK/pg1/log" -o "-p $P1 -k $WORK/pg1/sock -c listen_addresses=127.0.0.1 -c wal_level=replica -c max_wal_senders=5" -w start >/dev/null
as_pg "$PGBIN/pg_basebackup" -D "$WORK/pg2/data" -d "host=127.0.0.1 port=$P1 user=postgres application_name=pg2" -R -X stream -c fast
as_pg "$PGBIN/pg_ctl" -D "$WORK/pg2/data" -l "$WORK/pg2/log" -o "-p $P2 -k $WORK/pg2/sock -c listen_addresses=127.0.0.1" -w start >/dev/null
"$PGBIN/pgbench" -i -q -s 1 -h 127.0.0.1 -p "$P1" -U postgres postgres 2>/dev/null
until [[ $(psql1 "SELECT count(*) FROM pg_stat_replication WHERE application_name = 'pg2' AND state = 'streaming'") == 1 ]]; do sleep 0.1; done

set_mode() { # async | sync: what FailoverWatch writes, then wait until the primary shows it
  local names='' want=async
  [[ $1 == sync ]] && names='"pg2"' && want=sync
  psql1 "ALTER SYSTEM SET synchronous_standby_names = '$names'" && psql1 "SELECT pg_reload_conf()" >/dev/null
  until [[ $(psql1 "SELECT sync_state FROM pg_stat_replication WHERE application_name = 'pg2'") == "$want" ]]; do sleep 0.1; done
}

echo "== pgbench -N, 1 client, $ROUNDS rounds of ${SECONDS_PER_ROUND}s per mode, alternating (PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}'), loopback, $(nproc) cores, load $(cut -d' ' -f1 /proc/loadavg))"
for round in $(seq 1 "$ROUNDS"); do
  for mode in async sync; do
    set_mode "$mode"
    (cd "$WORK/logs" && "$PGBIN/pgbench" -N -c 1 -T "$SECONDS_PER_ROUND" -l --log-prefix="$mode.$round" -h 127.0.0.1 -p "$P1" -U postgres postgres >/dev/null 2>&1)
  done
done

python3 - "$WORK/logs" "$ROUNDS" "$SECONDS_PER_ROUND" <<'PY'
import glob, os, sys
logs, rounds, seconds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
print(f"{'mode':<6} {'commits':>8} {'tps':>8} {'p50 ms':>8} {'p99 ms':>8}")
for mode in ("async", "sync"):
    us = []
    for f in glob.glob(os.path.join(logs, f"{mode}.*")):
        us += [int(line.split()[2]) for line in open(f)]
    us.sort()
    p = lambda q: us[min(len(us) - 1, int(q * len(us)))] / 1000
    print(f"{mode:<6} {len(us):>8} {len(us) / (rounds * seconds):>8.0f} {p(0.5):>8.3f} {p(0.99):>8.3f}")
PY
