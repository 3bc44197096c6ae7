/**
 * Eigen-decomposition of real symmetric matrices in float64: Householder reduction to
 * tridiagonal form, then the implicit QL algorithm with Wilkinson-style shifts (the EISPACK
 * tred2/tql2 pair, as described in Wilkinson & Reinsch's Handbook and used by JAMA). Stable for
 * singular and indefinite matrices, which is what Fréchet distances of small sample sets need.
 *
 * Matrices are dense row-major Float64Arrays of n*n values.
 */

export interface SymmetricEigen {
  /** Eigenvalues, ascending. */
  values: Float64Array;
  /** Eigenvectors as rows (row k belongs to values[k]), when asked for. */
  vectors?: Float64Array;
}

const EPS = 2 ** -52;

/**
 * Eigenvalues (and optionally eigenvectors) of the symmetric n x n matrix `a` (only its lower
 * triangle is read; `a` is not modified).
 */
export function symmetricEigen(a: Float64Array, n: number, options: { vectors?: boolean } = {}): SymmetricEigen {
  if (a.length !== n * n) throw new Error(`symmetricEigen: ${a.length} values for a ${n}x${n} matrix`);
  for (let i = 0; i < a.length; i++) if (!Number.isFinite(a[i] as number)) throw new Error('symmetricEigen: matrix has non-finite entries');
  const wantVectors = options.vectors ?? false;
  if (n === 0) return { values: new Float64Array(0), vectors: wantVectors ? new Float64Array(0) : undefined };
  // Work on the transpose of the JAMA layout: column j of V is stored as row j, so the inner
  // loops of both phases run over contiguous memory.
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) v[j * n + i] = v[i * n + j] = a[i * n + j] as number;
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  tridiagonalize(v, d, e, n, wantVectors);
  qlImplicit(v, d, e, n, wantVectors);
  // Sort ascending (tql2 leaves them nearly sorted).
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => (d[x] as number) - (d[y] as number));
  const values = Float64Array.from(order, (i) => d[i] as number);
  if (!wantVectors) return { values };
  const vectors = new Float64Array(n * n);
  // vt row i = eigenvector i (see the layout note above).
  order.forEach((src, dst) => vectors.set(v.subarray(src * n, src * n + n), dst * n));
  return { values, vectors };
}

/**
 * Householder tridiagonalisation. `vt` holds V transposed: vt[c * n + r] = V[r][c].
 * On return d is the diagonal, e[1..n-1] the subdiagonal, and vt the accumulated transform.
 */
function tridiagonalize(vt: Float64Array, d: Float64Array, e: Float64Array, n: number, accumulate: boolean): void {
  const V = (r: number, c: number) => vt[c * n + r] as number;
  const setV = (r: number, c: number, x: number) => {
    vt[c * n + r] = x;
  };
  for (let j = 0; j < n; j++) d[j] = V(n - 1, j);
  for (let i = n - 1; i > 0; i--) {
    let scale = 0;
    let h = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(d[k] as number);
    if (scale === 0) {
      e[i] = d[i - 1] as number;
      for (let j = 0; j < i; j++) {
        d[j] = V(i - 1, j);
        setV(i, j, 0);
        setV(j, i, 0);
      }
    } else {
      // Householder vector from row i, scaled for stability.
      for (let k = 0; k < i; k++) {
        d[k] = (d[k] as number) / scale;
        h += (d[k] as number) * (d[k] as number);
      }
      let f = d[i - 1] as number;
      let g = Math.sqrt(h);
      if (f > 0) g = -g;
      e[i] = scale * g;
      h -= f * g;
      d[i - 1] = f - g;
      for (let j = 0; j < i; j++) e[j] = 0;
      // Apply the similarity transform to the remaining lower-left block.
      for (let j = 0; j < i; j++) {
        f = d[j] as number;
        setV(j, i, f);
        g = (e[j] as number) + V(j, j) * f;
        const col = j * n; // column j of V = row j of vt
        for (let k = j + 1; k <= i - 1; k++) {
          const vkj = vt[col + k] as number;
          g += vkj * (d[k] as number);
          e[k] = (e[k] as number) + vkj * f;
        }
        e[j] = g;
      }
      f = 0;
      for (let j = 0; j < i; j++) {
        e[j] = (e[j] as number) / h;
        f += (e[j] as number) * (d[j] as number);
      }
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) e[j] = (e[j] as number) - hh * (d[j] as number);
      for (let j = 0; j < i; j++) {
        f = d[j] as number;
        g = e[j] as number;
        const col = j * n;
        for (let k = j; k <= i - 1; k++) vt[col + k] = (vt[col + k] as number) - (f * (e[k] as number) + g * (d[k] as number));
        d[j] = V(i - 1, j);
        setV(i, j, 0);
      }
    }
    d[i] = h;
  }
  if (accumulate) accumulateTransform(vt, d, n);
  else {
    // Without accumulation the diagonal stays where the reduction left it.
    for (let j = 0; j < n; j++) d[j] = vt[j * n + j] as number;
  }
  e[0] = 0;
}

