/**
 * The DCGAN training run: data order, noise, steps, checkpoints, failure detection and the
 * report's pictures (loss curves, a fixed-noise grid per epoch, a GIF of those grids).
 *
 * Everything random comes from PCG32 streams of the seed (sampling.ts STREAMS), and a resumed
 * run continues exactly where the uninterrupted one would be: the data order of an epoch is a
 * function of (seed, epoch), and the noise generator's state travels in the checkpoint.
 *
 * Run folder:
 *   metrics.jsonl            one line per step (losses, D outputs), plus checks and warnings
 *   loss.png                 D and G loss curves, redrawn every epoch
 *   samples/epoch-001.png    64 images from the same fixed noise after every epoch
 *   progress.gif             those grids as an animation
 *   checkpoints/             core's atomic checkpoints (resume with --resume)
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {
  assertFinite,
  findLatestCheckpoint,
  loadCheckpoint,
  MetricsLog,
  progress,
  readImage,
  readMetrics,
  Rng,
  saveCheckpoint,
  writeGif,
  writeGrid,
  writePlot,
  type PixelScaling,
  type RngState,
} from '@dlcv/core';
import { resumeConflicts, validateTrainConfig, type TrainConfig } from './config';
import { FailureDetector, meanPairwiseDistance, type DetectorState, type FailureEvent } from './detectors';
import { createDiscriminator, createGenerator, noiseBatch } from './models';
import { computePreciseStats, generatorImages, STREAMS, withStats } from './sampling';
import { createOptimizers, trainStep, type Gan, type StepResult } from './train-step';

/** What the trainer needs of a dataset; core's ImageDataset is one. */
export interface BatchSource {
  readonly length: number;
  getBatch(indices: readonly number[], scaling?: PixelScaling): Promise<{ x: tf.Tensor4D }>;
}

export interface TrainRunOptions {
  runDir: string;
  config: TrainConfig;
  source: BatchSource;
  /** Continue from the run folder's latest checkpoint (an error if there is none). */
  resume?: boolean;
  /** Stop after this global step, saving a checkpoint there; default: the end of the last epoch. */
  stopAtStep?: number;
  log?: (line: string) => void;
  warn?: (line: string) => void;
  /** No progress bar (tests). */
  quiet?: boolean;
}

export interface TrainRunResult {
  step: number;
  stoppedBy: 'done' | 'stop-at-step' | 'failure';
  events: FailureEvent[];
  /** The newest checkpoint on disk when the run ended. */
  lastCheckpoint: string | undefined;
}

interface TrainState {
  step: number;
  epoch: number;
  noiseRng: RngState;
  detector: DetectorState;
  [key: string]: unknown;
}

/** Checkpoint group of G's precise BatchNorm statistics (see sampling.ts). */
export const PRECISE_STATS = 'gPreciseStats';

/** Images in the per-epoch grid (8 x 8, the report's figure). */
export const GRID_IMAGES = 64;
/** At most this many images of a batch enter the pairwise-distance check (cost grows as n^2). */
const DIVERSITY_IMAGES = 64;
const SCALING: PixelScaling = { range: [-1, 1] };

export function stepsPerEpoch(config: TrainConfig): number {
  // Full batches only: every step sees `batchSize` images (BatchNorm statistics alike).
  return Math.floor(config.datasetSize / config.batchSize);
}

/**
 * The image indices of each global step: the order of epoch e is a permutation drawn from its
 * own stream (seed, dataOrder + e), so any step's batch is known without replaying the run.
 */
export function batchPlan(config: TrainConfig): (step: number) => number[] {
  const per = stepsPerEpoch(config);
  let cached: { epoch: number; order: number[] } | undefined;
  return (step) => {
    const epoch = Math.floor(step / per);
    if (cached?.epoch !== epoch) cached = { epoch, order: new Rng(config.seed, STREAMS.dataOrder + epoch).permutation(config.datasetSize) };
    const b = step % per;
    return cached.order.slice(b * config.batchSize, (b + 1) * config.batchSize);
  };
}

