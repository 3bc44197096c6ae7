#!/bin/sh
# The homework's hw2_1.sh: 1000 generated faces into the folder given as $1 (fixed seed, so the
# same folder contents every time). The generator is the run folder in $DLCV_GAN_CHECKPOINT,
# by default runs/gan-B (model B, the report's better FID) under the current directory.
exec node "$(dirname "$0")/../bin/dlcv-gan.js" generate --checkpoint "${DLCV_GAN_CHECKPOINT:-runs/gan-B}" --count 1000 --seed 0 --out "${1:?usage: hw2_1.sh OUTPUT_DIR}"