/** Builds the orthogonal transform of tridiagonalize from its stored Householder vectors (into vt), and the diagonal (into d). */
function accumulateTransform(vt: Float64Array, d: Float64Array, n: number): void {
  const V = (r: number, c: number) => vt[c * n + r] as number;
  const setV = (r: number, c: number, x: number) => {
    vt[c * n + r] = x;
  };
  for (let i = 0; i < n - 1; i++) {
    setV(n - 1, i, V(i, i));
    setV(i, i, 1);
    const h = d[i + 1] as number;
    const colNext = (i + 1) * n;
    if (h !== 0) {
      for (let k = 0; k <= i; k++) d[k] = (vt[colNext + k] as number) / h;
      for (let j = 0; j <= i; j++) {
        const col = j * n;
        let g = 0;
        for (let k = 0; k <= i; k++) g += (vt[colNext + k] as number) * (vt[col + k] as number);
        for (let k = 0; k <= i; k++) vt[col + k] = (vt[col + k] as number) - g * (d[k] as number);
      }
    }
    for (let k = 0; k <= i; k++) vt[colNext + k] = 0;
  }
  for (let j = 0; j < n; j++) {
    d[j] = V(n - 1, j);
    setV(n - 1, j, 0);
  }
  setV(n - 1, n - 1, 1);
}

/** Implicit QL iterations on the tridiagonal (d, e); rotations are applied to vt's rows. */
function qlImplicit(vt: Float64Array, d: Float64Array, e: Float64Array, n: number, accumulate: boolean): void {
  for (let i = 1; i < n; i++) e[i - 1] = e[i] as number;
  e[n - 1] = 0;
  let f = 0;
  let tst1 = 0;
  for (let l = 0; l < n; l++) {
    // Find a negligible subdiagonal element.
    tst1 = Math.max(tst1, Math.abs(d[l] as number) + Math.abs(e[l] as number));
    let m = l;
    while (m < n) {
      if (Math.abs(e[m] as number) <= EPS * tst1) break;
      m++;
    }
    if (m === n) m = n - 1;
    if (m > l) {
      let iter = 0;
      do {
        if (++iter > 60) throw new Error('symmetricEigen: QL iteration did not converge');
        // Shift from the 2x2 block at the top.
        let g = d[l] as number;
        let p = ((d[l + 1] as number) - g) / (2 * (e[l] as number));
        let r = Math.hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = (e[l] as number) / (p + r);
        d[l + 1] = (e[l] as number) * (p + r);
        const dl1 = d[l + 1] as number;
        let h = g - (d[l] as number);
        for (let i = l + 2; i < n; i++) d[i] = (d[i] as number) - h;
        f += h;
        // Implicit QL transformation.
        p = d[m] as number;
        let c = 1,
          c2 = 1,
          c3 = 1;
        const el1 = e[l + 1] as number;
        let s = 0,
          s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * (e[i] as number);
          h = c * p;
          r = Math.hypot(p, e[i] as number);
          e[i + 1] = s * r;
          s = (e[i] as number) / r;
          c = p / r;
          p = c * (d[i] as number) - s * g;
          d[i + 1] = h + s * (c * g + s * (d[i] as number));
          if (accumulate) {
            const a = i * n,
              b = (i + 1) * n;
            for (let k = 0; k < n; k++) {
              const hk = vt[b + k] as number;
              const vk = vt[a + k] as number;
              vt[b + k] = s * vk + c * hk;
              vt[a + k] = c * vk - s * hk;
            }
          }
        }
        p = (-s * s2 * c3 * el1 * (e[l] as number)) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l] as number) > EPS * tst1);
    }
    d[l] = (d[l] as number) + f;
    e[l] = 0;
  }
}

/**
 * C = A B for row-major A (m x k) and B (k x n). Four rows of C are built together from one pass
 * over a column block of B, so B is read from memory m/4 times instead of m times.
 */
export function matmul(a: Float64Array, b: Float64Array, m: number, k: number, n: number): Float64Array {
  if (a.length !== m * k || b.length !== k * n) throw new Error(`matmul: shapes ${m}x${k} and ${k}x${n} do not match the data`);
  const c = new Float64Array(m * n);
  const JB = 512;
  for (let j0 = 0; j0 < n; j0 += JB) {
    const j1 = Math.min(n, j0 + JB);
    let i = 0;
    for (; i + 3 < m; i += 4) {
      const r0 = i * n,
        r1 = r0 + n,
        r2 = r1 + n,
        r3 = r2 + n;
      for (let p = 0; p < k; p++) {
        const a0 = a[i * k + p] as number,
          a1 = a[(i + 1) * k + p] as number,
          a2 = a[(i + 2) * k + p] as number,
          a3 = a[(i + 3) * k + p] as number;
        const bp = p * n;
        for (let j = j0; j < j1; j++) {
          const bv = b[bp + j] as number;
          c[r0 + j] = (c[r0 + j] as number) + a0 * bv;
          c[r1 + j] = (c[r1 + j] as number) + a1 * bv;
          c[r2 + j] = (c[r2 + j] as number) + a2 * bv;
          c[r3 + j] = (c[r3 + j] as number) + a3 * bv;
        }
      }
    }
    for (; i < m; i++) {
      const r0 = i * n;
      for (let p = 0; p < k; p++) {
        const a0 = a[i * k + p] as number;
        const bp = p * n;
        for (let j = j0; j < j1; j++) c[r0 + j] = (c[r0 + j] as number) + a0 * (b[bp + j] as number);
      }
    }
  }
  return c;
}

/** C = A B^T for row-major A (m x k) and B (n x k), through the blocked product with B^T. */
export function matmulTransB(a: Float64Array, b: Float64Array, m: number, k: number, n: number): Float64Array {
  if (a.length !== m * k || b.length !== n * k) throw new Error(`matmulTransB: shapes ${m}x${k} and ${n}x${k} do not match the data`);
  const bt = new Float64Array(k * n);
  for (let j = 0; j < n; j++) for (let p = 0; p < k; p++) bt[p * n + j] = b[j * k + p] as number;
  return matmul(a, bt, m, k, n);
}
