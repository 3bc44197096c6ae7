/**
 * Fréchet distance between Gaussians fitted to two feature sets (Heusel et al. 2017, "FID"):
 *
 *   d^2 = |mu1 - mu2|^2 + tr S1 + tr S2 - 2 tr sqrt(S1 S2)
 *
 * and the kernel inception distance (Bińkowski et al. 2018). Everything is float64.
 *
 * tr sqrt(S1 S2) is the sum of the square roots of the eigenvalues of S1 S2, which are real and
 * non-negative because S1 S2 is similar to the PSD matrix S1^1/2 S2 S1^1/2. With fewer images
 * than feature dimensions (1000 faces vs 2048 Inception features) both covariances are singular
 * and scipy.linalg.sqrtm(S1 @ S2), which pytorch-fid uses, works on a defective matrix: it can
 * return complex parts or need the eps offset. We never form sqrt(S1 S2):
 *   - with features X1 (n1 x d) at hand: S1 = Xc^T Xc / (n1 - 1), and the non-zero eigenvalues
 *     of S1 S2 are those of Xc S2 Xc^T / (n1 - 1), an n1 x n1 symmetric PSD matrix;
 *   - with features for both sides: of C C^T / ((n1 - 1)(n2 - 1)), C = X1c X2c^T;
 *   - with statistics only: S1 = V L V^T, W = V L^1/2, and the eigenvalues of W^T S2 W.
 * Tiny negative eigenvalues from rounding are clipped to zero.
 */
import { matmul, matmulTransB, symmetricEigen } from '../linalg/eigen';

/** n feature vectors of `dim` values, row-major. */
export interface FeatureSet {
  n: number;
  dim: number;
  data: Float64Array;
}

export interface GaussianStats {
  dim: number;
  /** Number of feature vectors the statistics came from (0 when unknown). */
  n: number;
  mu: Float64Array;
  /** Unbiased covariance (divided by n - 1, as np.cov), dim x dim row-major. */
  sigma: Float64Array;
}

/** One side of a comparison: features (preferred: exact and cheaper), statistics, or both. */
export interface FidSide {
  features?: FeatureSet;
  stats?: GaussianStats;
}

export interface FrechetResult {
  value: number;
  /** |mu1 - mu2|^2 */
  meanTerm: number;
  /** tr S1 + tr S2 - 2 tr sqrt(S1 S2) */
  covarianceTerm: number;
  method: 'cross-gram' | 'projected' | 'eigen';
}

export function featureSet(data: Float64Array | Float32Array | number[], n: number, dim: number): FeatureSet {
  if (data.length !== n * dim) throw new Error(`features: ${data.length} values for ${n} x ${dim}`);
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i] as number)) throw new Error(`features: value ${i} (vector ${Math.floor(i / dim)}) is not finite`);
  return { n, dim, data: Float64Array.from(data) };
}

export function mean(f: FeatureSet): Float64Array {
  const mu = new Float64Array(f.dim);
  for (let i = 0; i < f.n; i++) for (let j = 0; j < f.dim; j++) mu[j] = (mu[j] as number) + (f.data[i * f.dim + j] as number);
  for (let j = 0; j < f.dim; j++) mu[j] = (mu[j] as number) / f.n;
  return mu;
}

/** Rows minus their mean. */
export function centered(f: FeatureSet, mu = mean(f)): Float64Array {
  const out = new Float64Array(f.data.length);
  for (let i = 0; i < f.n; i++) for (let j = 0; j < f.dim; j++) out[i * f.dim + j] = (f.data[i * f.dim + j] as number) - (mu[j] as number);
  return out;
}

function transpose(a: Float64Array, rows: number, cols: number): Float64Array {
  const t = new Float64Array(a.length);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) t[j * rows + i] = a[i * cols + j] as number;
  return t;
}

/** Mean and unbiased covariance, as pytorch-fid's np.mean / np.cov(rowvar=False). */
export function featureStats(f: FeatureSet): GaussianStats {
  if (f.n < 2) throw new Error(`statistics need at least 2 feature vectors, got ${f.n}`);
  const mu = mean(f);
  const xc = centered(f, mu);
  const sigma = matmul(transpose(xc, f.n, f.dim), xc, f.dim, f.n, f.dim);
  for (let i = 0; i < sigma.length; i++) sigma[i] = (sigma[i] as number) / (f.n - 1);
  // Exact symmetry (the blocked product may differ in the last bit between (i,j) and (j,i)).
  for (let i = 0; i < f.dim; i++)
    for (let j = 0; j < i; j++) sigma[i * f.dim + j] = sigma[j * f.dim + i] = 0.5 * ((sigma[i * f.dim + j] as number) + (sigma[j * f.dim + i] as number));
  return { dim: f.dim, n: f.n, mu, sigma };
}

