/**
 * The DCGAN training run on core's run scaffold: data order, noise, steps, checkpoints, failure
 * detection, the report's pictures (loss curves, a fixed-noise grid per epoch, a GIF of those
 * grids) and the model folder.
 *
 * Everything random comes from PCG32 streams of the seed (sampling.ts STREAMS), and a resumed
 * run continues exactly where the uninterrupted one would be: the data order of an epoch is a
 * function of (seed, epoch), and the noise generator's state travels in the checkpoint.
 *
 * Run folder:
 *   metrics.jsonl            one line per step (losses, D outputs), plus checks and warnings
 *   loss.png                 D and G loss curves
 *   samples/epoch-001.png    64 images from the same fixed noise after every epoch
 *   progress.gif             those grids as an animation, written when the run ends or stops
 *                            (--stop-at, --stop-on-failure): a frame takes seconds to encode
 *   checkpoints/             core's atomic checkpoints (resume with --resume)
 *   config.json              the run's settings
 *   model/                   G and its precise BatchNorm statistics as of the newest epoch-end
 *                            checkpoint (model-io.ts), what `generate` reads
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {
  assertFinite,
  logStepReplay,
  openRun,
  Prefetcher,
  ReadBehind,
  progress,
  readImage,
  replayableStep,
  Rng,
  rngStateSchema,
  writeGif,
  writeGrid,
  writeLossPlot,
  z,
  type LossPlotSpec,
  type MetricsLog,
  type PixelScaling,
  type TrainingRun,
} from '@dlcv/core';
import { RESUMABLE_CHANGES, validateTrainConfig, type TrainConfig } from './config';
import { detectorStateSchema, FailureDetector, meanPairwiseDistance, type FailureEvent } from './detectors';
import { createDiscriminator, createGenerator, noiseBatch } from './model';
import { PRECISE_STATS, saveGeneratorFolder } from './model-io';
import { computePreciseStats, generatorImages, STREAMS, withStats } from './sampling';
import { createOptimizers, queueTrainStep, readStepResult, trainStep, type Gan, type StepResult } from './step';

/** What the trainer needs of a dataset; core's ImageDataset is one. */
export interface BatchSource {
  readonly length: number;
  /** Images; labels, when the source has them (the demo digits), are not used and are disposed at once. */
  getBatch(indices: readonly number[], scaling?: PixelScaling): Promise<{ x: tf.Tensor4D; y?: tf.Tensor }>;
}

export interface TrainRunOptions {
  runDir: string;
  config: TrainConfig;
  source: BatchSource;
  /** Continue from the run folder's latest checkpoint (a fresh start when there is none). */
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

const stateSchema = z.object({
  step: z.number().int().min(0),
  epoch: z.number().int().min(0),
  noiseRng: rngStateSchema,
  detector: detectorStateSchema,
});
type TrainState = z.infer<typeof stateSchema>;

/** Images in the per-epoch grid (8 x 8, the report's figure). */
export const GRID_IMAGES = 64;
/** At most this many images of a batch enter the pairwise-distance check (cost grows as n^2). */
const DIVERSITY_IMAGES = 64;
const SCALING: PixelScaling = { range: [-1, 1] };
/** The model folder's name in the run folder. */
export const MODEL_DIR = 'model';

/** The loss curves of a run (loss.png, and the report's chart). */
export const LOSS_PLOT: LossPlotSpec = {
  title: 'Generator and discriminator loss during training',
  yLabel: 'BCE loss',
  series: [
    { key: 'lossG', name: 'G' },
    { key: 'lossD', name: 'D' },
  ],
};

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

/** The networks, optimizers, noise generator and detectors, fresh or restored by core's openRun. */
async function startRun(options: TrainRunOptions, config: TrainConfig, log: (line: string) => void) {
  const initRng = new Rng(config.seed, STREAMS.init);
  const gan: Gan = { g: createGenerator(config.gan, initRng.fork(1)), d: createDiscriminator(config.gan, initRng.fork(2)), ...createOptimizers(config) };
  const noiseRng = new Rng(config.seed, STREAMS.trainNoise);
  const detector = new FailureDetector(config.detector);
  const run = await openRun<TrainState>({
    runDir: options.runDir,
    config,
    mayChange: RESUMABLE_CHANGES,
    resume: options.resume === true,
    models: { g: gan.g, d: gan.d },
    optimizers: { optD: gan.optD, optG: gan.optG },
    initialState: { step: 0, epoch: 0, noiseRng: noiseRng.getState(), detector: detector.getState() },
    stateSchema,
    log,
  });
  noiseRng.setState(run.state.noiseRng);
  detector.setState(run.state.detector);
  if (run.resumedFrom) log(`continuing at epoch ${Math.floor(run.state.step / stepsPerEpoch(config)) + 1} of ${config.epochs}`);
  return { gan, noiseRng, detector, run };
}

/**
 * Checkpoints, held back while a failure lasts so that the last good one survives. Each carries
 * G's precise BatchNorm statistics, so `generate` need not recompute them; at an epoch end the
 * model folder is rewritten from the same weights and statistics.
 */
class Saver {
  lastGood: string | undefined;
  private heldBack = false;

