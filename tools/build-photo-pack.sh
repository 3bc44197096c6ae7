#!/usr/bin/env bash
# Rebuilds packages/core/assets/photos/: the natural colour photographs that the embedded
# MNIST-M recipe (Ganin & Lempitsky) crops its 28x28 background patches from, and that the
# syndigits recipe sometimes uses as a background.
#
# The photos come from Debian wallpaper packages (no text, no logos; varied colours and
# textures). The script downloads the .deb files with `apt-get download` (run
# `apt-get update` first on a fresh machine), unpacks them with `dpkg -x` into a temporary
# folder, shrinks each chosen photo to 480x320 JPEG with tools/shrink-photos.js (sharp,
# from @dlcv/core's dependencies; run `pnpm install` first), and writes:
#   packages/core/assets/photos/*.jpg            the shrunk photos
#   packages/core/assets/photos/SOURCES.md       file -> package, version, original path, author, licence
#   packages/core/assets/photos/LICENSES/        each package's debian/copyright, plus the
#                                                /usr/share/common-licenses texts they cite
# Re-runnable: the output folder is replaced; lists are sorted, so the same package
# versions (and the same sharp/libvips) give the same bytes.
set -euo pipefail
export LC_ALL=C

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT="$ROOT/packages/core/assets/photos"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# package | path inside the package | author (from debian/copyright) | licence
LIST=$(cat <<'LIST'
lomiri-wallpapers-16.04|usr/share/backgrounds/Bridge_by_Sander_Klootwijk.jpg|Sander Klootwijk, 2018|CC-BY-SA-4.0
lomiri-wallpapers-16.04|usr/share/backgrounds/Dragonfly_by_Bolly.jpg|"Bolly", 2018|CC-BY-SA-4.0
lomiri-wallpapers-16.04|usr/share/backgrounds/Picture_0B_by_freespace.jpg|Trevor "Freespace", 2018|CC-BY-4.0
lomiri-wallpapers-16.04|usr/share/backgrounds/Picture_1A_by_freespace.jpg|Trevor "Freespace", 2018|CC-BY-4.0
lomiri-wallpapers-16.04|usr/share/backgrounds/aitzgorri_by_Aitzol_Berasategi.jpg|Aitzol Berasategi, 2018|CC-BY-4.0
lomiri-wallpapers-16.04|usr/share/backgrounds/analogpattern_by_Peter_Nerlich.jpg|Peter Nerlich, 2018|CC-BY-SA-4.0
lomiri-wallpapers-16.04|usr/share/backgrounds/free_by_Peter_Nerlich.jpg|Peter Nerlich, 2018|CC-BY-SA-4.0
lomiri-wallpapers-16.04|usr/share/backgrounds/friends_by_Aitzol_Berasategi.jpg|Aitzol Berasategi, 2018|CC-BY-4.0
lomiri-wallpapers-16.04|usr/share/backgrounds/life_by_Aitzol_Berasategi.jpg|Aitzol Berasategi, 2018|CC-BY-4.0
lomiri-wallpapers-16.04|usr/share/backgrounds/picosdeeuropa_by_Aitzol_Berasategi.jpg|Aitzol Berasategi, 2018|CC-BY-4.0
lomiri-wallpapers-16.04|usr/share/backgrounds/seeding_by_Clements_Engelhardt.jpg|Clemens Engelhardt, 2018|CC0-1.0
lomiri-wallpapers-16.04|usr/share/backgrounds/sunset_by_Aitzol_Berasategi.jpg|Aitzol Berasategi, 2018|CC-BY-4.0
mate-backgrounds|usr/share/backgrounds/mate/nature/Aqua.jpg|Charles Barbin, 2008|GPL-2+
mate-backgrounds|usr/share/backgrounds/mate/nature/Blinds.jpg|Lennart Poettering, Andrea Cimitan, 2008|GPL-2+
mate-backgrounds|usr/share/backgrounds/mate/nature/Dune.jpg|Marco Cogoni 2007, Hylke Bons 2008|GPL-2+
mate-backgrounds|usr/share/backgrounds/mate/nature/FreshFlower.jpg|Jens Ansorg, 2005|GPL-2+
mate-backgrounds|usr/share/backgrounds/mate/nature/Garden.jpg|Charles Barbin, 2008|GPL-2+
mate-backgrounds|usr/share/backgrounds/mate/nature/GreenMeadow.jpg|Timothy Schellhase 2005, Lapo Calamandrei 2008|GPL-2+
mate-backgrounds|usr/share/backgrounds/mate/nature/LadyBird.jpg|Charles Barbin, 2008|GPL-2+
mate-backgrounds|usr/share/backgrounds/mate/nature/RainDrops.jpg|"blackcombwhistler07", 2008|GPL-2+
mate-backgrounds|usr/share/backgrounds/mate/nature/Storm.jpg|Sergey Nazarov, 2008|GPL-2+
mate-backgrounds|usr/share/backgrounds/mate/nature/TwoWings.jpg|Charles Barbin, Hylke Bons, 2008|GPL-2+
mate-backgrounds|usr/share/backgrounds/mate/nature/Wood.jpg|Jean-François Fortin Tam, 2008|GPL-2+
mate-backgrounds|usr/share/backgrounds/mate/nature/YellowFlower.jpg|Charles Barbin, 2008|GPL-2+
LIST
)
declare -A VERSION
# shellcheck source=tools/debian-pack-lib.sh
source "$(dirname "$0")/debian-pack-lib.sh"
fetch_debian_packages "$LIST" "$WORK"