function sideMean(s: FidSide): Float64Array {
  if (s.stats) return s.stats.mu;
  if (s.features) return mean(s.features);
  throw new Error('a side of the comparison has neither features nor statistics');
}

function sideDim(s: FidSide): number {
  return s.stats?.dim ?? s.features?.dim ?? 0;
}

function sideTrace(s: FidSide): number {
  if (s.stats) {
    let t = 0;
    for (let i = 0; i < s.stats.dim; i++) t += s.stats.sigma[i * s.stats.dim + i] as number;
    return t;
  }
  const f = s.features as FeatureSet;
  const xc = centered(f);
  let t = 0;
  for (let i = 0; i < xc.length; i++) t += (xc[i] as number) * (xc[i] as number);
  return t / (f.n - 1);
}

function sideSigma(s: FidSide): GaussianStats {
  if (s.stats) return s.stats;
  return featureStats(s.features as FeatureSet);
}

/** Eigenvalues below this share of the largest are rounding noise of zero ones. */
const ROUNDING = 10 * 2 ** -52;

function sumSqrtEigen(m: Float64Array, n: number, scale: number): number {
  const { values } = symmetricEigen(m, n);
  // A zero eigenvalue computed as 1e-13 would add sqrt(1e-13) ~ 3e-7: drop those.
  const floor = Math.max(values[n - 1] ?? 0, 0) * n * ROUNDING;
  let s = 0;
  for (const v of values) if (v > floor) s += Math.sqrt(v * scale);
  return s;
}

/** tr sqrt(S1 S2), choosing the cheapest exact route for what each side provides. */
function traceSqrtProduct(a: FidSide, b: FidSide): { value: number; method: FrechetResult['method'] } {
  const d = sideDim(a);
  const fa = a.features,
    fb = b.features;
  if (fa && fb && Math.min(fa.n, fb.n) <= d) {
    // C = X1c X2c^T; eig(C C^T) (or C^T C, whichever is smaller).
    const [p, q] = fa.n <= fb.n ? [fa, fb] : [fb, fa];
    const pc = centered(p),
      qc = centered(q);
    const c = matmulTransB(pc, qc, p.n, d, q.n); // p.n x q.n
    const g = matmul(c, transpose(c, p.n, q.n), p.n, q.n, p.n);
    return { value: sumSqrtEigen(g, p.n, 1 / ((p.n - 1) * (q.n - 1))), method: 'cross-gram' };
  }
  const withFeatures = [fa && fa.n <= d ? ([fa, b] as const) : undefined, fb && fb.n <= d ? ([fb, a] as const) : undefined].find((x) => x !== undefined);
  if (withFeatures) {
    const [f, other] = withFeatures;
    const xc = centered(f);
    const s2 = sideSigma(other).sigma;
    const t = matmul(xc, s2, f.n, d, d); // Xc S2
    const g = matmul(t, transpose(xc, f.n, d), f.n, d, f.n); // Xc S2 Xc^T
    symmetrize(g, f.n);
    return { value: sumSqrtEigen(g, f.n, 1 / (f.n - 1)), method: 'projected' };
  }
  // Statistics only (or more images than dimensions): W = V L^1/2 over the positive eigenvalues.
  const s1 = sideSigma(a),
    s2 = sideSigma(b);
  const { values, vectors } = symmetricEigen(s1.sigma, d, { vectors: true });
  const top = values[d - 1] as number;
  const keep: number[] = [];
  for (let k = 0; k < d; k++) if ((values[k] as number) > Math.max(top, 0) * d * ROUNDING) keep.push(k);
  const r = keep.length;
  if (r === 0) return { value: 0, method: 'eigen' };
  // wt (r x d): row i = sqrt(l_i) v_i
  const wt = new Float64Array(r * d);
  keep.forEach((k, i) => {
    const sl = Math.sqrt(values[k] as number);
    for (let j = 0; j < d; j++) wt[i * d + j] = sl * ((vectors as Float64Array)[k * d + j] as number);
  });
  const t = matmul(wt, s2.sigma, r, d, d); // W^T S2
  const m = matmul(t, transpose(wt, r, d), r, d, r); // W^T S2 W
  symmetrize(m, r);
  return { value: sumSqrtEigen(m, r, 1), method: 'eigen' };
}

function symmetrize(m: Float64Array, n: number): void {
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) m[i * n + j] = m[j * n + i] = 0.5 * ((m[i * n + j] as number) + (m[j * n + i] as number));
}

