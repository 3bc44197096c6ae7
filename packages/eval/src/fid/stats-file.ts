/**
 * Saved feature statistics (mean and covariance) of a reference set, so it is not re-encoded
 * for every comparison:
 *   .npz   pytorch-fid's format (arrays `mu`, `sigma`); holds no network name, so it is taken
 *          to be Inception pool3 statistics, as pytorch-fid writes them.
 *   .json  this project's format, which also names the feature network; use it for the
 *          offline networks.
 */
import { promises as fs } from 'node:fs';
import { checkJson, writeFileAtomic, z } from '@dlcv/core';
import type { GaussianStats } from './frechet';
import { readNpz, writeNpz } from './npz';

export const STATS_FORMAT = 'dlcv-fid-stats';

export interface StatsFile {
  stats: GaussianStats;
  /** Feature network id (see networks.ts); for .npz, the pytorch-fid Inception id. */
  network: string;
  file: string;
}

export const NPZ_NETWORK = 'pytorch-fid-inception-v3-pool3';

const statsJsonSchema = z.object({
  format: z.literal(STATS_FORMAT),
  network: z.string(),
  n: z.number().int().min(0).default(0),
  dim: z.number().int().min(1),
  mu: z.array(z.number()),
  sigma: z.array(z.number()),
});

export function isStatsFile(p: string): boolean {
  return /\.(npz|json)$/i.test(p);
}

export async function readStatsFile(file: string): Promise<StatsFile> {
  let buf: Buffer;
  try {
    buf = await fs.readFile(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(`${file}: ${code === 'ENOENT' ? 'statistics file not found' : `cannot read (${code ?? String(err)})`}`, { cause: err });
  }
  let mu: Float64Array,
    sigma: Float64Array,
    network: string,
    n = 0;
  let muShape: number[], sigmaShape: number[];
  if (/\.npz$/i.test(file)) {
    const arrays = readNpz(buf, file);
    if (!arrays.mu || !arrays.sigma) throw new Error(`${file}: needs arrays "mu" and "sigma" (has ${Object.keys(arrays).join(', ') || 'none'})`);
    ({ data: mu, shape: muShape } = arrays.mu);
    ({ data: sigma, shape: sigmaShape } = arrays.sigma);
    network = NPZ_NETWORK;
  } else {
    let value: unknown;
    try {
      value = JSON.parse(buf.toString('utf8'));
    } catch (err) {
      throw new Error(`${file}: not JSON (${(err as Error).message})`, { cause: err });
    }
    const json = checkJson(value, statsJsonSchema, file);
    mu = Float64Array.from(json.mu);
    sigma = Float64Array.from(json.sigma);
    muShape = [mu.length];
    sigmaShape = [json.dim, json.dim];
    network = json.network;
    n = json.n;
  }
  const dim = mu.length;
  if (muShape.length !== 1 || sigmaShape.length !== 2 || sigmaShape[0] !== dim || sigmaShape[1] !== dim || sigma.length !== dim * dim) {
    throw new Error(`${file}: mu has shape [${muShape}] and sigma [${sigmaShape}]; expected [d] and [d, d]`);
  }
  for (const [name, a] of [
    ['mu', mu],
    ['sigma', sigma],
  ] as const) {
    const bad = a.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) throw new Error(`${file}: ${name} has a non-finite value at ${bad}`);
  }
  return { stats: { dim, n, mu, sigma }, network, file };
}

export async function writeStatsFile(file: string, stats: GaussianStats, network: string): Promise<void> {
  if (/\.npz$/i.test(file)) {
    if (network !== NPZ_NETWORK) throw new Error(`${file}: .npz statistics are read back as pytorch-fid Inception statistics; save ${network} statistics as .json`);
    await writeFileAtomic(file, writeNpz({ mu: { shape: [stats.dim], data: stats.mu }, sigma: { shape: [stats.dim, stats.dim], data: stats.sigma } }));
    return;
  }
  if (!/\.json$/i.test(file)) throw new Error(`${file}: statistics files end in .npz (pytorch-fid) or .json`);
  const json = { format: STATS_FORMAT, version: 1, network, n: stats.n, dim: stats.dim, mu: Array.from(stats.mu), sigma: Array.from(stats.sigma) };
  await writeFileAtomic(file, JSON.stringify(json));
}
