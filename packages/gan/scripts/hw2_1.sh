#!/bin/sh
# The homework's hw2_1.sh: 1000 generated faces into the folder given as $1 (fixed seed, so the
# same folder contents every time). The generator is the model folder in $DLCV_GAN_MODEL, by
# default runs/gan-B/model (model B, the report's better FID) under the current directory;
# $DLCV_GAN_CHECKPOINT, when set, names a run or checkpoint folder to load it from instead.
out="${1:?usage: hw2_1.sh OUTPUT_DIR}"
if [ -n "${DLCV_GAN_CHECKPOINT:-}" ]; then
  set -- --checkpoint "$DLCV_GAN_CHECKPOINT"
else
  set -- --model "${DLCV_GAN_MODEL:-runs/gan-B/model}"
fi
exec node "$(dirname "$0")/../bin/dlcv-gan.js" generate "$@" --count 1000 --seed 0 --out "$out"
