#!/usr/bin/env bash
# Rebuilds packages/eval/test-fixtures/{faces,nonfaces}/: the 64x64 images the face grader's
# tests use. Faces are crops of two public-domain portraits, framed like the homework's CelebA
# crops (the face fills most of the frame); non-faces are crops of CC0 / public-domain photos.
#   faces/astronaut.png     scikit-image data/astronaut.png (NASA portrait of Eileen Collins,
#                           public domain), Debian package python3-skimage
#   faces/grace_hopper.png  matplotlib sample_data/grace_hopper.jpg (U.S. Navy portrait,
#                           public domain), Debian package python-matplotlib-data
#   nonfaces/coffee.png     skimage coffee.png (CC0, Rachel Michetti)
#   nonfaces/rocket.png     skimage rocket.jpg (SpaceX, public domain)
#   nonfaces/brick.png, grass.png, gravel.png   skimage textures (CC0)
# Needs apt-get (after `apt-get update`) and `pnpm install` (sharp comes from @dlcv/core).
set -euo pipefail
export LC_ALL=C
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT="$ROOT/packages/eval/test-fixtures"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
apt-get download python3-skimage python-matplotlib-data >/dev/null
for f in *.deb; do dpkg -x "$f" x; done
SK=x/usr/lib/python3/dist-packages/skimage/data
MPL=x/usr/share/matplotlib/mpl-data/sample_data
mkdir -p "$OUT/faces" "$OUT/nonfaces"
# file, left, top, side (square crop), output
cat > crops.txt <<LIST
$SK/astronaut.png 150 30 160 faces/astronaut.png
$MPL/grace_hopper.jpg 130 80 260 faces/grace_hopper.png
$SK/coffee.png 150 50 300 nonfaces/coffee.png
$SK/rocket.jpg 200 0 400 nonfaces/rocket.png
$SK/brick.png 0 0 512 nonfaces/brick.png
$SK/grass.png 0 0 512 nonfaces/grass.png
$SK/gravel.png 0 0 512 nonfaces/gravel.png
LIST
node -e '
const fs = require("fs");
const sharp = require(require.resolve("sharp", { paths: [process.argv[1]] }));
(async () => {
  for (const line of fs.readFileSync("crops.txt", "utf8").trim().split("\n")) {
    const [file, left, top, side, out] = line.split(" ");
    await sharp(file).extract({ left: +left, top: +top, width: +side, height: +side })
      .resize(64, 64, { kernel: "lanczos3" }).toColourspace("srgb").removeAlpha()
      .png({ compressionLevel: 9, adaptiveFiltering: false, palette: false })
      .toFile(process.argv[2] + "/" + out);
  }
})().catch((e) => { console.error(e); process.exit(1); });
' "$ROOT/packages/core" "$OUT"
echo "wrote $(ls "$OUT"/faces "$OUT"/nonfaces | grep -c png) images under $OUT"
