import { Rng } from '@dlcv/core';
import { augmentDigits, shiftImage } from './augment';

/** A 4x4 RGB image whose pixel (x, y) channel c holds 100 * c + 10 * y + x. */
function ramp(): Uint8Array {
  const px = new Uint8Array(4 * 4 * 3);
  for (let y = 0; y < 4; y++) for (let x = 0; x < 4; x++) for (let c = 0; c < 3; c++) px[(y * 4 + x) * 3 + c] = 100 * c + 10 * y + x;
  return px;
}

const at = (img: Uint8Array, x: number, y: number, c: number) => img[(y * 4 + x) * 3 + c];

describe('augmentation', () => {
  it('shifts with the border repeated, and reorders channels', () => {
    const out = shiftImage(ramp(), 4, 3, 1, -1, [2, 0, 1]);
    // Output (x, y) is input (x - 1, y + 1), clamped; channel 0 reads input channel 2.
    expect(at(out, 2, 1, 0)).toBe(200 + 10 * 2 + 1);
    expect(at(out, 2, 1, 1)).toBe(0 + 10 * 2 + 1);
    expect(at(out, 0, 0, 1)).toBe(10 * 1 + 0); // x - 1 < 0: column 0 repeated
    expect(at(out, 3, 3, 2)).toBe(100 + 10 * 3 + 2); // y + 1 > 3: row 3 repeated
    expect(shiftImage(ramp(), 4, 3, 0, 0, [0, 1, 2])).toEqual(ramp());
  });

  it('is a pure function of the rng state, and shifts at most maxShift', () => {
    const two = new Uint8Array([...ramp(), ...ramp()]);
    const a = augmentDigits(two, 2, 4, 3, new Rng(5), { maxShift: 1, permuteChannels: true });
    expect(augmentDigits(two, 2, 4, 3, new Rng(5), { maxShift: 1, permuteChannels: true })).toEqual(a);
    // every output value of the first image is one of the input's values
    const values = new Set(ramp());
    for (const v of a.subarray(0, 48)) expect(values.has(v)).toBe(true);
    // no shift and no permutation: unchanged, whatever the draws
    expect(augmentDigits(two, 2, 4, 3, new Rng(9), { maxShift: 0, permuteChannels: false })).toEqual(two);
    // over many draws every shift in [-1, 1] is used: the centre pixel's channel-0 value moves by
    // -11..11 in steps of 1 and 10 only
    const seen = new Set<number>();
    const rng = new Rng(1);
    for (let i = 0; i < 200; i++) seen.add(at(augmentDigits(ramp(), 1, 4, 3, rng, { maxShift: 1, permuteChannels: false }), 1, 1, 0)! - 11);
    expect([...seen].sort((x, y) => x - y)).toEqual([-11, -10, -9, -1, 0, 1, 9, 10, 11]);
    expect(() => augmentDigits(ramp(), 2, 4, 3, new Rng(1))).toThrow(/not 2 images/);
  });
});