  constructor(
    private readonly run: TrainingRun<TrainState>,
    private readonly gan: Gan,
    private readonly config: TrainConfig,
    private readonly position: { noiseRng: Rng; detector: FailureDetector; stepsPerEpoch: number },
    private readonly warn: (line: string) => void,
  ) {
    this.lastGood = run.resumedFrom;
  }

  /** Checkpoints the run after `step` steps (unless a failure holds it back); returns the last good checkpoint. */
  async saveAt(step: number, epochEnd: boolean): Promise<string | undefined> {
    const { noiseRng, detector, stepsPerEpoch } = this.position;
    await this.save({ step, epoch: Math.floor(step / stepsPerEpoch), noiseRng: noiseRng.getState(), detector: detector.getState() }, epochEnd);
    return this.lastGood;
  }

  private async save(state: TrainState, epochEnd: boolean): Promise<void> {
    const { detector } = this.position;
    if (detector.failing.length) {
      if (!this.heldBack) this.warn(`checkpoints held back while ${detector.failing.join(' and ')} lasts; last good checkpoint: ${this.lastGood ?? 'none yet'}`);
      this.heldBack = true;
      return;
    }
    this.heldBack = false;
    const { g } = this.gan;
    const { config } = this;
    const precise = await computePreciseStats(g, config.gan.nz, config.calibration);
    const gPrecise = precise.map((t) => tf.variable(t, false));
    try {
      this.lastGood = await this.run.save(state, { extraModels: { [PRECISE_STATS]: gPrecise } });
      if (epochEnd) {
        const training = { step: state.step, epoch: state.epoch, preset: config.preset, seed: config.seed, data: config.data };
        await saveGeneratorFolder(path.join(this.run.runDir, MODEL_DIR), g, gPrecise, { model: config.model, gan: config.gan, calibration: config.calibration, training });
      }
    } finally {
      tf.dispose([...precise, ...gPrecise]);
    }
  }
}

/** The mode-collapse check: mean pairwise distances of the generated and the real batch, logged. */
async function diversityCheck(metrics: MetricsLog, detector: FailureDetector, step: number, fake: tf.Tensor4D, real: tf.Tensor4D): Promise<FailureEvent | undefined> {
  const n = Math.min(DIVERSITY_IMAGES, fake.shape[0]);
  const dim = (fake.size / fake.shape[0]) | 0;
  const fakeValues = (await fake.data()).subarray(0, n * dim);
  const realValues = (await real.data()).subarray(0, n * dim);
  const fakeDistance = meanPairwiseDistance(fakeValues, n, dim);
  const realDistance = meanPairwiseDistance(realValues, n, dim);
  await metrics.append({ step, fakeDistance, realDistance, diversity: fakeDistance / realDistance });
  return detector.observeDiversity(step, fakeDistance, realDistance);
}

/** A step issued to the engine: its results to come, and the inputs to free once they are read. */
interface IssuedStep {
  result: Promise<StepResult>;
  step: number;
  real: tf.Tensor4D;
  z: tf.Tensor4D;
  /** G(z), handed over when the step checks diversity */
  out: { fake?: tf.Tensor4D };
}

function freeStepInputs(s: IssuedStep): void {
  tf.dispose([s.real, s.z]);
  s.out.fake?.dispose();
}

/**
 * Reads a step's results, logs them, checks them (a NaN throws) and observes them for failures,
 * then frees the step's inputs; false when a failure stops the run there (--stop-on-failure).
 */
async function recordStep(
  r: {
    run: TrainingRun<TrainState>;
    detector: FailureDetector;
    events: FailureEvent[];
    saver: Saver;
    per: number;
    bar: ReturnType<typeof progress>;
    log: (line: string) => void;
    warn: (line: string) => void;
    stopOnFailure: boolean;
  },
  issued: IssuedStep,
): Promise<boolean> {
  const { run, detector, saver } = r;
  const step = issued.step;
  try {
    const result = await issued.result;
    await run.metrics.append({ step, epoch: Math.floor((step - 1) / r.per) + 1, ...result });
    // termination: a NaN loss stops the run before any checkpoint holds the step
    assertFinite({ 'D loss': result.lossD, 'G loss': result.lossG }, step);

    // failure detection
    const found = [detector.observeLosses(step, result.lossD, result.lossG)];
    if (issued.out.fake) found.push(await diversityCheck(run.metrics, detector, step, issued.out.fake, issued.real));
    for (const event of found) {
      if (!event) continue;
      r.events.push(event);
      await run.metrics.append({ step, event: event.kind, started: event.started, message: event.message });
      if (event.started) r.warn(`${event.message}; last good checkpoint: ${saver.lastGood ?? 'none yet'}`);
      else r.log(event.message);
    }
    r.bar.tick(1, { D: result.lossD, G: result.lossG, 'D(x)': result.dReal, 'D(G(z))': result.dFake2 });
  } finally {
    freeStepInputs(issued);
  }
  return !(r.stopOnFailure && detector.failing.length);
}

export async function train(options: TrainRunOptions): Promise<TrainRunResult> {
  const { runDir, source } = options;
  const config = validateTrainConfig(options.config);
  const log = options.log ?? ((l: string) => console.log(l));
  const warn = options.warn ?? ((l: string) => console.warn(`warning: ${l}`));
  if (source.length !== config.datasetSize) throw new Error(`train: the config says ${config.datasetSize} images, the data source has ${source.length}`);
  const per = stepsPerEpoch(config);
  const totalSteps = per * config.epochs;
  const stopAt = Math.min(options.stopAtStep ?? totalSteps, totalSteps);

  // models, optimizers and generators of randomness, fresh or resumed
  const { gan, noiseRng, detector, run } = await startRun(options, config, log);
  const fixedNoise = noiseBatch(new Rng(config.seed, STREAMS.fixedNoise), GRID_IMAGES, config.gan.nz);
  const saver = new Saver(run, gan, config, { noiseRng, detector, stepsPerEpoch: per }, warn);
  const events: FailureEvent[] = [];
  let step = run.state.step;

  const plan = batchPlan(config);
  const images = async (s: number) => {
    const { x, y } = await source.getBatch(plan(s), SCALING);
    y?.dispose();
    return { x };
  };
  const batches = new Prefetcher(images, stopAt);
  const bar = progress({ total: stopAt, start: step, label: `train ${config.model}`, quiet: options.quiet });
  let stoppedBy = (stopAt === totalSteps ? 'done' : 'stop-at-step') as TrainRunResult['stoppedBy'];
  // Each step's results are read while the step after it trains (core's ReadBehind); a checkpoint
  // is written only after every step in it has been read, checked and observed.
  const recorder = { run, detector, events, saver, per, bar, log, warn, stopOnFailure: config.stopOnFailure };
  const reads = new ReadBehind(async (issued: IssuedStep) => {
    if (await recordStep(recorder, issued)) return true;
    // the run ends at the failing step; a step issued after it is dropped unsaved
    stoppedBy = 'failure';
    step = issued.step;
    return false;
  });
  // with DLCV_STEP_REPLAY=1 on the libtorch engine, steps are replays of their addon calls once
  // two recorded ones agree (core's replayableStep): the same bytes, without the step's
  // JavaScript; a step that hands G(z) over for the diversity check runs eagerly
  const replayed = replayableStep(({ real, z }: { real: tf.Tensor4D; z: tf.Tensor4D }) => queueTrainStep(gan, real, z));
  try {
    while (step < stopAt) {
      // a batch that fails to load (an unreadable image) stops the run with the steps so far checkpointed
      const { x: real } = await run.takeInputs(batches.take(step), step, async () => ((await reads.drain()) ? saver.saveAt(step, false) : saver.lastGood));
      const z = noiseBatch(noiseRng, config.batchSize, config.gan.nz);
      const checkDiversity = (step + 1) % config.diversityEvery === 0;
      const out: { fake?: tf.Tensor4D } = {};
      // (an engine error rejects the result, as trainStep's does, so the step's inputs are freed)
      const result = checkDiversity ? trainStep(gan, real, z, (f) => (out.fake = f)) : (async () => readStepResult(replayed({ real, z })))();
      step++;
      // the step before this one is read now that this one is queued behind it
      if (!(await reads.issued({ result, step, real, z, out }))) break;

      // checkpoint (and the model folder), and the pictures at each epoch end
      const epochEnd = step % per === 0;
      if (step % config.saveEvery === 0 || epochEnd || step === stopAt || run.stopSignal) {
        if (!(await reads.drain())) break;
        await saver.saveAt(step, epochEnd);
        if (epochEnd) await epochGrid(runDir, gan.g, fixedNoise, step / per, config);
        // interrupted: stop here, this step checkpointed (unless a failure holds checkpoints back)
        if (run.stopSignal) throw run.interrupted(step, saver.lastGood ?? 'none yet');
      }
    }
  } finally {
    logStepReplay(replayed, log);
    // a step left unread (a failure or an error stopped the run): settled, then freed
    const dropped = await reads.drop();
    if (dropped) freeStepInputs(dropped);
    run.close();
    bar.stop();
    fixedNoise.dispose();
    await run.metrics.flush();
    await batches.close((b) => b.x.dispose());
  }
  await writeLossPlot(runDir, LOSS_PLOT);
  await writeProgressGif(runDir);
  if (stoppedBy === 'failure') warn(`stopped at step ${step} on ${detector.failing.join(' and ')} (--stop-on-failure); last good checkpoint: ${saver.lastGood ?? 'none'}`);
  return { step, stoppedBy, events, lastCheckpoint: saver.lastGood };
}

/**
 * The fixed-noise grid of this epoch, sampled as `generate` does (precise BatchNorm statistics;
 * the training state is left as it was).
 */
async function epochGrid(runDir: string, g: tf.LayersModel, fixedNoise: tf.Tensor4D, epoch: number, config: TrainConfig): Promise<void> {
  const images = await withStats(g, { nz: config.gan.nz, calibration: config.calibration }, () => generatorImages(g, fixedNoise));
  await writeGrid(path.join(runDir, 'samples', `epoch-${String(epoch).padStart(3, '0')}.png`), images, { cols: 8 });
}

/**
 * progress.gif from every epoch grid in samples/ (none before the first epoch end). Frames are
 * read back from disk, so a resumed run's GIF still starts at epoch 1. Called once, when the run
 * ends: each frame's palette takes ~5 s to compute at 530x530.
 */
async function writeProgressGif(runDir: string): Promise<void> {
  const dir = path.join(runDir, 'samples');
  const listed = await fs.readdir(dir).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [];
    throw err;
  });
  const names = listed.filter((n) => /^epoch-\d+\.png$/.test(n)).sort();
  if (names.length === 0) return;
  const frames = await Promise.all(names.map((n) => readImage(path.join(dir, n))));
  await writeGif(path.join(runDir, 'progress.gif'), frames, { delayMs: 300, lastDelayMs: 2000, palette: 'frame' });
}
