import { Rng } from './rng';

describe('Rng (PCG32)', () => {
  it('matches the reference pcg32 demo output for seed 42, stream 54', () => {
    // From pcg32-demo.c in the PCG reference distribution (pcg32_srandom_r(&rng, 42u, 54u)).
    const rng = new Rng(42, 54);
    const got = Array.from({ length: 6 }, () => rng.nextUint32().toString(16).padStart(8, '0'));
    expect(got).toEqual(['a15c02b7', '7b47f409', 'ba1d3330', '83d2f293', 'bfa4784b', 'cbed606e']);
  });

  it('matches a BigInt PCG32 (XSH RR) over many seeds, streams and draws', () => {
    // The reference generator written out in 64-bit BigInt arithmetic: pcg32_srandom_r, then
    // pcg32_random_r.
    const M = (1n << 64n) - 1n;
    const reference = (seed: bigint, stream: bigint) => {
      const inc = ((stream << 1n) | 1n) & M;
      let state = 0n;
      const step = () => (state = (state * 6364136223846793005n + inc) & M);
      step();
      state = (state + seed) & M;
      step();
      return () => {
        const old = state;
        step();
        const xorshifted = Number((((old >> 18n) ^ old) >> 27n) & 0xffffffffn);
        const rot = Number(old >> 59n);
        return ((xorshifted >>> rot) | (xorshifted << ((32 - rot) & 31))) >>> 0;
      };
    };
    const cases: [number, number][] = [
      [0, 0],
      [1, 54],
      [2022, 7],
      [0xffffffff, 0x7fffffff],
      [2 ** 40 + 12345, 2654435761],
    ];
    for (const [seed, stream] of cases) {
      const ours = new Rng(seed, stream);
      const ref = reference(BigInt(seed), BigInt(stream >>> 0));
      for (let i = 0; i < 1000; i++) expect(ours.nextUint32()).toBe(ref());
    }
  });

  it('gives the same sequence for the same seed and a different one for another seed', () => {
    const a = new Rng(7),
      b = new Rng(7),
      c = new Rng(8);
    const sa = Array.from({ length: 20 }, () => a.next());
    expect(Array.from({ length: 20 }, () => b.next())).toEqual(sa);
    expect(Array.from({ length: 20 }, () => c.next())).not.toEqual(sa);
  });

  it('draws uniforms in [0,1) and normals with mean 0 and std 1', () => {
    const rng = new Rng(1);
    const u = rng.uniformArray(100000);
    expect(Math.min(...u)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...u)).toBeLessThan(1);
    const n = rng.normalArray(100000);
    const mean = n.reduce((s, x) => s + x, 0) / n.length;
    const std = Math.sqrt(n.reduce((s, x) => s + (x - mean) ** 2, 0) / n.length);
    expect(Math.abs(mean)).toBeLessThan(0.02);
    expect(Math.abs(std - 1)).toBeLessThan(0.02);
  });

  it('int(n) is unbiased enough and in range; permutation is a permutation', () => {
    const rng = new Rng(3);
    const counts = new Array(10).fill(0);
    for (let i = 0; i < 100000; i++) counts[rng.int(10)]++;
    for (const c of counts) expect(Math.abs(c - 10000)).toBeLessThan(500);
    const p = rng.permutation(1000);
    expect([...p].sort((x, y) => x - y)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(() => rng.int(0)).toThrow(/n must be/);
  });

  it('restores its state exactly', () => {
    const rng = new Rng(5);
    rng.normal();
    const saved = rng.getState();
    const a = Array.from({ length: 10 }, () => rng.normal());
    const other = new Rng(999);
    other.setState(saved);
    expect(Array.from({ length: 10 }, () => other.normal())).toEqual(a);
  });

  it('advance(n) leaves the generator where n uint32 draws would, spare normal kept', () => {
    for (const [seed, stream] of [
      [0, 54],
      [123456789, 22],
      [2 ** 40 + 7, 0x7fffffff],
    ] as const) {
      for (const n of [0, 1, 2, 3, 7, 64, 1000, 12345]) {
        const stepped = new Rng(seed, stream);
        stepped.normal(); // a spare normal, which advance keeps
        const jumped = new Rng(seed, stream);
        jumped.setState(stepped.getState());
        for (let i = 0; i < n; i++) stepped.nextUint32();
        jumped.advance(n);
        expect([n, jumped.getState()]).toEqual([n, stepped.getState()]);
        expect(jumped.nextUint32()).toBe(stepped.nextUint32());
      }
    }
    // a stretch far ahead: 2^40 draws, as 2^12 jumps of 2^28
    const far = new Rng(5);
    const steps = new Rng(5);
    far.advance(2 ** 40);
    for (let i = 0; i < 2 ** 12; i++) steps.advance(2 ** 28);
    expect(far.getState()).toEqual(steps.getState());
    expect(() => far.advance(-1)).toThrow('Rng.advance: draws must be a non-negative safe integer, got -1');
    expect(() => far.advance(1.5)).toThrow('got 1.5');
  });
});
