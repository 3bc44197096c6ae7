/**
 * Problem 1's FID (and KID) between two image folders, or a folder and saved statistics.
 * With pytorch-fid's Inception network (an ONNX file the user makes once) the number is the
 * assignment's FID; with the offline networks it is a Fréchet distance in another feature
 * space, labelled "FD[...]" and flagged `isInception: false` so it cannot pass for FID.
 */
import * as path from 'node:path';
import { Rng, readImage } from '@dlcv/core';
import { featureSet, featureStats, frechetDistance, kernelInceptionDistance, type FeatureSet, type FidSide, type KidResult } from '../fid/frechet';
import { isStatsFile, NPZ_NETWORK, readStatsFile, writeStatsFile, type StatsFile } from '../fid/stats-file';
import { describeFiles, GradeInputError, HOMEWORK_SET_SIZE, listFolder, loadImages, requireImages, type SkippedFile } from '../files';
import { chooseFeatureNetwork, type FeatureNetwork, type FeatureNetworkName } from '../networks/feature-networks';

export interface FidSetReport {
  source: string;
  kind: 'folder' | 'statistics';
  /** Images encoded (folder) or the count recorded in the statistics (0 if unknown). */
  n: number;
  skipped: SkippedFile[];
  ignored: SkippedFile[];
}

export interface FidResult {
  grader: 'fid';
  /** 'FID' only with the Inception network; 'FD' otherwise. */
  metric: 'FID' | 'FD';
  label: string;
  value: number;
  meanTerm: number;
  covarianceTerm: number;
  method: string;
  network: { name: FeatureNetworkName; id: string; description: string; isInception: boolean; dim: number };
  kid: KidResult | null;
  kidNote?: string;
  sets: [FidSetReport, FidSetReport];
}

export interface FidOptions {
  features?: FeatureNetworkName;
  inception?: string;
  digitModel?: string;
  /** Encode the good images and list the unreadable ones instead of stopping. */
  skipBad?: boolean;
  /** Fewest images a folder may hold (default 1000, the homework's generated set). */
  minImages?: number;
  /** Seed of the KID subsets. */
  seed?: number;
  kidSubsets?: number;
  kidSubsetSize?: number;
  log?: (message: string) => void;
}

function networkNameOfId(id: string): FeatureNetworkName | undefined {
  if (id === NPZ_NETWORK) return 'inception';
  if (id.startsWith('dlcv-digit-classifier-')) return 'digit-classifier';
  if (id.startsWith('face-api-face-recognition')) return 'face-descriptor';
  return undefined;
}

const FID_MIN_WHY = 'the homework compares 1000 generated faces with 2,025 validation faces; FID of fewer images is biased upward';

/** Features of every image of a folder, which must hold at least `minImages` readable images. */
export async function encodeFolder(
  folder: string,
  network: FeatureNetwork,
  skipBad = false,
  log?: (m: string) => void,
  minImages = HOMEWORK_SET_SIZE,
): Promise<{ features: FeatureSet; report: FidSetReport }> {
  const listing = await listFolder(folder);
  requireImages(listing.folder, listing.images.length, minImages, FID_MIN_WHY);
  const problems: SkippedFile[] = [];
  const chunks: Float32Array[] = [];
  let n = 0;
  for await (const chunk of loadImages(listing.images, { channels: 3 }, network.batchSize, problems)) {
    if (problems.length && !skipBad) break;
    chunks.push(await network.extract(chunk.map((c) => c.image)));
    n += chunk.length;
    log?.(`${path.basename(listing.folder)}: ${n}/${listing.images.length} images encoded`);
  }
  if (problems.length && !skipBad) throw new GradeInputError(`${listing.folder}: ${describeFiles(problems)}. Fix them, or pass --skip-bad to leave them out and list them`);
  if (n < 2) throw new GradeInputError(`${listing.folder}: ${n} readable image(s); a distance needs at least 2`);
  requireImages(listing.folder, n, minImages, `${FID_MIN_WHY}; ${listing.images.length - n} could not be read`);
  const data = new Float64Array(n * network.dim);
  let offset = 0;
  for (const c of chunks) {
    data.set(c, offset);
    offset += c.length;
  }
  return {
    features: featureSet(data, n, network.dim),
    report: { source: listing.folder, kind: 'folder', n, skipped: problems, ignored: listing.ignored },
  };
}

