/**
 * DDPM training (Ho et al. 2020, algorithm 1) with the reference's class dropout: for a batch
 * of clean images x0, draw t ~ U{0..T-1}, eps ~ N(0, I) and a drop mask ~ Bernoulli(p_uncond),
 * and regress the network's output on eps (MSE) at x_t = sqrt(a_t) x0 + sqrt(1 - a_t) eps.
 *
 * Randomness, all from the project's PCG32: the data order of epoch e from its own generator
 * (so a resumed run can re-derive it and skip what was done), t / eps / mask from one training
 * generator whose state goes into every checkpoint. A resumed run therefore continues exactly.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {
  assertFinite,
  findLatestCheckpoint,
  loadCheckpoint,
  MetricsLog,
  pixelsToFloat,
  progress,
  readMetrics,
  Rng,
  saveCheckpoint,
  tensorToImages,
  writeFileAtomic,
  writeGrid,
  writePlot,
  type ImageDataset,
  type RngState,
} from '@dlcv/core';
import { conditionTensors } from './conditioning';
import { Ema } from './ema';
import { saveModelFolder } from './model-io';
import { DiffusionPipeline } from './pipeline';
import { makeScheduler, DDPMScheduler } from './schedulers';
import { validateTrainConfig, type TrainConfig } from './presets';
import { buildUnet, createUnet, countTrainableParams } from './unet';

export interface TrainOptions {
  runDir: string;
  config: TrainConfig;
  data: ImageDataset;
  /** Where the data came from, recorded in the saved model's config.json. */
  dataLabel?: string;
  /** Continue from the run folder's latest checkpoint (a fresh start when there is none). */
  resume?: boolean;
  /** Stop (with a checkpoint) once this many steps are done; resume later with `resume`. */
  stopAtStep?: number;
  log?: (message: string) => void;
  /** No progress bar (tests). */
  quiet?: boolean;
}

export interface TrainResult {
  steps: number;
  /** Per-step training losses of the whole run, resumed parts included. */
  losses: number[];
  /** The saved model folder, once training is complete. */
  modelDir?: string;
  stoppedEarly: boolean;
}

interface TrainState {
  step: number;
  epoch: number;
  /** Batches of `epoch` already done. */
  batch: number;
  rng: RngState;
  [key: string]: unknown;
}

interface StepRecord {
  step: number;
  epoch: number;
  loss: number;
  lr: number;
}

// PCG32 streams of the run's generators.
const STREAM_ORDER = 21;
const STREAM_TRAIN = 22;

/** The data order of epoch `epoch`: a pure function of (seed, epoch). */
export function epochOrder(seed: number, epoch: number, n: number): number[] {
  return new Rng(seed, STREAM_ORDER).fork(epoch).permutation(n);
}

/** Steps and epochs of a run: `steps` when the config fixes them, else whole epochs. */
export function runLength(config: TrainConfig, stepsPerEpoch: number): { totalSteps: number; epochs: number } {
  if (config.steps === undefined) return { totalSteps: config.epochs * stepsPerEpoch, epochs: config.epochs };
  return { totalSteps: config.steps, epochs: Math.ceil(config.steps / stepsPerEpoch) };
}

/** The reference's schedule: lr * (1 - epoch / epochs), constant within an epoch. */
export function learningRateAt(lr: number, epoch: number, epochs: number): number {
  return lr * (1 - epoch / epochs);
}

/** Adam's rate is a plain field in tfjs (no schedule hook); the native engine reads it per step too. */
function setLearningRate(optimizer: tf.AdamOptimizer, lr: number): void {
  (optimizer as unknown as { learningRate: number }).learningRate = lr;
}

/**
 * One optimizer step of algorithm 1: the MSE between the true noise and the network's prediction
 * at (x_t, t, class, mask), minimised by `optimizer`. Returns the loss (the caller disposes it).
 */
export function trainingStep(model: tf.LayersModel, optimizer: tf.Optimizer, xt: tf.Tensor4D, eps: tf.Tensor4D, cond: { t: tf.Tensor2D; c: tf.Tensor2D; mask: tf.Tensor2D }): tf.Scalar {
  return optimizer.minimize(() => tf.losses.meanSquaredError(eps, model.apply([xt, cond.t, cond.c, cond.mask], { training: true }) as tf.Tensor), true) as tf.Scalar;
}

