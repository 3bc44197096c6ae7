import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { Rng } from '@dlcv/core';
import { symmetricEigen } from '../linalg/eigen';
import { featureSet, featureStats, frechetDistance, kernelInceptionDistance, polynomialMmd2, type FeatureSet } from './frechet';
import { readNpz, writeNpz } from './npz';

interface Case {
  name: string;
  dim: number;
  a: number[];
  b: number[];
  na: number;
  nb: number;
  fd: number;
  fdScipySqrtm?: number;
  kid: number;
  muA: number[];
  sigmaA: number[];
}

const FIXTURES = path.join(__dirname, 'fixtures');
let cases: Case[];
beforeAll(async () => {
  cases = (JSON.parse(await fs.readFile(path.join(FIXTURES, 'fid-cases.json'), 'utf8')) as { cases: Case[] }).cases;
});

const sets = (c: Case): [FeatureSet, FeatureSet] => [featureSet(c.a, c.na, c.dim), featureSet(c.b, c.nb, c.dim)];
const close = (got: number, want: number, rel = 1e-9) => expect(Math.abs(got - want)).toBeLessThanOrEqual(rel * Math.max(1, Math.abs(want)));

test('eigen-decomposition: A = V^T diag(l) V, orthonormal V, on a singular matrix', () => {
  const rng = new Rng(3);
  const n = 40,
    r = 7;
  const b = Float64Array.from({ length: n * r }, () => rng.normal());
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let k = 0; k < r; k++) a[i * n + j] = (a[i * n + j] as number) + (b[i * r + k] as number) * (b[j * r + k] as number);
  const { values, vectors } = symmetricEigen(a, n, { vectors: true });
  const v = vectors as Float64Array;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0,
        o = 0;
      for (let k = 0; k < n; k++) {
        s += (v[k * n + i] as number) * (values[k] as number) * (v[k * n + j] as number);
        o += (v[i * n + k] as number) * (v[j * n + k] as number);
      }
      expect(Math.abs(s - (a[i * n + j] as number))).toBeLessThan(1e-10);
      expect(Math.abs(o - (i === j ? 1 : 0))).toBeLessThan(1e-12);
    }
  }
  // Rank 7: 33 eigenvalues are zero up to rounding, none clearly negative.
  expect(values.filter((x) => Math.abs(x) < 1e-10)).toHaveLength(n - r);
  // 2x2 closed form: [[2, 1], [1, 2]] has eigenvalues 1 and 3.
  expect(Array.from(symmetricEigen(Float64Array.from([2, 1, 1, 2]), 2).values).map((x) => Math.round(x * 1e12) / 1e12)).toEqual([1, 3]);
});

test('statistics match numpy (np.mean, np.cov rowvar=False)', () => {
  for (const c of cases) {
    const s = featureStats(sets(c)[0]);
    s.mu.forEach((m, i) => close(m, c.muA[i] as number, 1e-12));
    s.sigma.forEach((v, i) => close(v, c.sigmaA[i] as number, 1e-10));
  }
});

test('Fréchet distance matches numpy/scipy on full-rank and rank-deficient sets, by every route', () => {
  for (const c of cases) {
    const [a, b] = sets(c);
    const fromFeatures = frechetDistance({ features: a }, { features: b });
    const projected = frechetDistance({ features: a }, { stats: featureStats(b) });
    const fromStats = frechetDistance({ stats: featureStats(a) }, { stats: featureStats(b) });
    for (const r of [fromFeatures, projected, fromStats]) close(r.value, c.fd, 1e-8);
    if (c.fdScipySqrtm !== undefined) close(fromFeatures.value, c.fdScipySqrtm, 1e-8);
  }
  // The routes are really different code paths on the deficient cases.
  const [a, b] = sets(cases[1] as Case);
  expect(frechetDistance({ features: a }, { features: b }).method).toBe('cross-gram');
  expect(frechetDistance({ features: a }, { stats: featureStats(b) }).method).toBe('projected');
  expect(frechetDistance({ stats: featureStats(a) }, { stats: featureStats(b) }).method).toBe('eigen');
});

test('symmetric, zero on identical sets, and |shift|^2 for a translated set', () => {
  for (const c of cases) {
    const [a, b] = sets(c);
    close(frechetDistance({ features: a }, { features: b }).value, frechetDistance({ features: b }, { features: a }).value, 1e-10);
    close(frechetDistance({ stats: featureStats(a) }, { stats: featureStats(b) }).value, frechetDistance({ stats: featureStats(b) }, { stats: featureStats(a) }).value, 1e-9);
    const self = frechetDistance({ features: a }, { features: a });
    expect(Math.abs(self.value)).toBeLessThan(1e-12 * featureStats(a).sigma.reduce((s, v) => s + Math.abs(v), 0));
    const shift = Array.from({ length: c.dim }, (_, j) => (j % 3) - 1 + 0.25);
    const moved = featureSet(
      a.data.map((v, i) => v + (shift[i % c.dim] as number)),
      a.n,
      a.dim,
    );
    close(
      frechetDistance({ features: a }, { features: moved }).value,
      shift.reduce((s, v) => s + v * v, 0),
      1e-9,
    );
  }
});