export async function train(options: TrainRunOptions): Promise<TrainRunResult> {
  const { runDir, config, source } = options;
  const log = options.log ?? ((l: string) => console.log(l));
  const warn = options.warn ?? ((l: string) => console.warn(`warning: ${l}`));
  validateTrainConfig(config);
  if (source.length !== config.datasetSize) throw new Error(`train: the config says ${config.datasetSize} images, the data source has ${source.length}`);
  const per = stepsPerEpoch(config);
  const totalSteps = per * config.epochs;
  const stopAt = Math.min(options.stopAtStep ?? totalSteps, totalSteps);

  // models, optimizers and generators of randomness
  const initRng = new Rng(config.seed, STREAMS.init);
  const gan: Gan = { g: createGenerator(config.gan, initRng.fork(1)), d: createDiscriminator(config.gan, initRng.fork(2)), ...createOptimizers(config) };
  const noiseRng = new Rng(config.seed, STREAMS.trainNoise);
  const detector = new FailureDetector(config.detector);
  const fixedNoise = noiseBatch(new Rng(config.seed, STREAMS.fixedNoise), GRID_IMAGES, config.gan.nz);
  let step = 0;

  const existing = await findLatestCheckpoint(runDir);
  if (!options.resume && existing) throw new Error(`${runDir}: the run folder already has checkpoints (${path.basename(existing)}); pass --resume to continue it, or choose another --out`);
  if (options.resume) {
    const latest = existing;
    if (!latest) throw new Error(`${runDir}: --resume given but the run folder has no checkpoint`);
    const savedConfig = JSON.parse(await fs.readFile(path.join(latest, 'checkpoint.json'), 'utf8')).config as Partial<TrainConfig>;
    const conflicts = resumeConflicts(savedConfig, config);
    if (conflicts.length) throw new Error(`${latest}: cannot resume with a different setup (${conflicts.join('; ')})`);
    const loaded = await loadCheckpoint(latest, { models: { g: gan.g, d: gan.d }, optimizers: { optD: gan.optD, optG: gan.optG } });
    const state = loaded.state as TrainState;
    step = state.step;
    noiseRng.setState(state.noiseRng);
    detector.setState(state.detector);
    log(`resumed from ${loaded.dir} at step ${step} (epoch ${Math.floor(step / per) + 1} of ${config.epochs})`);
  }

  const metrics = new MetricsLog(path.join(runDir, 'metrics.jsonl'));
  const events: FailureEvent[] = [];
  let lastGood = existing;
  let heldBack = false;
  const save = async () => {
    if (detector.failing.length) {
      if (!heldBack) warn(`checkpoints held back while ${detector.failing.join(' and ')} lasts; last good checkpoint: ${lastGood ?? 'none yet'}`);
      heldBack = true;
      return;
    }
    heldBack = false;
    const state: TrainState = { step, epoch: Math.floor(step / per), noiseRng: noiseRng.getState(), detector: detector.getState() };
    // G's precise BatchNorm statistics travel with it, so `generate` need not recompute them.
    const precise = await computePreciseStats(gan.g, config.gan.nz, config.calibration);
    const gPrecise = precise.map((t) => tf.variable(t, false));
    try {
      const models = { g: gan.g, d: gan.d, [PRECISE_STATS]: gPrecise };
      lastGood = await saveCheckpoint(runDir, { models, optimizers: { optD: gan.optD, optG: gan.optG }, config, state });
    } finally {
      tf.dispose([...precise, ...gPrecise]);
    }
  };

  const plan = batchPlan(config);
  const load = (s: number) => {
    const p = source.getBatch(plan(s), SCALING);
    p.catch(() => undefined); // a prefetch abandoned by an error must not become an unhandled rejection
    return p;
  };
  const bar = progress({ total: stopAt, start: step, label: `train ${config.model}`, quiet: options.quiet });
  let pending = step < stopAt ? load(step) : undefined;
  let stoppedBy: TrainRunResult['stoppedBy'] = stopAt === totalSteps ? 'done' : 'stop-at-step';
  try {
    while (step < stopAt) {
      const { x: real } = await (pending as Promise<{ x: tf.Tensor4D }>);
      pending = step + 1 < stopAt ? load(step + 1) : undefined;
      const z = noiseBatch(noiseRng, config.batchSize, config.gan.nz);
      const checkDiversity = (step + 1) % config.diversityEvery === 0;
      let fake: tf.Tensor4D | undefined;
      let result: StepResult;
      try {
        result = await trainStep(gan, real, z, checkDiversity ? (f) => (fake = f) : undefined);
        step++;
        const epoch = Math.floor((step - 1) / per) + 1;
        await metrics.append({ step, epoch, ...result });
        // termination: a NaN loss stops the run before anything is saved
        assertFinite({ 'D loss': result.lossD, 'G loss': result.lossG }, step);

        // failure detection
        const found: (FailureEvent | undefined)[] = [detector.observeLosses(step, result.lossD, result.lossG)];
        if (fake) {
          const n = Math.min(DIVERSITY_IMAGES, config.batchSize);
          const dim = (fake.size / fake.shape[0]) | 0;
          const fakeValues = (await fake.data()).subarray(0, n * dim);
          const realValues = (await real.data()).subarray(0, n * dim);
          const fakeDistance = meanPairwiseDistance(fakeValues, n, dim);
          const realDistance = meanPairwiseDistance(realValues, n, dim);
          await metrics.append({ step, fakeDistance, realDistance, diversity: fakeDistance / realDistance });
          found.push(detector.observeDiversity(step, fakeDistance, realDistance));
        }
        for (const event of found) {
          if (!event) continue;
          events.push(event);
          await metrics.append({ step, event: event.kind, started: event.started, message: event.message });
          if (event.started) warn(`${event.message}; last good checkpoint: ${lastGood ?? 'none yet'}`);
          else log(event.message);
        }
        bar.tick(1, { D: result.lossD, G: result.lossG, 'D(x)': result.dReal, 'D(G(z))': result.dFake2 });
      } finally {
        tf.dispose([real, z]);
        fake?.dispose();
      }
      if (config.stopOnFailure && detector.failing.length) {
        stoppedBy = 'failure';
        break;
      }

      // checkpoint, and the pictures at each epoch end
      const epochEnd = step % per === 0;
      if (step % config.checkpointEvery === 0 || epochEnd || step === stopAt) await save();
      if (epochEnd) await epochPictures(runDir, gan.g, fixedNoise, step / per, config);
    }
  } finally {
    bar.stop();
    fixedNoise.dispose();
    await metrics.flush();
    void pending?.then((b) => b.x.dispose());
  }
  await writeLossPlot(runDir);
  if (stoppedBy === 'failure') warn(`stopped at step ${step} on ${detector.failing.join(' and ')} (--stop-on-failure); last good checkpoint: ${lastGood ?? 'none'}`);
  return { step, stoppedBy, events, lastCheckpoint: lastGood };
}

