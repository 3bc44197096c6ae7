#!/usr/bin/env python3
"""Independent reference values for packages/eval's Fréchet distance and KID tests.

Computed with numpy/scipy (not with the TypeScript code under test) on small known feature
sets, and written as JSON beside the tests. Run from the repository root:

    python3 tools/eval-make-fid-fixtures.py

Needs numpy and scipy (Debian: python3-numpy python3-scipy).
"""
import json
import os

import numpy as np
import scipy.linalg

OUT = os.path.join(os.path.dirname(__file__), '..', 'packages', 'eval', 'src', 'fid', 'fixtures')


def fd_sqrtm(mu1, s1, mu2, s2):
    """The pytorch-fid formula: scipy.linalg.sqrtm of the product (fine for full-rank sets)."""
    covmean = scipy.linalg.sqrtm(s1.dot(s2))
    covmean = covmean.real
    diff = mu1 - mu2
    return float(diff.dot(diff) + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


def clip_rounding(w):
    """Eigenvalues below the rounding level of the largest are zero (their square roots would
    add noise of order sqrt(eps) to the distance)."""
    w = w.copy()
    w[w < max(w.max(), 0) * len(w) * np.finfo(float).eps * 10] = 0
    return w


def fd_eigh(mu1, s1, mu2, s2):
    """Symmetric route with LAPACK's eigh: tr sqrt(S1^1/2 S2 S1^1/2)."""
    w, v = np.linalg.eigh(s1)
    r = (v * np.sqrt(clip_rounding(w))) @ v.T
    m = r @ s2 @ r
    ev = clip_rounding(np.linalg.eigvalsh((m + m.T) / 2))
    diff = mu1 - mu2
    return float(diff.dot(diff) + np.trace(s1) + np.trace(s2) - 2 * np.sqrt(ev).sum())


def mmd2_poly(x, y):
    d = x.shape[1]
    m, n = len(x), len(y)
    kxx = (x @ x.T / d + 1) ** 3
    kyy = (y @ y.T / d + 1) ** 3
    kxy = (x @ y.T / d + 1) ** 3
    return float((kxx.sum() - np.trace(kxx)) / (m * (m - 1)) + (kyy.sum() - np.trace(kyy)) / (n * (n - 1)) - 2 * kxy.sum() / (m * n))


def case(name, rng, d, n1, n2, shift, full_rank):
    a = np.round(rng.normal(size=(n1, d)) @ rng.normal(size=(d, d)) * 0.5, 6)
    b = np.round(rng.normal(size=(n2, d)) @ rng.normal(size=(d, d)) * 0.7 + shift, 6)
    mu1, s1 = a.mean(0), np.cov(a, rowvar=False)
    mu2, s2 = b.mean(0), np.cov(b, rowvar=False)
    out = {
        'name': name, 'dim': d, 'a': a.ravel().tolist(), 'b': b.ravel().tolist(), 'na': n1, 'nb': n2,
        'fd': fd_eigh(mu1, s1, mu2, s2),
        'kid': mmd2_poly(a, b),
        'muA': mu1.tolist(), 'sigmaA': s1.ravel().tolist(),
    }
    # scipy's sqrtm only where it is reliable (both covariances full rank).
    if full_rank:
        out['fdScipySqrtm'] = fd_sqrtm(mu1, s1, mu2, s2)
    return out


def main():
    rng = np.random.default_rng(20221)
    cases = [
        case('full rank: 5 dims, 40 and 30 vectors', rng, 5, 40, 30, 0.8, True),
        case('rank deficient: 16 dims, 6 and 9 vectors', rng, 16, 6, 9, 0.3, False),
        case('one side deficient: 10 dims, 4 and 30 vectors', rng, 10, 4, 30, -0.5, False),
    ]
    for c in cases:
        if 'fdScipySqrtm' in c:
            assert abs(c['fd'] - c['fdScipySqrtm']) < 1e-8 * max(1, abs(c['fd'])), c['name']
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, 'fid-cases.json'), 'w') as f:
        json.dump({'generator': 'tools/eval-make-fid-fixtures.py', 'numpy': np.__version__, 'scipy': scipy.__version__, 'cases': cases}, f)
    # A pytorch-fid style statistics file (np.savez_compressed) for the .npz reader.
    mu = np.array([0.5, -1.25, 3.0])
    sigma = np.array([[2.0, 0.1, 0.0], [0.1, 1.0, -0.3], [0.0, -0.3, 0.5]])
    np.savez_compressed(os.path.join(OUT, 'stats-compressed.npz'), mu=mu, sigma=sigma)
    np.savez(os.path.join(OUT, 'stats-stored.npz'), mu=mu.astype(np.float32), sigma=sigma.astype(np.float32))


if __name__ == '__main__':
    main()