test('KID (polynomial-kernel unbiased MMD^2) matches numpy; subsets are seeded', () => {
  for (const c of cases) {
    const [a, b] = sets(c);
    close(polynomialMmd2(a, b), c.kid, 1e-10);
  }
  // Equal-size sets with subsets as large as the sets: one subset, the plain MMD^2.
  const [a0, b0] = sets(cases[0] as Case);
  const b30 = featureSet(b0.data, b0.n, b0.dim),
    a30 = featureSet(a0.data.subarray(0, 30 * a0.dim), 30, a0.dim);
  const whole = kernelInceptionDistance(a30, b30);
  expect(whole.subsets).toBe(1);
  close(whole.mean, polynomialMmd2(a30, b30), 1e-12);
  const [a, b] = sets(cases[0] as Case);
  const pick = (seed: number) => {
    const rng = new Rng(seed);
    return (n: number, k: number) => rng.permutation(n).slice(0, k);
  };
  const r1 = kernelInceptionDistance(a, b, { subsets: 10, subsetSize: 20, pick: pick(1) });
  const r2 = kernelInceptionDistance(a, b, { subsets: 10, subsetSize: 20, pick: pick(1) });
  expect(r1).toEqual(r2);
  expect(r1.subsetSize).toBe(20);
  expect(() => kernelInceptionDistance(a, b, { subsets: 10, subsetSize: 20 })).toThrow(/pick/);
  // Each subset's value is the plain MMD^2 of those rows (the numpy-checked function above).
  const chosen = [
    [0, 5, 9, 29],
    [3, 1, 22, 17],
    [2, 4, 6, 8],
  ];
  let call = 0;
  const fixed = () => chosen[call++ % 3] as number[];
  const kid = kernelInceptionDistance(a, b, { subsets: 3, subsetSize: 4, pick: fixed });
  const sub = (f: FeatureSet, idx: number[]) =>
    featureSet(
      idx.flatMap((r) => Array.from(f.data.subarray(r * f.dim, (r + 1) * f.dim))),
      idx.length,
      f.dim,
    );
  // Calls alternate x, y: subset 1 = (x rows chosen[0], y rows chosen[1]), subset 2 = (chosen[2], chosen[0]), ...
  const want = [0, 1, 2].map((s) => polynomialMmd2(sub(a, chosen[(2 * s) % 3] as number[]), sub(b, chosen[(2 * s + 1) % 3] as number[])));
  close(kid.mean, want.reduce((p, q) => p + q, 0) / 3, 1e-12);
});

test('errors: mismatched dimensions, non-finite features, single vectors', () => {
  const [a] = sets(cases[0] as Case);
  const other = featureSet([1, 2, 3, 4], 2, 2);
  expect(() => frechetDistance({ features: a }, { features: other })).toThrow(/dimensions differ: 5 vs 2/);
  expect(() => featureSet([1, NaN], 1, 2)).toThrow(/not finite/);
  expect(() => featureStats(featureSet([1, 2], 1, 2))).toThrow(/at least 2/);
});

test('.npz: reads numpy savez and savez_compressed files; our writer round-trips', async () => {
  for (const f of ['stats-compressed.npz', 'stats-stored.npz']) {
    const arrays = readNpz(await fs.readFile(path.join(FIXTURES, f)), f);
    expect(arrays.mu?.shape).toEqual([3]);
    expect(arrays.sigma?.shape).toEqual([3, 3]);
    Array.from(arrays.mu?.data ?? []).forEach((v, i) => close(v, [0.5, -1.25, 3.0][i] as number, 1e-7));
    close(arrays.sigma?.data[5] as number, -0.3, 1e-7);
  }
  const mu = Float64Array.from([1 / 3, -2, 1e-300]);
  const bytes = writeNpz({ mu: { shape: [3], data: mu }, sigma: { shape: [1, 3], data: mu } });
  const back = readNpz(bytes, 'mem');
  expect(Array.from(back.mu?.data ?? [])).toEqual(Array.from(mu));
  expect(back.sigma?.shape).toEqual([1, 3]);
  expect(writeNpz({ mu: { shape: [3], data: mu } }).equals(writeNpz({ mu: { shape: [3], data: mu } }))).toBe(true);
  expect(() => readNpz(Buffer.from('nope'), 'x.npz')).toThrow(/x\.npz: not a zip archive/);
});
