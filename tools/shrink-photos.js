#!/usr/bin/env node
/**
 * Shrinks photographs for the embedded photo pack: centre crop to 3:2, resize to 360x240
 * (Lanczos), baseline JPEG without metadata. Used by tools/build-photo-pack.sh.
 *
 * Usage: node tools/shrink-photos.js OUT_DIR SRC=DEST_NAME [SRC=DEST_NAME ...]
 * sharp is resolved from @dlcv/core, which depends on it.
 */
'use strict';
const path = require('node:path');
const { createRequire } = require('node:module');

const coreRequire = createRequire(path.join(__dirname, '..', 'packages', 'core', 'package.json'));
const sharp = coreRequire('sharp');
sharp.concurrency(1);
sharp.cache(false);

const WIDTH = 360;
const HEIGHT = 240;
const QUALITY = 85;

async function main() {
  const [outDir, ...pairs] = process.argv.slice(2);
  if (!outDir || pairs.length === 0) {
    console.error('usage: shrink-photos.js OUT_DIR SRC=DEST_NAME ...');
    process.exit(2);
  }
  for (const pair of pairs) {
    const eq = pair.lastIndexOf('=');
    const src = pair.slice(0, eq);
    const dest = path.join(outDir, pair.slice(eq + 1));
    const info = await sharp(src, { failOn: 'error' })
      .rotate()
      .resize(WIDTH, HEIGHT, { fit: 'cover', position: 'centre', kernel: 'lanczos3' })
      .toColourspace('srgb')
      .jpeg({ quality: QUALITY, progressive: false, chromaSubsampling: '4:2:0', mozjpeg: false })
      .toFile(dest);
    console.log(`${path.basename(dest)}: ${info.width}x${info.height}, ${info.size} bytes`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
