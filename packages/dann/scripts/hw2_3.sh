#!/usr/bin/env bash
# hw2_3.sh <image folder> <output csv>
# The homework's problem-3 entry point: labels every image of the folder (e.g.
# hw2_data/digits/svhn/data or hw2_data/digits/usps/data) with the DANN model of the scenario
# named in the path, and writes `image_name,label` rows sorted by file name.
# Models are read from packages/dann/runs/dann/mnistm-to-{svhn,usps}-dann/model, where
# `pnpm --filter @dlcv/dann train-all` puts them (override: DANN_RUNS=DIR);
# `pnpm --filter @dlcv/dann build` must have run once.
set -euo pipefail
if [ "$#" -ne 2 ]; then
  echo "usage: $0 <image folder> <output csv>" >&2
  exit 2
fi
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
exec node "$here/bin/dlcv-dann.js" predict "$1" "$2" --out "${DANN_RUNS:-$here/runs/dann}"