async function firstImageSize(folder: string): Promise<{ width: number; height: number } | undefined> {
  const listing = await listFolder(folder);
  for (const f of listing.images) {
    try {
      const img = await readImage(f);
      return { width: img.width, height: img.height };
    } catch {
      // An unreadable first file is reported when the folder is encoded.
    }
  }
  return undefined;
}

async function openNetwork(sources: string[], stats: (StatsFile | undefined)[], options: FidOptions): Promise<FeatureNetwork> {
  const saved = stats.find((s) => s !== undefined);
  let features = options.features;
  if (!features && saved) {
    features = networkNameOfId(saved.network);
    if (!features) throw new GradeInputError(`${saved.file}: statistics of an unknown feature network "${saved.network}"`);
  }
  const folder = sources.find((s, i) => stats[i] === undefined);
  const sample = folder ? await firstImageSize(folder) : undefined;
  const network = await chooseFeatureNetwork({ features, inception: options.inception, digitModel: options.digitModel, sample });
  for (const s of stats) {
    if (s && s.network !== network.id) {
      await network.dispose();
      throw new GradeInputError(`${s.file}: statistics of "${s.network}" features, but the features in use are "${network.id}"; compare like with like`);
    }
  }
  return network;
}

export function fidLabel(network: FeatureNetwork): string {
  return network.isInception ? 'FID (Inception-V3 pool3, pytorch-fid weights)' : `FD[${network.id}] - a Fréchet distance on ${network.name} features, NOT Inception FID`;
}

export async function gradeFid(first: string, second: string, options: FidOptions = {}): Promise<FidResult> {
  const sources = [path.resolve(first), path.resolve(second)];
  const stats = await Promise.all(sources.map((s) => (isStatsFile(s) ? readStatsFile(s) : undefined)));
  if (stats[0] && stats[1]) options.log?.('both sides are statistics files: exact but slower route (eigen-decomposition of a covariance)');
  const network = await openNetwork(sources, stats, options);
  const sides: FidSide[] = [];
  const reports: FidSetReport[] = [];
  try {
    for (let i = 0; i < 2; i++) {
      const s = stats[i];
      if (s) {
        if (s.stats.dim !== network.dim) throw new GradeInputError(`${s.file}: ${s.stats.dim}-d statistics, the network gives ${network.dim}-d features`);
        sides.push({ stats: s.stats });
        reports.push({ source: s.file, kind: 'statistics', n: s.stats.n, skipped: [], ignored: [] });
      } else {
        const { features, report } = await encodeFolder(sources[i] as string, network, options.skipBad, options.log, options.minImages);
        sides.push({ features });
        reports.push(report);
      }
    }
  } finally {
    await network.dispose();
  }
  const [a, b] = sides as [FidSide, FidSide];
  const fd = frechetDistance(a, b);
  let kid: KidResult | null = null;
  let kidNote: string | undefined;
  if (a.features && b.features) {
    const rng = new Rng(options.seed ?? 0);
    kid = kernelInceptionDistance(a.features, b.features, {
      subsets: options.kidSubsets ?? 100,
      subsetSize: options.kidSubsetSize ?? 1000,
      pick: (n, k) => rng.permutation(n).slice(0, k),
    });
  } else {
    kidNote = 'KID needs the features of both sets; one side is a statistics file';
  }
  return {
    grader: 'fid',
    metric: network.isInception ? 'FID' : 'FD',
    label: fidLabel(network),
    value: fd.value,
    meanTerm: fd.meanTerm,
    covarianceTerm: fd.covarianceTerm,
    method: fd.method,
    network: { name: network.name, id: network.id, description: network.description, isInception: network.isInception, dim: network.dim },
    kid,
    kidNote,
    sets: reports as [FidSetReport, FidSetReport],
  };
}

export interface SavedStats {
  file: string;
  network: string;
  n: number;
  dim: number;
  report: FidSetReport;
}

/** Encodes a folder and writes its statistics (pytorch-fid's --save-stats). */
export async function saveFidStats(folder: string, out: string, options: FidOptions = {}): Promise<SavedStats> {
  const network = await chooseFeatureNetwork({ features: options.features, inception: options.inception, digitModel: options.digitModel, sample: await firstImageSize(folder) });
  let encoded;
  try {
    encoded = await encodeFolder(folder, network, options.skipBad, options.log, options.minImages);
  } finally {
    await network.dispose();
  }
  const stats = featureStats(encoded.features);
  const file = path.resolve(out);
  await writeStatsFile(file, stats, network.id);
  return { file, network: network.id, n: stats.n, dim: stats.dim, report: encoded.report };
}
