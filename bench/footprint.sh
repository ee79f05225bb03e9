#!/usr/bin/env bash
# What the monitor costs its host and the servers it watches: the published host watching a real primary +
# standby at probe_interval 1s, side by side with the previous approach (main's framework-dependent
# `dotnet failoverwatch.dll`). Rounds alternate the builds; each figure is the median over the rounds.
#   RSS, CPU       /proc/PID/status VmRSS and utime+stime of the host, over WINDOW s after WARMUP s
#   growth         RSS at the window's end minus at its start (set WINDOW=3600 for the hour of the goal)
#   status, check  wall time of `failoverwatch status` / `check-config` end to end (median of 9 runs each)
#   pg sessions/s  new backends (forks) per second on each server: pg_stat_database.sessions
#   pg CPU         CPU of all postgres processes of the pair (postmasters, their live and exited children),
#                  minus the same window with no monitor running ("idle")
# Usage: bench/footprint.sh [CURRENT_DIR [BEFORE_DIR]]  (as root; both built when not given)
#   CURRENT_DIR holds the executable `failoverwatch`, BEFORE_DIR `failoverwatch.dll` (`-`: the current build only)
#   env: ROUNDS (3), WARMUP (20), WINDOW (60)
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
rounds=${ROUNDS:-3} warmup=${WARMUP:-20} window=${WINDOW:-60}
pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
work=$(mktemp -d /tmp/fw-footprint-XXXXXX)
chmod 755 "$work"
pids=()

cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for node in pg1 pg2; do
    [ -d "$work/$node" ] && runuser -u postgres -- "$pgbin/pg_ctl" -D "$work/$node" -m immediate -W stop >/dev/null 2>&1 || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ticks=$(getconf CLK_TCK)

current=${1:-}
before=${2:-}
if [ -z "$current" ]; then
  current=$work/current
  echo "publishing the current build..." >&2
  dotnet publish src/FailoverWatch -c Release -o "$current" -v q -nologo >/dev/null
fi
if [ "$before" = - ]; then
  before=
elif [ -z "$before" ] && git rev-parse -q --verify main >/dev/null; then
  before=$work/before
  echo "building main framework-dependent (the previous approach)..." >&2
  mkdir -p "$work/main-src"
  git archive main | tar -x -C "$work/main-src"
  dotnet build "$work/main-src/src/FailoverWatch" -c Release -o "$before" -v q -nologo >/dev/null
fi

# --- the pair: a primary and a streaming standby on free loopback ports, trust auth, as postgres ---
pg1=$(free_port) pg2=$(free_port)
chown postgres "$work"
runuser -u postgres -- "$pgbin/initdb" -D "$work/pg1" -U postgres -A trust >/dev/null
cat >>"$work/pg1/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
unix_socket_directories = '$work'
wal_level = replica
hot_standby = on
EOF
runuser -u postgres -- "$pgbin/pg_ctl" -D "$work/pg1" -o "-p $pg1" -l "$work/pg1.log" -w start >/dev/null
runuser -u postgres -- "$pgbin/pg_basebackup" -d "host=127.0.0.1 port=$pg1 user=postgres application_name=pg2" \
  -D "$work/pg2" -R -X stream -c fast
runuser -u postgres -- "$pgbin/pg_ctl" -D "$work/pg2" -o "-p $pg2" -l "$work/pg2.log" -w start >/dev/null

http=$(free_port)
cat >"$work/failoverwatch.yaml" <<EOF
cluster:
  name: footprint
  nodes:
    - { name: pg1, host: 127.0.0.1, port: $pg1, user: postgres }
    - { name: pg2, host: 127.0.0.1, port: $pg2, user: postgres }
monitor:
  probe_interval: 1s
  probe_timeout: 2s
  state_file: $work/state.json
backup:
  destination: $work/backups
  schedule: "0 0 1 1 *"
  postgres: { enabled: true, from: standby }
http:
  listen: 127.0.0.1:$http
EOF

cli() { # BUILD ARGS...
  if [ "$1" = before ]; then dotnet "$before/failoverwatch.dll" "${@:2}"; else "$current/failoverwatch" "${@:2}"; fi
}

sessions() { # PORT: backends started so far (this query's own session included)
  "$pgbin/psql" -h 127.0.0.1 -p "$1" -U postgres -d postgres -Atc "SELECT sum(sessions) FROM pg_stat_database" 2>/dev/null
}

pg_cpu_ticks() { # every postgres process of the pair: postmasters, their children alive and exited
  local total=0 pm
  for node in pg1 pg2; do
    pm=$(head -n 1 "$work/$node/postmaster.pid")
    total=$((total + $(awk '{ print $14 + $15 + $16 + $17 }' "/proc/$pm/stat")))
    for child in $(pgrep -P "$pm"); do
      total=$((total + $(awk '{ print $14 + $15 }' "/proc/$child/stat" 2>/dev/null || echo 0)))
    done
  done
  echo "$total"
}

