#!/usr/bin/env bash
# Backup bench: FailoverWatch vs the shell pipelines an operator would otherwise run, side by side in one run.
#  1. pgbench scale 50 database: failoverwatch backup --only postgres (zstd) vs pg_dumpall | gzip vs pg_dumpall | zstd (same level, same threads)
#  2. media incremental on 20,000 files with 1% changed: failoverwatch (hard links to the previous backup) vs rsync -a --link-dest
# Needs root (the scratch PostgreSQL runs as `postgres`), PostgreSQL binaries, zstd, gzip, rsync. Usage: bench/backup-bench.sh [scale] [files]
set -euo pipefail
SCALE=${1:-50}
FILES=${2:-20000}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
PGBIN=${FW_PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)}
W=$(( $(nproc) - 1 )); (( W < 1 )) && W=1; (( W > 4 )) && W=4   # zstd workers, as FailoverWatch uses
WORK=$(mktemp -d /tmp/fw-bench.XXXXXX)
chmod 755 "$WORK"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cleanup() { runuser -u postgres -- "$PGBIN/pg_ctl" -D "$WORK/pg/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$WORK"; }
trap cleanup EXIT
now() { date +%s.%N; }
secs() { python3 -c "print(f'{$2-$1:.2f}')"; }
size() { du -sb --apparent-size "$1" | cut -f1 | python3 -c 'import sys; print(f"{int(sys.stdin.read())/1048576:.1f} MB")'; }

echo "== building FailoverWatch (Release)"
dotnet build -c Release -v q -nologo "$ROOT/src/FailoverWatch" >/dev/null
FW="dotnet $ROOT/src/FailoverWatch/bin/Release/net10.0/failoverwatch.dll"

echo "== PostgreSQL on port $PORT, pgbench scale $SCALE"
mkdir -p "$WORK/pg/sock" && chown -R postgres: "$WORK/pg"
runuser -u postgres -- "$PGBIN/initdb" -D "$WORK/pg/data" -U postgres --auth=trust -E UTF8 --locale=C >/dev/null
runuser -u postgres -- "$PGBIN/pg_ctl" -D "$WORK/pg/data" -l "$WORK/pg/log" -o "-p $PORT -k $WORK/pg/sock -c listen_addresses=127.0.0.1" -w start >/dev/null
"$PGBIN/pgbench" -i -q -s "$SCALE" -h 127.0.0.1 -p "$PORT" -U postgres postgres 2>/dev/null

mkdir -p "$WORK/media" "$WORK/fwdest" "$WORK/rsync"
cat > "$WORK/fw.yaml" <<YAML
cluster:
  name: bench
  nodes:
    - { name: pg1, host: 127.0.0.1, port: $PORT, user: postgres }
    - { name: pg2, host: 127.0.0.1, port: 1, user: postgres }
monitor: { state_file: $WORK/state.json }
backup:
  destination: $WORK/fwdest
  retention: { keep_last: 100 }
  postgres: { from: primary, compression: zstd }
  media: { path: $WORK/media }
YAML

DUMP=$PGBIN/pg_dumpall
run() { # label, command...
  local t0 t1; t0=$(now); "${@:2}"; t1=$(now); printf '%-44s %8ss\n' "$1" "$(secs "$t0" "$t1")"
}
echo
echo "== postgres dump (scale $SCALE), each twice, best of two"
for round in 1 2; do
  run "pg_dumpall > /dev/null (floor)" bash -c "'$DUMP' -h 127.0.0.1 -p $PORT -U postgres > /dev/null"
  run "pg_dumpall | gzip" bash -c "'$DUMP' -h 127.0.0.1 -p $PORT -U postgres | gzip > $WORK/d.sql.gz"
  run "pg_dumpall | gzip -1" bash -c "'$DUMP' -h 127.0.0.1 -p $PORT -U postgres | gzip -1 > $WORK/d1.sql.gz"
  run "pg_dumpall | zstd -3 -T$W (same compressor)" bash -c "'$DUMP' -h 127.0.0.1 -p $PORT -U postgres | zstd -q -3 -T$W > $WORK/d.sql.zst"
  run "pg_dumpall | zstd -3 -T$W | tee | sha256sum" bash -c "'$DUMP' -h 127.0.0.1 -p $PORT -U postgres | zstd -q -3 -T$W | tee $WORK/d2.sql.zst | sha256sum >/dev/null"
  run "failoverwatch backup --only postgres" bash -c "$FW backup --config $WORK/fw.yaml --only postgres >/dev/null 2>&1"
  sleep 1   # backup ids are per second
done
echo "sizes: gzip $(size $WORK/d.sql.gz), gzip -1 $(size $WORK/d1.sql.gz), zstd -3 $(size $WORK/d.sql.zst), failoverwatch $(size "$(ls -d $WORK/fwdest/2* | tail -1)/postgres")"

[[ -n ${SKIP_MEDIA:-} ]] && exit 0
echo
echo "== media: $FILES files, then 1% changed"
python3 - "$WORK/media" "$FILES" <<'PY'
import os, sys, random
root, n = sys.argv[1], int(sys.argv[2])
random.seed(1)
for i in range(n):
    d = os.path.join(root, f"media_attachments/files/{i // 1000:03d}/{(i // 100) % 10:03d}")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, f"{i}.jpg"), "wb") as f:
        f.write(os.urandom(random.randint(2048, 32768)))
PY
echo "media tree: $(size $WORK/media)"
rm -rf "$WORK"/fwdest/2*
run "rsync -a (first full)" rsync -a "$WORK/media/" "$WORK/rsync/1/"
run "failoverwatch backup --only media (first full)" bash -c "$FW backup --config $WORK/fw.yaml --only media >/dev/null 2>&1"
sync
python3 - "$WORK/media" "$FILES" <<'PY'
import os, sys
root, n = sys.argv[1], int(sys.argv[2])
for i in range(0, n, 100):
    p = os.path.join(root, f"media_attachments/files/{i // 1000:03d}/{(i // 100) % 10:03d}/{i}.jpg")
    with open(p, "ab") as f:
        f.write(b"changed")
PY
sleep 1
run "rsync -a --link-dest (1% changed)" rsync -a --link-dest="$WORK/rsync/1" "$WORK/media/" "$WORK/rsync/2/"
run "failoverwatch backup --only media (1% changed)" bash -c "$FW backup --config $WORK/fw.yaml --only media 2>&1 | grep -E '^media' >&2"
sync
echo "new bytes on disk: rsync $(du -sb "$WORK/rsync" | cut -f1) total (both trees), failoverwatch $(du -sb "$WORK/fwdest" | cut -f1) total (both backups)"
