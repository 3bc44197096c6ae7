#!/usr/bin/env bash
# hw2_2.sh <out_dir> [model_dir]
# Writes the 1000 graded images 0_001.png ... 9_100.png (100 per digit) into <out_dir> from a
# saved model folder: [model_dir], else $DLCV_DDPM_MODEL, else runs/ddpm-cpu/model under the
# current folder (what `dlcv-ddpm train` writes there). Fixed seed: same call, same bytes.
# Sampler, steps and guidance come from the model's config.json; extra flags after the model
# folder go to `dlcv-ddpm sample` (e.g. --sampler ddpm --steps 400 --w 2).
set -euo pipefail
pkg="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:?usage: hw2_2.sh <out_dir> [model_dir] [sample flags...]}"
model="${2:-${DLCV_DDPM_MODEL:-runs/ddpm-cpu/model}}"
shift $(( $# >= 2 ? 2 : 1 ))
if [ ! -f "$pkg/dist/cli.js" ]; then
  echo "hw2_2.sh: $pkg/dist/cli.js is missing; build first: pnpm --filter @dlcv/ddpm build" >&2
  exit 1
fi
exec node "$pkg/bin/dlcv-ddpm.js" sample "$out" --model "$model" "$@"
