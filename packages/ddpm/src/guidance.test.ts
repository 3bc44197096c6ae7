import { guide } from './guidance';

describe('classifier-free guidance', () => {
  test('eps = (1 + w) eps_cond - w eps_uncond on the [cond, uncond] halves', () => {
    const eps = Float32Array.from([1, -2, 0.5, /* uncond */ 3, 1, 0.5]);
    // w = 2: 3 * cond - 2 * uncond
    expect(Array.from(guide(eps, 2))).toEqual([3 - 6, -6 - 2, 1.5 - 1]);
    // w = 0 is the conditional model; w = -1 the unconditional one.
    expect(Array.from(guide(eps, 0))).toEqual([1, -2, 0.5]);
    expect(Array.from(guide(eps, -1))).toEqual([3, 1, 0.5]);
  });

  test('refuses an odd batch and a non-finite weight', () => {
    expect(() => guide(new Float32Array(3), 1)).toThrow(/halves/);
    expect(() => guide(new Float32Array(2), NaN)).toThrow(/finite/);
  });
});
