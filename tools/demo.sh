#!/usr/bin/env bash
# The project's main job, end to end on the embedded MNIST-M (no download, no GPU), with two
# packages (so it lives here, not in either of them):
#   1. train ddpm's cpu preset (resumes the run if a checkpoint is there; a finished run is kept),
#   2. sample the 1000 graded digits 0_001.png ... 9_100.png (fixed seed: same bytes each time),
#   3. grade them with eval's two digit classifiers, the homework's network and the strict one
#      (the result saved in eval/digits.json),
#   4. write the run's report page (report/index.html: curves, grids, the grade, live sampling).
# Run folder: $DLCV_DEMO_RUN, else runs/ddpm-cpu of the repository (where `pnpm --filter
# @dlcv/ddpm train` run from the root writes too; the 1000 digits go to its
# generated/ folder). Extra flags go to `train`. The root `pnpm demo` builds, then runs this.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ddpm="$root/packages/ddpm"
evalpkg="$root/packages/eval"
run="${DLCV_DEMO_RUN:-$root/runs/ddpm-cpu}"
for f in "$ddpm/dist/cli.js" "$evalpkg/dist/cli.js"; do
  [ -f "$f" ] || { echo "demo.sh: $f is missing; build first: pnpm build" >&2; exit 1; }
done
start=$SECONDS
resume=()
[ -f "$run/checkpoints/latest.json" ] && resume=(--resume)
node "$ddpm/bin/dlcv-ddpm.js" train --out "$run" "${resume[@]}" "$@"
trained=$SECONDS
node "$ddpm/bin/dlcv-ddpm.js" sample "$run/generated" --model "$run/model"
sampled=$SECONDS
node "$evalpkg/bin/dlcv-eval.js" digits "$run/generated" --save "$run/eval/digits.json"
graded=$SECONDS
node "$ddpm/bin/dlcv-ddpm.js" report "$run" --out "$run/report"
echo "demo: train $(( trained - start )) s, sample $(( sampled - trained )) s, grade $(( graded - sampled )) s, report $(( SECONDS - graded )) s, total $(( (SECONDS - start) / 60 )) min $(( (SECONDS - start) % 60 )) s; run folder $run"
echo "demo: report $run/report/index.html (open it in a browser; it works offline)"