/** The config stored in a checkpoint folder's checkpoint.json (loadCheckpoint verifies the rest). */
async function readSavedConfig(checkpointDir: string): Promise<unknown> {
  const file = path.join(checkpointDir, 'checkpoint.json');
  try {
    return (JSON.parse(await fs.readFile(file, 'utf8')) as { config?: unknown }).config;
  } catch (e) {
    throw new Error(`${file}: unreadable checkpoint (${(e as Error).message})`);
  }
}

/** Keys that may change between a run and its resumption without changing the result. */
const RESUMABLE_CHANGES = new Set(['saveEvery']);

/** What differs, as "key: saved -> now" (one level into objects: "unet.nFeat: 48 -> 64"). */
function configDifferences(saved: unknown, current: TrainConfig): string[] {
  const show = (v: unknown) => (v === undefined ? 'unset' : JSON.stringify(v));
  const diff = (a: Record<string, unknown>, b: Record<string, unknown>, prefix: string, deep: boolean): string[] =>
    Object.keys({ ...a, ...b }).flatMap((k) => {
      if ((prefix === '' && RESUMABLE_CHANGES.has(k)) || JSON.stringify(a[k]) === JSON.stringify(b[k])) return [];
      const [x, y] = [a[k], b[k]];
      const isObject = (v: unknown) => typeof v === 'object' && v !== null && !Array.isArray(v);
      if (deep && isObject(x) && isObject(y)) return diff(x as Record<string, unknown>, y as Record<string, unknown>, `${prefix}${k}.`, false);
      return [`${prefix}${k}: ${show(x)} -> ${show(y)}`];
    });
  return diff((saved ?? {}) as Record<string, unknown>, current as unknown as Record<string, unknown>, '', true);
}

