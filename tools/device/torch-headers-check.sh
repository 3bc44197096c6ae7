#!/usr/bin/env bash
# Compiles the libtorch engine's sources (packages/core/native-torch) against the headers of newer
# libtorch releases than the one this machine builds with, before a GPU machine's build meets
# them: a GPU machine's torch wheel is a 2.x release, Debian bookworm's libtorch-dev is 1.13.
#
# It downloads Debian's libtorch-dev package of each suite in SUITES (default "trixie sid": 2.6
# and the newest packaged release) with apt, using its own package lists under $WORK (nothing is
# installed and the system's apt state is untouched), unpacks each with dpkg -x and runs
# `node packages/core/scripts/build-torch.js --check-headers <its usr/include>` (g++
# -fsyntax-only with the build's flags). Needs network access to deb.debian.org; a maintainer's
# check, not part of the build or the tests.
#
#   bash tools/device/torch-headers-check.sh            # WORK=/tmp/dlcv-torch-headers
#   SUITES=sid WORK=/some/dir bash tools/device/torch-headers-check.sh
#
# Exit status: 0 when every source compiles against every suite's headers, 1 when one does not,
# 2 when a package could not be fetched.
set -u -o pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
work="${WORK:-/tmp/dlcv-torch-headers}"
suites="${SUITES:-trixie sid}"
mkdir -p "$work/lists/partial" "$work/cache/archives/partial" "$work/debs"

sources="$work/sources.list"
: >"$sources"
for s in $suites; do
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $s main" >>"$sources"
done
apt_opts=(-o "Dir::Etc::SourceList=$sources" -o Dir::Etc::SourceParts=/nonexistent -o "Dir::State::Lists=$work/lists"
  -o "Dir::Cache=$work/cache" -o Debug::NoLocking=1 -o APT::Sandbox::User="$(id -un)")

if ! apt-get "${apt_opts[@]}" update >"$work/apt-update.log" 2>&1; then
  echo "torch-headers-check: apt-get update failed (see $work/apt-update.log)" >&2
  exit 2
fi

status=0
for s in $suites; do
  rm -f "$work/debs"/libtorch-dev_*.deb
  if ! (cd "$work/debs" && apt-get "${apt_opts[@]}" download "libtorch-dev/$s" >"$work/apt-download-$s.log" 2>&1); then
    echo "torch-headers-check: no libtorch-dev in Debian $s (see $work/apt-download-$s.log)" >&2
    exit 2
  fi
  deb=$(ls "$work/debs"/libtorch-dev_*.deb)
  rm -rf "${work:?}/$s" && dpkg -x "$deb" "$work/$s"
  echo "== Debian $s: $(basename "$deb")"
  node "$root/packages/core/scripts/build-torch.js" --check-headers "$work/$s/usr/include" || status=1
done
exit $status
