/**
 * Training-time augmentation of digit images (uint8 NHWC), drawn from the caller's Rng so a
 * seed gives the same batches on every engine:
 * - a shift of up to `maxShift` pixels in x and y, the border pixels repeated into the gap
 *   (an MNIST-M background continues past the frame; zeros would draw a black edge);
 * - a random permutation of the three colour channels: MNIST-M's colours come from the photo
 *   patch, not from the digit, so a digit's class does not depend on them.
 */
import type { Rng } from '@dlcv/core';

export interface AugmentOptions {
  maxShift: number;
  permuteChannels: boolean;
}

export const DEFAULT_AUGMENT: AugmentOptions = { maxShift: 2, permuteChannels: true };

const PERMUTATIONS = [
  [0, 1, 2],
  [0, 2, 1],
  [1, 0, 2],
  [1, 2, 0],
  [2, 0, 1],
  [2, 1, 0],
] as const;

/** One image shifted by (dx, dy) with edge replication, channels reordered by `perm`. */
export function shiftImage(src: Uint8Array, size: number, channels: number, dx: number, dy: number, perm: readonly number[]): Uint8Array {
  const out = new Uint8Array(size * size * channels);
  for (let y = 0; y < size; y++) {
    const sy = Math.min(size - 1, Math.max(0, y - dy));
    for (let x = 0; x < size; x++) {
      const sx = Math.min(size - 1, Math.max(0, x - dx));
      const s = (sy * size + sx) * channels,
        d = (y * size + x) * channels;
      for (let c = 0; c < channels; c++) out[d + c] = src[s + (perm[c] as number)] as number;
    }
  }
  return out;
}

/** Augments `n` concatenated size x size x channels images; draws 3 numbers per image from `rng`. */
export function augmentDigits(pixels: Uint8Array, n: number, size: number, channels: number, rng: Rng, options: AugmentOptions = DEFAULT_AUGMENT): Uint8Array {
  const per = size * size * channels;
  if (pixels.length !== n * per) throw new Error(`augmentDigits: ${pixels.length} values are not ${n} images of ${size}x${size}x${channels}`);
  const out = new Uint8Array(pixels.length);
  const identity = [0, 1, 2].slice(0, channels);
  for (let i = 0; i < n; i++) {
    const dx = rng.int(2 * options.maxShift + 1) - options.maxShift;
    const dy = rng.int(2 * options.maxShift + 1) - options.maxShift;
    const p = rng.int(PERMUTATIONS.length);
    const perm = options.permuteChannels && channels === 3 ? PERMUTATIONS[p]! : identity;
    out.set(shiftImage(pixels.subarray(i * per, (i + 1) * per), size, channels, dx, dy, perm), i * per);
  }
  return out;
}