export async function train(options: TrainOptions): Promise<TrainResult> {
  const { runDir, data } = options;
  const config = validateTrainConfig(options.config);
  const log = options.log ?? (() => undefined);
  const { unet, batchSize } = config;
  if (data.shape.height !== unet.imageSize || data.shape.width !== unet.imageSize || data.shape.channels !== unet.inChannels) {
    throw new Error(`data: images are ${data.shape.height}x${data.shape.width}x${data.shape.channels}, the model takes ${unet.imageSize}x${unet.imageSize}x${unet.inChannels}`);
  }
  if (!data.labels) throw new Error('data: the training set has no labels (the model is class-conditional)');
  const labels = data.labels;
  const stepsPerEpoch = Math.floor(data.length / batchSize);
  if (stepsPerEpoch < 1) throw new Error(`data: ${data.length} images are fewer than one batch of ${batchSize}`);
  const { totalSteps, epochs } = runLength(config, stepsPerEpoch);
  const perImage = unet.imageSize * unet.imageSize * unet.inChannels;
  const T = config.scheduler.num_train_timesteps;
  const noiser = new DDPMScheduler(config.scheduler);

  // model, EMA, optimizer
  const model = createUnet(unet, config.seed);
  const ema = new Ema(model, config.emaDecay);
  const optimizer = tf.train.adam(config.lr);
  log(`model: ContextUnet n_feat ${unet.nFeat}, ${countTrainableParams(model).toLocaleString('en-US')} trainable parameters`);
  log(`training: ${totalSteps} steps of batch ${batchSize} (${epochs} epoch${epochs === 1 ? '' : 's'} of ${stepsPerEpoch} steps over ${data.length} images), lr ${config.lr} decaying linearly per epoch, p_uncond ${config.pUncond}, EMA ${config.emaDecay}`);

  const rng = new Rng(config.seed, STREAM_TRAIN);
  let state: TrainState = { step: 0, epoch: 0, batch: 0, rng: rng.getState() };
  const existing = await findLatestCheckpoint(runDir);
  if (existing && !options.resume) throw new Error(`${runDir} already holds checkpoints: pass --resume to continue that run, or choose another --out`);
  if (existing) {
    // Settings first, from the checkpoint's JSON: weights of another width would otherwise fail
    // to load with a shape error that does not say which setting changed.
    const savedConfig = await readSavedConfig(existing);
    const diff = configDifferences(savedConfig, config);
    if (diff.length) throw new Error(`${existing}: the run was made with other settings (${diff.join('; ')}); resume with the same flags, choose another --out, or delete ${runDir} to start over`);
    const loaded = await loadCheckpoint(runDir, { models: { unet: model, ema: ema.shadow }, optimizers: { adam: optimizer } });
    state = loaded.state as TrainState;
    rng.setState(state.rng);
    log(`resumed from ${loaded.dir} at step ${state.step} (epoch ${state.epoch + 1}, batch ${state.batch})`);
  }

  // metrics: on resume, keep only what the checkpoint covers (a crash may have logged more)
  const metricsFile = path.join(runDir, 'metrics.jsonl');
  const losses: number[] = [];
  if (existing) {
    const kept = (await readMetrics<StepRecord>(metricsFile).catch(() => ({ records: [] as StepRecord[] }))).records.filter((r) => r.step <= state.step);
    await writeFileAtomic(metricsFile, kept.map((r) => `${JSON.stringify(r)}\n`).join(''));
    for (const r of kept) if (typeof r.loss === 'number') losses.push(r.loss);
  } else {
    await fs.mkdir(runDir, { recursive: true });
    await fs.rm(metricsFile, { force: true });
  }
  const metrics = new MetricsLog<StepRecord>(metricsFile);
  await writeFileAtomic(path.join(runDir, 'config.json'), `${JSON.stringify(config, null, 2)}\n`);

  const checkpoint = () =>
    saveCheckpoint(runDir, { models: { unet: model, ema: ema.shadow }, optimizers: { adam: optimizer }, config, state: { ...state, rng: rng.getState() } });

  // The reference's progress-bar loss: an EMA (0.95) of the step losses, replayed on resume.
  const smoothStep = (prev: number, loss: number) => (Number.isNaN(prev) ? loss : 0.95 * prev + 0.05 * loss);

  const previewModel = buildUnet(unet);
  const writePreview = async (name: string) => {
    ema.copyTo(previewModel);
    const p = config.preview;
    const scheduler = makeScheduler(p.sampler, config.scheduler, { steps: p.steps });
    const pipe = new DiffusionPipeline(previewModel, scheduler, unet);
    const rows = Array.from({ length: unet.nClasses }, (_, d) => d);
    const x = await pipe.sample({
      labels: rows.flatMap((d) => new Array<number>(p.perClass).fill(d)),
      noiseIds: rows.flatMap(() => Array.from({ length: p.perClass }, (_, j) => j)),
      seed: config.seed,
      w: p.w,
    });
    const file = path.join(runDir, 'samples', `${name}.png`);
    await writeGrid(file, tensorToImages(x, [x.length / perImage, unet.imageSize, unet.imageSize, unet.inChannels]), { cols: p.perClass });
    return file;
  };
  const writeLossPlot = async () => {
    if (losses.length === 0) return;
    // The raw curve is noisy (each step draws its own t); the EMA shows the trend.
    const smooth: number[] = [];
    losses.forEach((l, i) => smooth.push(smoothStep(i === 0 ? NaN : (smooth[i - 1] as number), l)));
    const x = losses.map((_, i) => i + 1);
    await writePlot(path.join(runDir, 'loss.png'), { title: `DDPM (${config.preset}): noise-prediction MSE`, xLabel: 'step', yLabel: 'MSE', logY: true, series: [{ name: 'loss', x, y: losses }, { name: 'EMA 0.95', x, y: smooth }] });
  };

  // train
  const bar = progress({ total: totalSteps, start: state.step, label: 'ddpm train', quiet: options.quiet });
  const stopAt = Math.min(options.stopAtStep ?? totalSteps, totalSteps);
  let smoothLoss = losses.reduce(smoothStep, NaN);
  let lastSaved = existing ? state.step : -1;
  const loadBatch = async (indices: number[]) => pixelsToFloat(await data.getPixelsBatch(indices), unet.inChannels, { range: [-1, 1] });
  try {
    while (state.epoch < epochs && state.step < stopAt) {
      const lr = learningRateAt(config.lr, state.epoch, epochs);
      setLearningRate(optimizer, lr);
      const order = epochOrder(config.seed, state.epoch, data.length);
      const batchIndices = (b: number) => order.slice(b * batchSize, (b + 1) * batchSize);
      let pending = loadBatch(batchIndices(state.batch));
      const epochStart = Date.now();
      const stepsBefore = state.step;
      const epoch = state.epoch;
      while (state.epoch === epoch && state.step < stopAt) {
        const indices = batchIndices(state.batch);
        const x0 = await pending;
        // The next batch decodes while this one trains.
        if (state.batch + 1 < stepsPerEpoch) pending = loadBatch(batchIndices(state.batch + 1));

        const ts = Array.from({ length: batchSize }, () => rng.int(T));
        const eps = rng.normalArray(x0.length);
        const drop = Array.from({ length: batchSize }, () => (rng.next() < config.pUncond ? 1 : 0));
        const xt = noiser.addNoise(x0, eps, ts);
        const cond = conditionTensors(ts, indices.map((i) => labels[i] as number), drop, T, unet.nClasses);
        const xtT = tf.tensor4d(xt, [batchSize, unet.imageSize, unet.imageSize, unet.inChannels]);
        const epsT = tf.tensor4d(eps, [batchSize, unet.imageSize, unet.imageSize, unet.inChannels]);
        const lossT = trainingStep(model, optimizer, xtT, epsT, cond);
        const loss = (await lossT.data())[0] as number;
        tf.dispose([lossT, xtT, epsT, cond.t, cond.c, cond.mask]);
        // A NaN stops the run here, before it reaches the EMA or a checkpoint.
        assertFinite({ loss }, state.step + 1);

        ema.update(state.step);
        state.step++;
        state.batch++;
        losses.push(loss);
        smoothLoss = smoothStep(smoothLoss, loss);
        await metrics.append({ step: state.step, epoch: state.epoch + 1, loss, lr });
        bar.tick(1, { loss: smoothLoss, epoch: `${state.epoch + 1}/${epochs}` });
        if (state.batch === stepsPerEpoch || state.step === totalSteps) {
          state.epoch++;
          state.batch = 0;
        }
        if (state.step % config.saveEvery === 0) {
          await checkpoint();
          lastSaved = state.step;
        }
      }
      await pending.catch(() => undefined);
      // evaluate: a sample grid from the EMA weights at the end of each epoch
      if (state.batch === 0 && state.step > stepsBefore) {
        const seconds = (Date.now() - epochStart) / 1000;
        const file = await writePreview(`epoch-${String(state.epoch).padStart(4, '0')}`);
        await writeLossPlot();
        log(`epoch ${state.epoch}/${epochs}: loss ${smoothLoss.toFixed(4)} (EMA 0.95), ${(seconds / (state.step - stepsBefore)).toFixed(2)} s/step; ${path.relative(process.cwd(), file)}`);
      }
    }
  } finally {
    bar.stop();
    await metrics.flush();
  }

  // checkpoint and, when done, the model folder
  if (lastSaved !== state.step) await checkpoint();
  await writeLossPlot();
  const done = state.step >= totalSteps;
  let modelDir: string | undefined;
  if (done) {
    modelDir = path.join(runDir, 'model');
    ema.copyTo(previewModel);
    await saveModelFolder(modelDir, previewModel, {
      unet,
      scheduler: config.scheduler,
      sampling: config.sampling,
      training: { preset: config.preset, steps: state.step, epochs, batch_size: batchSize, lr: config.lr, p_uncond: config.pUncond, ema_decay: config.emaDecay, seed: config.seed, final_loss_ema: smoothLoss, data: options.dataLabel ?? null },
    });
    log(`model (EMA weights): ${modelDir}`);
  } else {
    log(`stopped at step ${state.step} of ${totalSteps}; continue with --resume`);
  }
  previewModel.dispose();
  model.dispose();
  ema.dispose();
  optimizer.dispose();
  return { steps: state.step, losses, modelDir, stoppedEarly: !done };
}
