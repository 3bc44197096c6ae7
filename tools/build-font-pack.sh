#!/usr/bin/env bash
# Rebuilds packages/core/assets/fonts/: the fonts that the embedded "syndigits" set (an
# SVHN stand-in, after the "Syn Numbers" recipe) renders its digits with.
#
# Every font comes from a Debian package whose licence allows redistribution (SIL OFL,
# Apache-2.0, MIT, public domain, LGPL, GPL/AGPL with the font exception). The script
# downloads the .deb files with `apt-get download` (no root needed for that; run
# `apt-get update` first on a fresh machine), unpacks them with `dpkg -x` into a temporary
# folder, and writes:
#   packages/core/assets/fonts/*.ttf|*.otf        the font files, unmodified
#   packages/core/assets/fonts/fonts.json          file -> family, style, package, version, licence
#   packages/core/assets/fonts/SOURCES.md          the same as a table, with each original path
#   packages/core/assets/fonts/LICENSES/           each package's debian/copyright, plus the
#                                                  /usr/share/common-licenses texts they cite
# Re-runnable: the output folder is replaced; lists are sorted, so the same package
# versions give the same files.
set -euo pipefail
export LC_ALL=C

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT="$ROOT/packages/core/assets/fonts"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# package | file name inside the package | style | licence of the font file
LIST=$(cat <<'LIST'
fonts-adf-accanthis|AccanthisADFStd-Bold.otf|serif|GPL-2+ with font exception
fonts-adf-gillius|GilliusADF-Bold.otf|sans|GPL-2+ with font exception
fonts-adf-switzera|SwitzeraADF-BoldCond.otf|sans|GPL-2+ with font exception
fonts-adf-switzera|SwitzeraADF-ExtraBold.otf|sans|GPL-2+ with font exception
fonts-adf-tribun|TribunADFStd-Bold.otf|serif|GPL-2+ with font exception
fonts-allerta|allerta_medium.otf|sans|OFL-1.1
fonts-allerta|allerta_stencil.otf|display|OFL-1.1
fonts-averia-gwf|AveriaGWF-Bold.ttf|display|OFL-1.1
fonts-b612|B612-Bold.otf|sans|OFL-1.1 / EPL-2.0 / EDL-1.0
fonts-b612|B612Mono-Bold.otf|mono|OFL-1.1 / EPL-2.0 / EDL-1.0
fonts-bebas-neue|BebasNeue-Regular.otf|sans|OFL-1.1
fonts-cabin|Cabin-Bold.otf|sans|OFL-1.1
fonts-cabin|Cabin-Italic.otf|sans|OFL-1.1
fonts-cantarell|Cantarell-Bold.otf|sans|OFL-1.1
fonts-century-catalogue|Century-Catalogue.ttf|serif|OFL-1.0
fonts-cherrybomb|CherryBomb-Regular.otf|display|OFL-1.1
fonts-comic-neue|ComicNeue-Bold.otf|display|OFL-1.1
fonts-courier-prime|Courier Prime Bold.otf|mono|OFL-1.1
fonts-crosextra-caladea|Caladea-Bold.ttf|serif|OFL-1.1
fonts-dancingscript|DancingScript-Bold.otf|display|OFL-1.1
fonts-dosis|Dosis-Bold.otf|sans|OFL-1.1
fonts-engadget|Engadget.ttf|display|LGPL-2
fonts-humor-sans|Humor-Sans.ttf|display|OFL-1.1
fonts-inconsolata|Inconsolata.otf|mono|OFL-1.0
fonts-jura|Jura-Bold.otf|sans|OFL-1.1
fonts-junction|Junction.otf|sans|OFL-1.1
fonts-karla|Karla-Bold.otf|sans|OFL-1.1
fonts-kaushanscript|KaushanScript-Regular.otf|display|OFL-1.1
fonts-league-mono|LeagueMono-CondensedBold.otf|mono|OFL-1.1
fonts-league-spartan|LeagueSpartan-Bold.otf|sans|OFL-1.1
fonts-leckerli-one|LeckerliOne-Regular.ttf|display|OFL-1.1
fonts-lemonada|Lemonada-Bold.otf|display|OFL-1.1
fonts-lobster|lobster.otf|display|OFL-1.1
fonts-mononoki|mononoki-Bold.ttf|mono|OFL-1.1
fonts-national-park|NationalPark-Heavy.otf|sans|OFL-1.1
fonts-ocr-a|OCRA.ttf|mono|public domain
fonts-ocr-b|OCRB.otf|mono|public domain
fonts-opendin|OSP-DIN.ttf|sans|OFL-1.1
fonts-quattrocento|Quattrocento-Regular.otf|serif|OFL-1.1
fonts-quicksand|Quicksand-Bold.ttf|sans|OFL-1.1
fonts-roadgeek|RG2014B.ttf|sans|MIT
fonts-roadgeek|RG2014D.ttf|sans|MIT
fonts-roadgeek|RG2014EM.ttf|sans|MIT
fonts-roboto-slab|RobotoSlab-Bold.otf|serif|Apache-2.0
fonts-rufscript|Rufscript010.ttf|display|GPL-3+ with font exception
fonts-sora|Sora-ExtraBold.otf|sans|OFL-1.1
fonts-staypuft|StayPuft.ttf|display|LGPL-2
fonts-tlwg-purisa-ttf|Purisa-Bold.ttf|display|GPL-2+ with font exception
fonts-tlwg-typewriter-ttf|TlwgTypewriter-Bold.ttf|mono|GPL-2+ with font exception
fonts-tuffy|Tuffy_Bold.ttf|sans|public domain
fonts-urw-base35|C059-Bold.otf|serif|AGPL-3 with font exception
fonts-urw-base35|NimbusMonoPS-Bold.otf|mono|AGPL-3 with font exception
fonts-urw-base35|NimbusRoman-Bold.otf|serif|AGPL-3 with font exception
fonts-urw-base35|NimbusRoman-Italic.otf|serif|AGPL-3 with font exception
fonts-urw-base35|NimbusSans-Bold.otf|sans|AGPL-3 with font exception
fonts-urw-base35|NimbusSans-BoldItalic.otf|sans|AGPL-3 with font exception
fonts-urw-base35|NimbusSans-Regular.otf|sans|AGPL-3 with font exception
fonts-urw-base35|NimbusSansNarrow-Bold.otf|sans|AGPL-3 with font exception
fonts-urw-base35|P052-Roman.otf|serif|AGPL-3 with font exception
fonts-urw-base35|URWBookman-Demi.otf|serif|AGPL-3 with font exception
fonts-urw-base35|URWGothic-Demi.otf|sans|AGPL-3 with font exception
fonts-yanone-kaffeesatz|YanoneKaffeesatz-Bold.otf|sans|OFL-1.1
LIST
)
declare -A VERSION
# shellcheck source=tools/debian-pack-lib.sh
source "$(dirname "$0")/debian-pack-lib.sh"
fetch_debian_packages "$LIST" "$WORK"