rm -rf "$OUT"
mkdir -p "$OUT/LICENSES/common-licenses"

md="$OUT/SOURCES.md"
{
  echo "# Photographs of the embedded data"
  echo
  echo "Written by \`tools/build-photo-pack.sh\`; do not edit by hand. Each photo was taken from"
  echo "the Debian (bookworm) package named beside it and **modified**: centre-cropped to 3:2,"
  echo "downscaled to 480x320 and re-encoded as JPEG (quality 90, no metadata). The package's"
  echo "\`debian/copyright\` (with the full licence texts, or a pointer to"
  echo "\`LICENSES/common-licenses/\`) is \`LICENSES/<package>.copyright.txt\`. The MNIST-M and"
  echo "syndigits recipes crop small patches of these photos into training images."
  echo
  echo "| file | package | version | original path | author | licence |"
  echo "|---|---|---|---|---|---|"
} > "$md"

pairs=()
while IFS='|' read -r pkg src author licence; do
  [ -f "$WORK/x/$pkg/$src" ] || { echo "missing $src in $pkg" >&2; exit 1; }
  base=$(basename "$src")
  dest=$(printf '%s' "${base%.*}" | tr 'A-Z' 'a-z' | tr -c 'a-z0-9_\n-' '-').jpg
  pairs+=("$WORK/x/$pkg/$src=$dest")
  echo "| $dest | $pkg | ${VERSION[$pkg]} | \`/$src\` | $author | $licence |" >> "$md"
done <<< "$LIST"

node "$ROOT/tools/shrink-photos.js" "$OUT" "${pairs[@]}"
chmod 644 "$OUT"/*.jpg

for pkg in $PKGS; do
  cp "$WORK/x/$pkg/usr/share/doc/$pkg/copyright" "$OUT/LICENSES/$pkg.copyright.txt"
  chmod 644 "$OUT/LICENSES/$pkg.copyright.txt"
  for lic in $(grep -o '/usr/share/common-licenses/[A-Za-z0-9.+-]*' "$OUT/LICENSES/$pkg.copyright.txt" | sed 's#.*/##; s#[.]$##' | sort -u); do
    if [ -f "/usr/share/common-licenses/$lic" ]; then
      cp "/usr/share/common-licenses/$lic" "$OUT/LICENSES/common-licenses/$lic"
      chmod 644 "$OUT/LICENSES/common-licenses/$lic"
    fi
  done
done

echo "wrote $(printf '%s\n' "$LIST" | wc -l) photos, $(du -sh "$OUT" | cut -f1) in $OUT"
