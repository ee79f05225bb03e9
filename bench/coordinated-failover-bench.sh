#!/usr/bin/env bash
# Three monitors on a real 3-member etcd: failover time from the fault to a committed INSERT on the new primary,
# the standby at PostgreSQL's default wal_receiver_timeout (60s). One monitor alone waits out that timeout on a
# hung primary (61.5 s measured); the monitors' majority does not.
# Usage: bench/coordinated-failover-bench.sh [RUNS] [LEASE_TTL_SECONDS]   (defaults 5 and 5; BENCH_ONLY="leader frozen"
# runs the scenarios whose name holds it, BENCH_ONLY=idle the idle etcd requests/s alone)
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build -c Release bench/FailoverBench -v q -nologo >/dev/null
dotnet bench/FailoverBench/bin/Release/net10.0/FailoverBench.dll "${1:-5}" coordinated "${2:-5}"
