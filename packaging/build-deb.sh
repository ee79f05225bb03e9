#!/usr/bin/env bash
# Makes failoverwatch_VERSION_ARCH.deb from the published executable:
#   /usr/bin/failoverwatch, the systemd unit (config/failoverwatch.service adapted to the package),
#   /etc/failoverwatch/failoverwatch.yaml (the example, a conffile), the example again under
#   /usr/share/doc/failoverwatch, the restore test's socket unit, and a postinst that creates the
#   `failoverwatch` and `failoverwatch-restore` system users and /var/lib/failoverwatch. The service is not
#   started or enabled: the configuration needs the operator first. The restore test socket is enabled (it
#   starts nothing until the service connects).
# Usage: packaging/build-deb.sh [BINARY [OUTDIR]]   (default: publish into a temp folder; OUTDIR .)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
out=$(realpath "${2:-.}")
stage=$(mktemp -d /tmp/failoverwatch-deb-XXXXXX)
trap 'rm -rf "$stage"' EXIT

binary=${1:-}
if [ -z "$binary" ]; then
  dotnet publish "$repo/src/FailoverWatch" -c Release -o "$stage/publish" -v q -nologo >/dev/null
  binary=$stage/publish/failoverwatch
fi
version=$(sed -n 's:.*<Version>\(.*\)</Version>.*:\1:p' "$repo/src/FailoverWatch/FailoverWatch.csproj")
arch=$(dpkg --print-architecture)
root=$stage/root

install -D -m 0755 "$binary" "$root/usr/bin/failoverwatch"
install -D -m 0640 "$repo/config/failoverwatch.example.yaml" "$root/etc/failoverwatch/failoverwatch.yaml"
install -D -m 0644 "$repo/config/failoverwatch.example.yaml" "$root/usr/share/doc/failoverwatch/examples/failoverwatch.example.yaml"
install -d -m 0750 "$root/var/lib/failoverwatch"
# The unit of config/, with the executable where the package puts it.
install -d "$root/lib/systemd/system"
sed -e 's:/usr/local/bin/failoverwatch:/usr/bin/failoverwatch:' \
    -e 's:Install steps\: docs/install-systemd.md:Installed by the failoverwatch package:' \
    "$repo/config/failoverwatch.service" >"$root/lib/systemd/system/failoverwatch.service"
# The restore test's own account, reached through a socket (the service is not root and has NoNewPrivileges).
install -m 0644 "$repo/contrib/failoverwatch-restore.socket" "$repo/contrib/failoverwatch-restore@.service" "$root/lib/systemd/system/"

install -d "$root/DEBIAN"
cat >"$root/DEBIAN/control" <<CONTROL
Package: failoverwatch
Version: $version
Architecture: $arch
Maintainer: FailoverWatch maintainers <failoverwatch@localhost>
Section: database
Priority: optional
Depends: libc6, passwd
Recommends: libssl3, postgresql-client
Description: PostgreSQL streaming-replication monitor, failover and backups
 Watches a primary and its hot standbys, fails over when the primary is really
 gone, backs up the database and the application's files, and reports on
 /metrics, /status and OpenTelemetry. One native executable.
CONTROL
echo /etc/failoverwatch/failoverwatch.yaml >"$root/DEBIAN/conffiles"
cat >"$root/DEBIAN/postinst" <<'POSTINST'
#!/bin/sh
# Creates the service account and its state folder. DPKG_ROOT is set when dpkg installs into another root
# without chrooting (--force-script-chrootless): the account is then created in that root's /etc.
set -e
root="${DPKG_ROOT:-}"
if [ "$1" = configure ]; then
  if ! grep -q '^failoverwatch:' "$root/etc/passwd"; then
    useradd ${root:+--prefix "$root"} --system --user-group --home-dir /var/lib/failoverwatch --no-create-home \
      --shell /usr/sbin/nologin --comment "FailoverWatch monitor" failoverwatch
  fi
  # The restore test's account: no home, no shell, owns nothing (contrib/failoverwatch-restore@.service).
  if ! grep -q '^failoverwatch-restore:' "$root/etc/passwd"; then
    useradd ${root:+--prefix "$root"} --system --user-group --home-dir /nonexistent --no-create-home \
      --shell /usr/sbin/nologin --comment "FailoverWatch restore test" failoverwatch-restore
  fi
  # Numeric ids from that root's own account files, not this machine's.
  uid=$(awk -F: '$1 == "failoverwatch" { print $3 }' "$root/etc/passwd")
  gid=$(awk -F: '$1 == "failoverwatch" { print $3 }' "$root/etc/group")
  chown "$uid:$gid" "$root/var/lib/failoverwatch"
  chmod 0750 "$root/var/lib/failoverwatch"
  # The configuration names password and token files: readable by the service, not by everyone.
  chgrp "$gid" "$root/etc/failoverwatch" "$root/etc/failoverwatch/failoverwatch.yaml"
  chmod 0750 "$root/etc/failoverwatch"
  if [ -z "$root" ] && [ -d /run/systemd/system ]; then
    systemctl daemon-reload >/dev/null || true
    # Only a socket: nothing runs until the service's restore test connects.
    systemctl enable --now failoverwatch-restore.socket >/dev/null || true
  fi
fi
POSTINST
chmod 0755 "$root/DEBIAN/postinst"

mkdir -p "$out"
deb=$out/failoverwatch_${version}_${arch}.deb
dpkg-deb --root-owner-group -Zgzip --build "$root" "$deb" >/dev/null
echo "$deb"