/**
 * The fixed-noise grid of this epoch (sampled as `generate` does, with precise BatchNorm
 * statistics; the training state is left as it was), then the GIF of every epoch's grid so far.
 */
async function epochPictures(runDir: string, g: tf.LayersModel, fixedNoise: tf.Tensor4D, epoch: number, config: TrainConfig): Promise<void> {
  const dir = path.join(runDir, 'samples');
  const images = await withStats(g, { nz: config.gan.nz, calibration: config.calibration }, () => generatorImages(g, fixedNoise));
  await writeGrid(path.join(dir, `epoch-${String(epoch).padStart(3, '0')}.png`), images, { cols: 8 });
  // Frames are read back from disk, so a resumed run's GIF still starts at epoch 1.
  const names = (await fs.readdir(dir)).filter((n) => /^epoch-\d+\.png$/.test(n)).sort();
  const frames = await Promise.all(names.map((n) => readImage(path.join(dir, n))));
  await writeGif(path.join(runDir, 'progress.gif'), frames, { delayMs: 300, lastDelayMs: 2000, palette: 'frame' });
}

/** Loss records of metrics.jsonl, one per step (a resumed run's redone steps replace the old). */
export async function readLossHistory(runDir: string): Promise<{ step: number; lossD: number; lossG: number }[]> {
  const { records } = await readMetrics<Record<string, unknown>>(path.join(runDir, 'metrics.jsonl'));
  const byStep = new Map<number, { step: number; lossD: number; lossG: number }>();
  for (const r of records) {
    if (typeof r.step === 'number' && typeof r.lossD === 'number' && typeof r.lossG === 'number') byStep.set(r.step, { step: r.step, lossD: r.lossD, lossG: r.lossG });
  }
  return [...byStep.values()].sort((a, b) => a.step - b.step);
}

/** Means over consecutive buckets so a curve has at most `maxPoints` points (x = bucket's last step). */
export function bucketMeans(xs: readonly number[], ys: readonly number[], maxPoints: number): { x: number[]; y: number[] } {
  const size = Math.max(1, Math.ceil(xs.length / maxPoints));
  const out = { x: [] as number[], y: [] as number[] };
  for (let i = 0; i < xs.length; i += size) {
    const chunk = ys.slice(i, i + size);
    out.x.push(xs[Math.min(i + size, xs.length) - 1] as number);
    out.y.push(chunk.reduce((a, b) => a + b, 0) / chunk.length);
  }
  return out;
}

export async function writeLossPlot(runDir: string): Promise<void> {
  const history = await readLossHistory(runDir);
  if (history.length === 0) return;
  const steps = history.map((h) => h.step);
  // 1000 points per curve: a 100-epoch run has 30k steps, far more than the figure's pixels.
  const d = bucketMeans(steps, history.map((h) => h.lossD), 1000);
  const g = bucketMeans(steps, history.map((h) => h.lossG), 1000);
  await writePlot(path.join(runDir, 'loss.png'), {
    title: 'Generator and discriminator loss during training',
    xLabel: 'step',
    yLabel: 'BCE loss',
    series: [
      { name: 'G', ...g },
      { name: 'D', ...d },
    ],
  });
}