rss_kb() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }

wall() { # BUILD COMMAND: median seconds of 9 runs end to end
  for _ in 1 2 3 4 5 6 7 8 9; do
    local start end
    start=$(date +%s%N)
    cli "$1" "$2" --config "$work/failoverwatch.yaml" >/dev/null 2>&1 || true
    end=$(date +%s%N)
    echo "scale=3; ($end - $start) / 1000000000" | bc
  done | median
}

measure() { # BUILD: one round; appends "rss cpu growth pgsessions pgcpu" to $work/BUILD.rounds
  local build=$1 pid=""
  if [ "$build" != idle ]; then
    rm -f "$work/state.json"
    if [ "$build" = before ]; then
      dotnet "$before/failoverwatch.dll" run --config "$work/failoverwatch.yaml" >"$work/$build.log" 2>&1 &
    else
      "$current/failoverwatch" run --config "$work/failoverwatch.yaml" >"$work/$build.log" 2>&1 &
    fi
    pid=$!
    pids+=("$pid")
    local deadline=$((SECONDS + 60))
    until curl -sf "http://127.0.0.1:$http/healthz" >/dev/null; do
      [ $SECONDS -lt $deadline ] || { echo "$build did not become healthy:" >&2; cat "$work/$build.log" >&2; exit 1; }
      sleep 0.2
    done
  fi
  sleep "$warmup"
  local s1a s2a pga rssa cpua
  s1a=$(sessions "$pg1") s2a=$(sessions "$pg2") pga=$(pg_cpu_ticks)
  [ -n "$pid" ] && rssa=$(rss_kb "$pid") && cpua=$(cpu_ticks "$pid")
  local start=$SECONDS
  sleep "$window"
  local elapsed=$((SECONDS - start))
  local s1b s2b pgb
  s1b=$(sessions "$pg1") s2b=$(sessions "$pg2") pgb=$(pg_cpu_ticks)
  local rss=- cpu=- growth=-
  if [ -n "$pid" ]; then
    local rssb cpub
    rssb=$(rss_kb "$pid") cpub=$(cpu_ticks "$pid")
    rss=$(echo "scale=1; $rssb / 1024" | bc)
    growth=$(echo "scale=1; ($rssb - $rssa) / 1024" | bc)
    cpu=$(echo "scale=2; 100 * ($cpub - $cpua) / $ticks / $elapsed" | bc)
    kill "$pid"
    wait "$pid" 2>/dev/null || true
  fi
  # Each sessions() query is itself one session: one of the two counted per server is the bench's.
  local forks pgcpu
  forks=$(echo "scale=2; (($s1b - $s1a - 1) + ($s2b - $s2a - 1)) / 2 / $elapsed" | bc)
  pgcpu=$(echo "scale=2; 100 * ($pgb - $pga) / $ticks / $elapsed" | bc)
  echo "$rss $cpu $growth $forks $pgcpu" >>"$work/$build.rounds"
}

builds=(current)
[ -n "$before" ] && builds=(before current)
for round in $(seq "$rounds"); do
  echo "round $round of $rounds: idle ${builds[*]} (${warmup}s warm-up + ${window}s each)" >&2
  for build in idle "${builds[@]}"; do measure "$build"; done
done

col() { awk -v c="$2" '{ print $c }' "$work/$1.rounds" | grep -v '^-$' | median; }
idle_pgcpu=$(col idle 5)
echo
printf '%-34s %16s %16s\n' "median of $rounds rounds" "${builds[@]}"
row() { # LABEL VALUES...
  printf '%-34s' "$1"; shift
  for v in "$@"; do printf ' %16s' "$v"; done
  echo
}
values() { for b in "${builds[@]}"; do "$@" "$b"; done; }
fig() { col "$2" "$1"; }
pg_over_idle() { echo "scale=2; $(col "$1" 5) - $idle_pgcpu" | bc; }
row "host RSS after warm-up (MB)" $(values fig 1)
row "host CPU (% of one core)" $(values fig 2)
row "RSS growth over ${window}s (MB)" $(values fig 3)
row "status end to end (s)" $(for b in "${builds[@]}"; do wall "$b" status; done)
row "check-config end to end (s)" $(for b in "${builds[@]}"; do wall "$b" check-config; done)
row "pg sessions (forks)/s per server" $(values fig 4)
row "pg CPU over idle (% of a core)" $(values pg_over_idle)
echo "(idle pair: pg CPU $idle_pgcpu % of a core, $(col idle 4) sessions/s per server)"