rm -rf "$OUT"
mkdir -p "$OUT/LICENSES/common-licenses"

json="$OUT/fonts.json"
md="$OUT/SOURCES.md"
{
  echo "# Fonts of the embedded syndigits set"
  echo
  echo "Written by \`tools/build-font-pack.sh\`; do not edit by hand. Each file is copied unmodified"
  echo "from the Debian (bookworm) package named beside it; the package's \`debian/copyright\` is"
  echo "\`LICENSES/<package>.copyright.txt\`, and the common licence texts it cites are in"
  echo "\`LICENSES/common-licenses/\`. The fonts are used only to render digits into training"
  echo "images; they are not part of the toolkit's MIT-licensed code."
  echo
  echo "| file | style | package | version | original path | licence |"
  echo "|---|---|---|---|---|---|"
} > "$md"
echo '[' > "$json"

first=1
while IFS='|' read -r pkg file style licence; do
  src=$(cd "$WORK/x/$pkg" && find . -type f -name "$file" | sort | head -n1)
  if [ -z "$src" ]; then echo "missing $file in $pkg" >&2; exit 1; fi
  dest=${file// /-}
  cp "$WORK/x/$pkg/$src" "$OUT/$dest"
  chmod 644 "$OUT/$dest"
  family="dlcv-${dest%.*}"
  orig=${src#.}
  echo "| $dest | $style | $pkg | ${VERSION[$pkg]} | \`$orig\` | $licence |" >> "$md"
  [ $first = 1 ] || echo ',' >> "$json"
  first=0
  printf '  {"file": "%s", "family": "%s", "style": "%s", "package": "%s", "version": "%s", "originalPath": "%s", "licence": "%s"}' \
    "$dest" "$family" "$style" "$pkg" "${VERSION[$pkg]}" "$orig" "$licence" >> "$json"
done <<< "$LIST"
printf '\n]\n' >> "$json"

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

echo "wrote $(printf '%s\n' "$LIST" | wc -l) fonts, $(du -sh "$OUT" | cut -f1) in $OUT"
