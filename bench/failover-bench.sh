#!/usr/bin/env bash
# Failover time from the fault (kill -9 / SIGSTOP of the primary) to a committed INSERT on the new primary.
# Usage: bench/failover-bench.sh [RUNS]   (default 5 per scenario). Baseline for comparison, measured on this
# kind of machine: repmgr defaults 51 s (kill -9) / 67 s (SIGSTOP); repmgr at its tightest 1.1 s / 7.1 s.
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build -c Release bench/FailoverBench -v q -nologo >/dev/null
dotnet bench/FailoverBench/bin/Release/net10.0/FailoverBench.dll "${1:-5}"
