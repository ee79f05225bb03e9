#!/usr/bin/env bash
# Back to two streaming nodes: kill -9 of the primary until the old primary streams from the new one (the host's
# fence + rejoin_command), a switchover until both stream, and the drill's write-refused windows beside a bare
# switchover's (the drill's own canary writer for both). One pair with pgbench data, RUNS rounds on it; every
# figure carries the 1-minute load average. Usage: bench/heal-bench.sh [RUNS] [PGBENCH_SCALE]   (default 3, 20 = ~300 MB)
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build -c Release bench/FailoverBench -v q -nologo >/dev/null
dotnet bench/FailoverBench/bin/Release/net10.0/FailoverBench.dll "${1:-3}" heal "${2:-20}"
