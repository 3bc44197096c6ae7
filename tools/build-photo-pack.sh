#!/usr/bin/env bash
# Rebuilds packages/core/assets/photos/: the natural colour photographs that the embedded
# MNIST-M recipe (Ganin & Lempitsky) crops its 28x28 background patches from, and that the
# syndigits recipe sometimes uses as a background.
#
# The photos come from Debian wallpaper packages (no text, no logos; varied colours and
# textures). The script downloads the .deb files with `apt-get download` (run
# `apt-get update` first on a fresh machine), unpacks them with `dpkg -x` into a temporary
# folder, shrinks each chosen photo to 360x240 JPEG with tools/shrink-photos.js (sharp,
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

# package | path inside the package | author | licence [| file name in the pack, when the
# original's name says nothing (plasma's images/5120x2880.png)]. Author and licence come from
# the package's debian/copyright, or for plasma-workspace-wallpapers from each wallpaper's
# metadata.json (its debian/copyright gives GPL-2+ for the whole package).
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
plasma-workspace-wallpapers|usr/share/wallpapers/Altai/contents/images/5120x2880.png|Alesya Khoteeva|CC-BY-SA-4.0|plasma-altai.jpg
plasma-workspace-wallpapers|usr/share/wallpapers/Autumn/contents/images/2560x1600.jpg|RJ Quiralta|LGPL-3|plasma-autumn.jpg
plasma-workspace-wallpapers|usr/share/wallpapers/BytheWater/contents/images/2560x1600.jpg|Maciej Wiklo|LGPL-3|plasma-bythewater.jpg
plasma-workspace-wallpapers|usr/share/wallpapers/Canopee/contents/images/3840x2160.png|Ken Vermette|LGPL-3|plasma-canopee.jpg
plasma-workspace-wallpapers|usr/share/wallpapers/Cascade/contents/images/3840x2160.png|Ken Vermette|LGPL-3|plasma-cascade.jpg
plasma-workspace-wallpapers|usr/share/wallpapers/Cluster/contents/images/3840x2160.png|Ken Vermette|LGPL-3|plasma-cluster.jpg
plasma-workspace-wallpapers|usr/share/wallpapers/ColdRipple/contents/images/2560x1600.jpg|Risto Saukonpää|LGPL-3|plasma-coldripple.jpg
plasma-workspace-wallpapers|usr/share/wallpapers/ColorfulCups/contents/images/2560x1600.jpg|Dmitri Popov|LGPL-3|plasma-colorfulcups.jpg
plasma-workspace-wallpapers|usr/share/wallpapers/DarkestHour/contents/images/2560x1600.jpg|Risto Saukonpää|LGPL-3|plasma-darkesthour.jpg
plasma-workspace-wallpapers|usr/share/wallpapers/Elarun/contents/images/2560x1600.png|Nuno Pinheiro|LGPL-3|plasma-elarun.jpg
plasma-workspace-wallpapers|usr/share/wallpapers/EveningGlow/contents/images/2560x1600.jpg|Ian Hex|LGPL-3|plasma-eveningglow.jpg
plasma-workspace-wallpapers|usr/share/wallpapers/FallenLeaf/contents/images/2560x1600.jpg|Martin Klapetek|LGPL-3|plasma-fallenleaf.jpg
plasma-workspace-wallpapers|usr/share/wallpapers/Flow/contents/images/5120x2880.jpg|Sandra Smukaste|CC-BY-SA-4.0|plasma-flow.jpg
plasma-workspace-wallpapers|usr/share/wallpapers/Grey/contents/images/2560x1600.jpg|Sigi Sagi|LGPL-3|plasma-grey.jpg
plasma-workspace-wallpapers|usr/share/wallpapers/Honeywave/contents/images/5120x2880.jpg|Ken Vermette|CC-BY-SA-4.0|plasma-honeywave.jpg
plasma-workspace-wallpapers|usr/share/wallpapers/IceCold/contents/images/5120x2880.png|Santiago Cézar|CC-BY-SA-4.0|plasma-icecold.jpg
plasma-workspace-wallpapers|usr/share/wallpapers/Kay/contents/images/5120x2880.png|ruvkr|CC-BY-SA-4.0|plasma-kay.jpg
plasma-workspace-wallpapers|usr/share/wallpapers/Kite/contents/images/2560x1600.jpg|Risto Saukonpää|LGPL-3|plasma-kite.jpg
plasma-workspace-wallpapers|usr/share/wallpapers/Kokkini/contents/images/3840x2160.png|Ken Vermette|LGPL-3|plasma-kokkini.jpg
plasma-workspace-wallpapers|usr/share/wallpapers/MilkyWay/contents/images/5120x2880.png|ruvkr|CC-BY-SA-4.0|plasma-milkyway.jpg
plasma-workspace-wallpapers|usr/share/wallpapers/OneStandsOut/contents/images/2560x1600.jpg|Risto Saukonpää|LGPL-3|plasma-onestandsout.jpg
plasma-workspace-wallpapers|usr/share/wallpapers/Opal/contents/images/3840x2160.png|Ken Vermette|LGPL-3|plasma-opal.jpg
plasma-workspace-wallpapers|usr/share/wallpapers/PastelHills/contents/images/3200x2000.jpg|Lionel|LGPL-3|plasma-pastelhills.jpg
plasma-workspace-wallpapers|usr/share/wallpapers/Patak/contents/images/5120x2880.png|Áron Kovács|CC-BY-SA-4.0|plasma-patak.jpg
plasma-workspace-wallpapers|usr/share/wallpapers/Path/contents/images/2560x1600.jpg|Risto Saukonpää|LGPL-3|plasma-path.jpg
plasma-workspace-wallpapers|usr/share/wallpapers/Shell/contents/images/5120x2880.jpg|Lucas Andrade|CC-BY-SA-4.0|plasma-shell.jpg
plasma-workspace-wallpapers|usr/share/wallpapers/Volna/contents/images/5120x2880.jpg|Nikita Babin|CC-BY-SA-4.0|plasma-volna.jpg
plasma-workspace-wallpapers|usr/share/wallpapers/summer_1am/contents/images/2560x1600.jpg|Risto Saukonpää|LGPL-3|plasma-summer_1am.jpg
gnome-backgrounds|usr/share/backgrounds/gnome/adwaita-d.webp|Jakub Steiner, 2011|CC-BY-SA-3.0
gnome-backgrounds|usr/share/backgrounds/gnome/adwaita-l.webp|Jakub Steiner, 2011|CC-BY-SA-3.0
lomiri-wallpapers-16.04|usr/share/backgrounds/Wine_by_Jakkub_Mede.jpg|Jakub Mede, 2018|CC-BY-4.0
lomiri-wallpapers-16.04|usr/share/backgrounds/greentock_by_Peter_Nerlich.jpg|Peter Nerlich, 2018|CC-BY-SA-4.0
lomiri-wallpapers-16.04|usr/share/backgrounds/umang_by_Abhishek_Mudgal.jpg|Abhishek Mudgal, 2018|CC-BY-4.0
lomiri-wallpapers-20.04|usr/share/backgrounds/Fossa_by_Jasper_Roks.jpg|Jasper Roks, 2023|CC-BY-SA-3.0
lomiri-wallpapers-20.04|usr/share/backgrounds/Infinite-Sea_by_Aury88.jpg|Aury88, 2019|CC-BY-SA-3.0
lomiri-wallpapers-20.04|usr/share/backgrounds/Kleiber_by_Lukas_Baubkus.jpg|Lukas Baubkus, 2021|CC-BY-SA-3.0
lomiri-wallpapers-20.04|usr/share/backgrounds/Painting-Colors_by__herobrine7gamer.jpg|"HEROBRINE7GAMER", 2021|CC-BY-SA-3.0
mate-backgrounds|usr/share/backgrounds/mate/abstract/Elephants.jpg|Wyng Stancikaite, 2020|GPL-2+
mate-backgrounds|usr/share/backgrounds/mate/desktop/Ubuntu-Mate-Cold-no-logo.png|Goce Mitevski, 2014|CC-BY-SA-4.0
mate-backgrounds|usr/share/backgrounds/mate/desktop/Ubuntu-Mate-Radioactive-no-logo.png|Goce Mitevski, 2014|CC-BY-SA-4.0
mate-backgrounds|usr/share/backgrounds/mate/desktop/Ubuntu-Mate-Warm-no-logo.png|Goce Mitevski, 2014|CC-BY-SA-4.0
ukui-wallpapers|usr/share/backgrounds/calla.png|Ubuntu Kylin community contributors, 2013-2020|CC-BY-SA-3.0|ukui-calla.jpg
ukui-wallpapers|usr/share/backgrounds/city.png|Ubuntu Kylin community contributors, 2013-2020|CC-BY-SA-3.0|ukui-city.jpg
ukui-wallpapers|usr/share/backgrounds/desert.png|Ubuntu Kylin community contributors, 2013-2020|CC-BY-SA-3.0|ukui-desert.jpg
ukui-wallpapers|usr/share/backgrounds/fluent-color.png|Ubuntu Kylin community contributors, 2013-2020|CC-BY-SA-3.0|ukui-fluent-color.jpg
ukui-wallpapers|usr/share/backgrounds/goldfish.png|Ubuntu Kylin community contributors, 2013-2020|CC-BY-SA-3.0|ukui-goldfish.jpg
ukui-wallpapers|usr/share/backgrounds/rhythm.jpg|Ubuntu Kylin community contributors, 2013-2020|CC-BY-SA-3.0|ukui-rhythm.jpg
ukui-wallpapers|usr/share/backgrounds/rollpaper.png|Ubuntu Kylin community contributors, 2013-2020|CC-BY-SA-3.0|ukui-rollpaper.jpg
ukui-wallpapers|usr/share/backgrounds/string.jpg|Ubuntu Kylin community contributors, 2013-2020|CC-BY-SA-3.0|ukui-string.jpg
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
  echo "downscaled to 360x240 and re-encoded as JPEG (quality 85, no metadata). The package's"
  echo "\`debian/copyright\` (with the full licence texts, or a pointer to"
  echo "\`LICENSES/common-licenses/\`) is \`LICENSES/<package>.copyright.txt\`. The MNIST-M and"
  echo "syndigits recipes crop small patches of these photos into training images."
  echo
  echo "| file | package | version | original path | author | licence |"
  echo "|---|---|---|---|---|---|"
} > "$md"

pairs=()
while IFS='|' read -r pkg src author licence name; do
  [ -f "$WORK/x/$pkg/$src" ] || { echo "missing $src in $pkg" >&2; exit 1; }
  base=$(basename "$src")
  dest=${name:-$(printf '%s' "${base%.*}" | tr 'A-Z' 'a-z' | tr -c 'a-z0-9_\n-' '-').jpg}
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

# Licences named in the table itself (plasma's metadata.json: LGPL-3) when Debian ships their text.
for lic in $(printf '%s\n' "$LIST" | cut -d'|' -f4 | sed 's#+$##' | sort -u); do
  if [ -f "/usr/share/common-licenses/$lic" ]; then
    cp "/usr/share/common-licenses/$lic" "$OUT/LICENSES/common-licenses/$lic"
    chmod 644 "$OUT/LICENSES/common-licenses/$lic"
  fi
done

echo "wrote $(printf '%s\n' "$LIST" | wc -l) photos, $(du -sh "$OUT" | cut -f1) in $OUT"
