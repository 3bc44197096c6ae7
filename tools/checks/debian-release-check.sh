#!/usr/bin/env bash
# A fresh machine of another Debian release, as a chroot: debootstraps SUITE (trixie, sid, ...),
# installs what a user starts from there (nodejs, npm, git), clones this checkout's HEAD into it,
# runs ./setup.sh (which installs that release's libdnnl-dev and libtorch-dev, then pnpm and the
# npm packages) and then COMMAND (default `pnpm test`). The addons are built by that release's
# compiler against its oneDNN and libtorch, so this shows whether the engines build, load and pass
# their specs there. A maintainer's check: it needs root, debootstrap and network access to
# deb.debian.org and the npm registry.
#
#   bash tools/checks/debian-release-check.sh trixie
#   DLCV_REQUIRE_NATIVE=1 DLCV_REQUIRE_TORCH=1 bash tools/checks/debian-release-check.sh sid
#   bash tools/checks/debian-release-check.sh trixie 'pnpm demo'
#
# The chroot is kept in $WORK/SUITE (default WORK=/var/tmp/dlcv-debian) and reused by a later run
# (a new clone each time). DLCV_REQUIRE_NATIVE, DLCV_REQUIRE_TORCH and DLCV_THREADS are passed in.
set -eu -o pipefail

suite="${1:?usage: debian-release-check.sh SUITE [COMMAND]}"
command="${2:-pnpm test}"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
work="${WORK:-/var/tmp/dlcv-debian}"
chroot_dir="$work/$suite"

if [ "$(id -u)" != 0 ]; then
  echo "debian-release-check: needs root (debootstrap, chroot and mounts)" >&2
  exit 2
fi
command -v debootstrap >/dev/null || {
  echo "debian-release-check: needs debootstrap (apt-get install debootstrap)" >&2
  exit 2
}

if [ ! -x "$chroot_dir/usr/bin/apt-get" ]; then
  mkdir -p "$work"
  debootstrap --variant=minbase "$suite" "$chroot_dir" http://deb.debian.org/debian >"$work/$suite-debootstrap.log" 2>&1 || {
    echo "debian-release-check: debootstrap $suite failed (see $work/$suite-debootstrap.log)" >&2
    exit 2
  }
fi

mounted=()
cleanup() {
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount "${mounted[$i]}" 2>/dev/null || true; done
}
trap cleanup EXIT
mount_in() { # mount_in ARGS... TARGET: mounts and remembers TARGET for the cleanup
  mount "$@" && mounted+=("${*: -1}")
}
mount_in -t proc proc "$chroot_dir/proc"
mount_in --bind /dev "$chroot_dir/dev"
mount_in --bind /dev/pts "$chroot_dir/dev/pts"
mkdir -p "$chroot_dir/src"
mount_in --bind "$root" "$chroot_dir/src"
mount -o remount,bind,ro "$chroot_dir/src"

# This machine's extra certificate authorities (a proxy's), so that apt and npm reach their
# servers from the chroot as they do from here.
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
  mkdir -p "$chroot_dir/usr/local/share/ca-certificates"
  cp /usr/local/share/ca-certificates/*.crt "$chroot_dir/usr/local/share/ca-certificates/"
fi

pass=()
for v in DLCV_REQUIRE_NATIVE DLCV_REQUIRE_TORCH DLCV_THREADS; do
  [ -n "${!v:-}" ] && pass+=("$v=${!v}")
done

# Check-Valid-Until=false: a mirror's sid Release file may be past its validity date.
chroot "$chroot_dir" env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
  NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt DEBIAN_FRONTEND=noninteractive "${pass[@]}" bash -c "
  set -eu
  apt-get -o Acquire::Check-Valid-Until=false update -q >/dev/null
  apt-get install -y -q nodejs npm git ca-certificates >/dev/null
  update-ca-certificates >/dev/null 2>&1 || true
  git config --global --add safe.directory '*'
  rm -rf /root/dlcv-hw2 && git clone -q /src /root/dlcv-hw2 && cd /root/dlcv-hw2
  echo \"== Debian $suite: \$(git log --oneline -1 | cut -c1-72); node \$(node --version)\"
  ./setup.sh
  echo \"== $command\"
  start=\$(date +%s)
  status=0
  $command || status=\$?
  echo \"== $command: exit \$status in \$(( \$(date +%s) - start )) s\"
  exit \$status
"
