#!/usr/bin/env bash
# The soak: random faults against a real cluster, the real monitor and a real client; invariants checked.
# Usage: SOAK_MINUTES=30 bench/soak/soak.sh   (default 3; SOAK_SEED=N repeats a run's fault order,
# SOAK_FAULTS=Kill9,Stop,... only those faults, SOAK_SYNC=1|alternate synchronous rounds, SOAK_RESULTS=FILE also writes the table there). Exit 0: no invariant broken. Run as root or as a user
# that may start PostgreSQL (see README "Soak").
# SOAK_MONITORS=3: the three-monitor soak on a real 3-member etcd (SOAK_COORDINATION=LeaderKill,... and
# SOAK_DATABASE=Kill9,... narrow its draw; see bench/soak/CoordinatedSoak.cs).
set -euo pipefail
cd "$(dirname "$0")/../.."
dotnet build bench/soak -v q -nologo >/dev/null
exec dotnet bench/soak/bin/Debug/net10.0/FailoverSoak.dll
