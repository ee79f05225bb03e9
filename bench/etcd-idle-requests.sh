#!/usr/bin/env bash
# etcd requests per second from three idle monitors (a healthy primary and its standby, one etcd member): the
# growth of etcd's own gRPC counters over SECONDS once they agree on a leader. Unary calls complete one request
# each; a stream (watch, keep-alive) completes only when it closes, so its messages are counted apart.
# Usage: bench/etcd-idle-requests.sh [SECONDS]   (default 60; as root: PostgreSQL runs as postgres)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
dotnet build -c Release src/FailoverWatch -v q -nologo >/dev/null
exe=$PWD/src/FailoverWatch/bin/Release/net10.0/failoverwatch.dll
bin=/usr/lib/postgresql/15/bin
dir=$(mktemp -d /tmp/fw-idle-XXXXXX)
chown postgres "$dir"
pids=()
cleanup() {
    kill "${pids[@]}" 2>/dev/null || true
    for pg in pg1 pg2; do runuser -u postgres -- "$bin/pg_ctl" -D "$dir/$pg" -m immediate stop >/dev/null 2>&1 || true; done
    wait 2>/dev/null || true
    rm -rf "$dir"
}
trap cleanup EXIT
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
p1=$(port); p2=$(port); client=$(port); peer=$(port)

etcd --name idle --data-dir "$dir/etcd" --listen-client-urls "http://127.0.0.1:$client" --advertise-client-urls "http://127.0.0.1:$client" \
    --listen-peer-urls "http://127.0.0.1:$peer" --initial-advertise-peer-urls "http://127.0.0.1:$peer" \
    --initial-cluster "idle=http://127.0.0.1:$peer" >"$dir/etcd.log" 2>&1 &
pids+=($!)
runuser -u postgres -- "$bin/initdb" -D "$dir/pg1" -A trust >/dev/null
printf "port = %s\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '%s'\n" "$p1" "$dir" >>"$dir/pg1/postgresql.conf"
runuser -u postgres -- "$bin/pg_ctl" -D "$dir/pg1" -w -l "$dir/pg1.log" start >/dev/null
runuser -u postgres -- "$bin/pg_basebackup" -h 127.0.0.1 -p "$p1" -U postgres -D "$dir/pg2" -R -X stream -c fast
runuser -u postgres -- "$bin/pg_ctl" -D "$dir/pg2" -w -l "$dir/pg2.log" -o "-p $p2" start >/dev/null

http=()
for i in 1 2 3; do
    http+=("$(port)")
    cat >"$dir/fw$i.yaml" <<YAML
cluster:
  name: idle
  nodes:
    - name: pg1
      host: 127.0.0.1
      port: $p1
      user: postgres
    - name: pg2
      host: 127.0.0.1
      port: $p2
      user: postgres
monitor:
  state_file: $dir/fw$i-state.json
http:
  listen: 127.0.0.1:${http[-1]}
coordination:
  monitor_name: fw$i
  etcd:
    endpoints: [http://127.0.0.1:$client]
YAML
    dotnet "$exe" run --config "$dir/fw$i.yaml" >"$dir/fw$i.log" 2>&1 &
    pids+=($!)
done

for _ in $(seq 600); do
    ready=0
    for p in "${http[@]}"; do
        curl -fs "http://127.0.0.1:$p/status" 2>/dev/null | grep -q '"primary":"pg1"' && curl -fs "http://127.0.0.1:$p/status" | grep -q '"leader":"fw' && ready=$((ready + 1))
    done
    [ "$ready" = 3 ] && break
    sleep 0.2
done
[ "$ready" = 3 ] || { echo "the monitors never agreed on a leader with pg1 as primary" >&2; exit 1; }
sleep 5

counters() { curl -fs "http://127.0.0.1:$client/metrics" | grep -E '^grpc_server_(handled_total|msg_received_total)\{'; }
counters >"$dir/before"
sleep "$seconds"
counters >"$dir/after"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
awk -v s="$seconds" '
    FNR == NR { before[$1] = $2; next }
    { d = $2 - before[$1]; if (d <= 0) next
      match($1, /grpc_method="[^"]*"/); m = substr($1, RSTART + 13, RLENGTH - 14)
      match($1, /grpc_type="[^"]*"/); t = substr($1, RSTART + 11, RLENGTH - 12)
      if ($1 ~ /^grpc_server_handled_total/) { handled[m " (" t ")"] += d; if (t == "unary") unary += d }
      else if (t != "unary") { streamed[m] += d; messages += d } }
    END {
      for (k in handled) printf "completed %-32s %7.2f/s\n", k, handled[k] / s
      for (k in streamed) printf "streamed  %-32s %7.2f messages/s\n", k, streamed[k] / s
      printf "requests (unary calls + messages sent on streams): %.2f/s\n", (unary + messages) / s }
' "$dir/before" "$dir/after"
