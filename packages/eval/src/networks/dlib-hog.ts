/**
 * dlib's HOG frontal face detector, which the assignment's face-recognition grader runs:
 * `face_recognition.face_locations(image, model="HOG")` calls `dlib.get_frontal_face_detector()`
 * on the RGB image upsampled once. The addon (native-dlib/face_detector.cc) links Debian's
 * libdlib-dev and makes the same calls as dlib's Python binding; scripts/build-dlib.js builds it
 * when dlib is found, and otherwise writes why it did not (the face grader then falls back to
 * face-api and says so).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RawImage } from '@dlcv/core';

/** face_recognition.face_locations' number_of_times_to_upsample. */
export const DLIB_UPSAMPLE = 1;

interface DlibAddon {
  detectFaces(rgb: Uint8Array, width: number, height: number, upsample: number): Int32Array;
  info(): { dlib: string };
}

export type DlibLoad = { ok: true; addon: DlibAddon; version: string } | { ok: false; reason: string };

/** A face's box in the image's pixels, inclusive edges as dlib's rectangle (it may reach past the image). */
export interface FaceBox {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

const BUILD_DIR = path.join(__dirname, '..', '..', 'build', 'Release');
let loaded: DlibLoad | undefined;

/** The addon, loaded once, or why it is not there (the build's skip line). */
export function loadDlib(): DlibLoad {
  if (loaded) return loaded;
  const file = path.join(BUILD_DIR, 'dlcv_dlib.node');
  if (!fs.existsSync(file)) {
    const skipped = path.join(BUILD_DIR, 'dlcv_dlib.skipped.txt');
    const why = fs.existsSync(skipped) ? fs.readFileSync(skipped, 'utf8').trim() : 'not built yet (run `pnpm build`)';
    return (loaded = { ok: false, reason: `dlib's detector is not built: ${why}` });
  }
  try {
    const addon = require(file) as DlibAddon;
    loaded = { ok: true, addon, version: addon.info().dlib };
  } catch (e) {
    loaded = { ok: false, reason: `${file} does not load: ${(e as Error).message.split('\n')[0]}` };
  }
  return loaded;
}

/** DLCV_REQUIRE_DLIB=1 (CI): the dlib tests fail instead of skipping when the addon is missing. */
export function dlibRequired(): boolean {
  return process.env.DLCV_REQUIRE_DLIB === '1';
}

/** The faces dlib's frontal face detector finds in an RGB image, after `upsample` pyramid_up steps. */
export function detectFaces(addon: DlibAddon, image: RawImage, upsample = DLIB_UPSAMPLE): FaceBox[] {
  if (image.channels !== 3) throw new Error(`detectFaces: RGB images only, got ${image.channels} channels`);
  const flat = addon.detectFaces(image.data, image.width, image.height, upsample);
  const boxes: FaceBox[] = [];
  for (let i = 0; i < flat.length; i += 4) boxes.push({ left: flat[i]!, top: flat[i + 1]!, right: flat[i + 2]!, bottom: flat[i + 3]! });
  return boxes;
}