export function frechetDistance(a: FidSide, b: FidSide): FrechetResult {
  const d = sideDim(a);
  if (d === 0 || d !== sideDim(b)) throw new Error(`feature dimensions differ: ${sideDim(a)} vs ${sideDim(b)}`);
  for (const s of [a, b]) if (s.features && s.features.n < 2) throw new Error(`a feature set has ${s.features.n} vector(s); at least 2 are needed`);
  const mu1 = sideMean(a),
    mu2 = sideMean(b);
  let meanTerm = 0;
  for (let j = 0; j < d; j++) meanTerm += ((mu1[j] as number) - (mu2[j] as number)) ** 2;
  const { value: trSqrt, method } = traceSqrtProduct(a, b);
  const covarianceTerm = sideTrace(a) + sideTrace(b) - 2 * trSqrt;
  return { value: meanTerm + covarianceTerm, meanTerm, covarianceTerm, method };
}

export interface KidOptions {
  /** Number of random subsets (clean-fid and torch-fidelity: 100). */
  subsets?: number;
  /** Subset size (default min(1000, n1, n2)). */
  subsetSize?: number;
  /** Picks the subsets; required for determinism when subsets do not cover the sets. */
  pick?: (n: number, k: number) => number[];
}

export interface KidResult {
  mean: number;
  std: number;
  subsets: number;
  subsetSize: number;
}

/** Unbiased MMD^2 with the polynomial kernel k(x, y) = (x.y / d + 1)^3. */
export function polynomialMmd2(x: FeatureSet, y: FeatureSet): number {
  const d = x.dim;
  if (y.dim !== d) throw new Error(`feature dimensions differ: ${x.dim} vs ${y.dim}`);
  const m = x.n,
    n = y.n;
  if (m < 2 || n < 2) throw new Error('KID needs at least 2 vectors per set');
  const k = (g: Float64Array) => g.map((v) => (v / d + 1) ** 3);
  const kxx = k(matmulTransB(x.data, x.data, m, d, m));
  const kyy = k(matmulTransB(y.data, y.data, n, d, n));
  const kxy = k(matmulTransB(x.data, y.data, m, d, n));
  const offDiag = (g: Float64Array, s: number) => {
    let t = 0;
    for (let i = 0; i < s; i++) for (let j = 0; j < s; j++) if (i !== j) t += g[i * s + j] as number;
    return t;
  };
  let cross = 0;
  for (const v of kxy) cross += v;
  return offDiag(kxx, m) / (m * (m - 1)) + offDiag(kyy, n) / (n * (n - 1)) - (2 * cross) / (m * n);
}

/** Polynomial kernel matrix (a.b / d + 1)^3 between the rows of two sets. */
function polyKernel(a: FeatureSet, b: FeatureSet): Float64Array {
  const g = matmulTransB(a.data, b.data, a.n, a.dim, b.n);
  for (let i = 0; i < g.length; i++) g[i] = ((g[i] as number) / a.dim + 1) ** 3;
  return g;
}

/**
 * KID: MMD^2 averaged over random equal-size subsets of both sets (clean-fid's protocol). The
 * kernel matrices are computed once for the whole sets; each subset sums a block of them.
 */
export function kernelInceptionDistance(x: FeatureSet, y: FeatureSet, options: KidOptions = {}): KidResult {
  if (x.dim !== y.dim) throw new Error(`feature dimensions differ: ${x.dim} vs ${y.dim}`);
  const size = Math.min(options.subsetSize ?? 1000, x.n, y.n);
  if (size < 2) throw new Error('KID needs at least 2 vectors per set');
  const all = (n: number) => Array.from({ length: n }, (_, i) => i);
  // Subsets that are the whole sets are the same every time: one is enough.
  const whole = size === x.n && size === y.n;
  const subsets = whole ? 1 : (options.subsets ?? 100);
  if (!whole && !options.pick) throw new Error('kernelInceptionDistance: subsets smaller than the sets need a `pick` function (seeded)');
  const kxx = polyKernel(x, x),
    kyy = polyKernel(y, y),
    kxy = polyKernel(x, y);
  const m = size;
  const values: number[] = [];
  for (let s = 0; s < subsets; s++) {
    const xi = size === x.n ? all(x.n) : (options.pick as NonNullable<KidOptions['pick']>)(x.n, size);
    const yi = size === y.n ? all(y.n) : (options.pick as NonNullable<KidOptions['pick']>)(y.n, size);
    let sxx = 0,
      syy = 0,
      sxy = 0;
    for (const i of xi) for (const j of xi) if (i !== j) sxx += kxx[i * x.n + j] as number;
    for (const i of yi) for (const j of yi) if (i !== j) syy += kyy[i * y.n + j] as number;
    for (const i of xi) for (const j of yi) sxy += kxy[i * y.n + j] as number;
    values.push(sxx / (m * (m - 1)) + syy / (m * (m - 1)) - (2 * sxy) / (m * m));
  }
  const mu = values.reduce((a, b) => a + b, 0) / values.length;
  const std = Math.sqrt(values.reduce((a, b) => a + (b - mu) ** 2, 0) / values.length);
  return { mean: mu, std, subsets, subsetSize: size };
}
