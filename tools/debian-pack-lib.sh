# Shared by build-photo-pack.sh and build-font-pack.sh (sourced, not run).
# fetch_debian_packages LIST WORK: LIST holds "package|file|..." lines; downloads every package
# named in its first column into WORK, extracts each into WORK/x/<package>, and fills the
# associative array VERSION (package -> Debian version). Sets LIST sorted and PKGS.
fetch_debian_packages() {
  local work=$2 pkg deb
  LIST=$(printf '%s\n' "$1" | sort -t'|' -k1,1 -k2,2)
  PKGS=$(printf '%s\n' "$LIST" | cut -d'|' -f1 | sort -u)
  echo "downloading $(printf '%s\n' "$PKGS" | wc -l) packages into $work"
  # shellcheck disable=SC2086
  (cd "$work" && apt-get download $PKGS 2>&1 >/dev/null | { grep -v "unsandboxed" || true; } >&2)
  for pkg in $PKGS; do
    deb=$(ls "$work"/"${pkg}"_*.deb | sort | head -n1)
    VERSION[$pkg]=$(dpkg-deb -f "$deb" Version)
    mkdir -p "$work/x/$pkg"
    dpkg -x "$deb" "$work/x/$pkg"
  done
}
