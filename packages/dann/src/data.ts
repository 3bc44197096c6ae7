/**
 * Where the three digit domains come from, and how they are opened for DANN:
 * - the user's `hw2_data/digits/{mnistm,svhn,usps}` (`--data`), read unchanged;
 * - by default the embedded sets of @dlcv/core: `mnistm`, `syndigits` standing in for SVHN and
 *   `usps-like` standing in for USPS, built into the cache folder on first use.
 * Every domain is read as grayscale (the report turns all three into gray), 28x28; an image of
 * another size is an error naming the file. Pixels are scaled to [-1, 1] (Normalize(0.5, 0.5)).
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { DataFileError, ensureEmbeddedDigits, ImageDataset, openDigits, Rng, z, type PixelScaling } from '@dlcv/core';

export const DOMAINS = ['mnistm', 'svhn', 'usps'] as const;
export type Domain = (typeof DOMAINS)[number];

/** The two homework scenarios: MNIST-M is always the source. */
export const SCENARIOS = ['svhn', 'usps'] as const;
export type Scenario = (typeof SCENARIOS)[number];
export const SOURCE_DOMAIN: Domain = 'mnistm';

export const SCALING: PixelScaling = { range: [-1, 1] };

const EMBEDDED_NAME: Record<Domain, 'mnistm' | 'syndigits' | 'usps-like'> = { mnistm: 'mnistm', svhn: 'syndigits', usps: 'usps-like' };

export interface DataLocation {
  /** The user's digits folder holding mnistm/, svhn/, usps/ (hw2_data/digits, or hw2_data itself). */
  root?: string;
  /** Cache folder of the embedded sets (default: core's, i.e. DLCV_CACHE_DIR or ~/.cache/dlcv-hw2). */
  cacheDir?: string;
  /** Build only the first N images of each embedded set (tests, quick demos); default all. */
  embeddedLimit?: number;
  log?: (message: string) => void;
}

export interface DomainFolder {
  domain: Domain;
  dir: string;
  /** For tables and logs: says when a stand-in is used. */
  label: string;
}

export async function resolveDomain(domain: Domain, loc: DataLocation): Promise<DomainFolder> {
  if (loc.root) {
    let root = path.resolve(loc.root);
    // Accept hw2_data/ as well as hw2_data/digits/.
    if (!(await isDir(path.join(root, 'mnistm'))) && (await isDir(path.join(root, 'digits')))) root = path.join(root, 'digits');
    const dir = path.join(root, domain);
    if (!(await isDir(dir))) throw new DataFileError(dir, undefined, `digits folder of ${domain} not found (--data must hold mnistm/, svhn/ and usps/ as hw2_data/digits does)`);
    return { domain, dir, label: await embeddedLabel(domain, dir) };
  }
  const name = EMBEDDED_NAME[domain];
  const dir = await ensureEmbeddedDigits(name, { cacheDir: loc.cacheDir, limit: loc.embeddedLimit, log: loc.log });
  return { domain, dir, label: labelFor(domain, name) };
}

function labelFor(domain: Domain, name: string): string {
  return name === domain ? `${domain} (embedded)` : `${domain} (embedded ${name} stand-in)`;
}

const embeddedManifestSchema = z.looseObject({ format: z.literal('dlcv-hw2/embedded-digits'), name: z.string() });

/** A folder built by core's embedded recipes says so in its manifest.json: keep that visible. */
async function embeddedLabel(domain: Domain, dir: string): Promise<string> {
  // No or unreadable manifest: the user's own data.
  const value: unknown = await fs
    .readFile(path.join(dir, 'manifest.json'), 'utf8')
    .then((text) => JSON.parse(text) as unknown)
    .catch(() => undefined);
  const m = embeddedManifestSchema.safeParse(value);
  return m.success ? labelFor(domain, m.data.name) : domain;
}

async function isDir(p: string): Promise<boolean> {
  try {
    return (await fs.stat(p)).isDirectory();
  } catch {
    return false;
  }
}

/** A split of a domain, grayscale, checked to be imageSize x imageSize on decode. */
export async function openDomain(folder: DomainFolder, split: 'train' | 'val', imageSize: number): Promise<ImageDataset> {
  return openDigits(folder.dir, split, { channels: 1, size: imageSize });
}

/** The same images without their labels: what DANN is allowed to see of the target. */
export function withoutLabels(ds: ImageDataset): ImageDataset {
  return new ImageDataset(ds.files, undefined, { shape: ds.shape });
}

/**
 * Seeded split of a labelled training set into (train, held-out): model selection looks at the
 * held-out part only, never at any val.csv (for DANN that would be peeking at target labels).
 */
export function holdOut(ds: ImageDataset, fraction: number, seed: number): { train: ImageDataset; heldOut: ImageDataset } {
  if (!(fraction > 0 && fraction < 1)) throw new Error(`held-out fraction must be in (0, 1), got ${fraction}`);
  const perm = new Rng(seed, 7001).permutation(ds.length);
  const n = Math.max(1, Math.round(ds.length * fraction));
  if (n >= ds.length) throw new Error(`a ${ds.length}-image training set is too small to hold ${fraction * 100}% out`);
  const sorted = (a: number[]) => a.sort((x, y) => x - y);
  return { heldOut: ds.subset(sorted(perm.slice(0, n))), train: ds.subset(sorted(perm.slice(n))) };
}
