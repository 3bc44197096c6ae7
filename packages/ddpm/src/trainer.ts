/**
 * The DDPM training run on core's run scaffold: data order, learning-rate schedule, EMA,
 * checkpoints, a sample grid every `preview.every` epochs, the loss plot, and the model folder at
 * the end.
 *
 * Randomness, all from the project's PCG32: the data order of epoch e from its own generator
 * (so any step's batch is known without replaying the run), t / eps / mask from one training
 * generator whose state goes into every checkpoint. A resumed run therefore continues exactly.
 *
 * Run folder: metrics.jsonl (step, epoch, loss, lr), loss.png, samples/epoch-NNNN.png,
 * checkpoints/, config.json, and model/ once training is complete.
 */
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {
  assertFinite,
  countParams,
  logStepReplay,
  LossPlotWriter,
  openRun,
  pixelsToFloat,
  Prefetcher,
  ReadBehind,
  progress,
  readStepSeries,
  replayableStep,
  Rng,
  rngStateSchema,
  tensorToImages,
  writeGrid,
  z,
  type ImageDataset,
  type LossPlotSpec,
} from '@dlcv/core';
import { RESUMABLE_CHANGES, validateTrainConfig, type PreviewConfig, type TrainConfig } from './config';
import { Ema } from './ema';
import { buildUnet, createUnet } from './model';
import { saveModelFolder } from './model-io';
import { DiffusionPipeline } from './pipeline';
import { DDPMScheduler, makeScheduler } from './schedulers';
import { diffusionStepOnHost, hostStepInputs, startDiffusionStep, type HostStepInputs } from './step';
import { inlineStepDraws, workerStepDraws, type StepDrawSpec } from './step-draws';

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
  /**
   * Draw each step's noise one step ahead on this many worker threads (step-draws.ts; 0, the
   * default: on the training thread when the step starts): the same values. For GPU engines,
   * where the host's draws would otherwise keep the GPU waiting.
   */
  drawThreads?: number;
}

export interface TrainResult {
  steps: number;
  /** Per-step training losses of the whole run, resumed parts included. */
  losses: number[];
  /** The saved model folder, once training is complete. */
  modelDir?: string;
  stoppedEarly: boolean;
}

const stateSchema = z.object({
  step: z.number().int().min(0),
  epoch: z.number().int().min(0),
  /** Batches of `epoch` already done. */
  batch: z.number().int().min(0),
  rng: rngStateSchema,
});
type TrainState = z.infer<typeof stateSchema>;

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

/** The image indices of global step s: batch s % perEpoch of epoch floor(s / perEpoch)'s order. */
function batchPlan(seed: number, n: number, perEpoch: number, batchSize: number): (step: number) => number[] {
  let cached: { epoch: number; order: number[] } | undefined;
  return (step) => {
    const epoch = Math.floor(step / perEpoch);
    if (cached?.epoch !== epoch) cached = { epoch, order: epochOrder(seed, epoch, n) };
    const b = step % perEpoch;
    return cached.order.slice(b * batchSize, (b + 1) * batchSize);
  };
}

function checkData(data: ImageDataset, config: TrainConfig): ArrayLike<number> {
  const { unet, batchSize } = config;
  if (data.shape.height !== unet.imageSize || data.shape.width !== unet.imageSize || data.shape.channels !== unet.inChannels) {
    throw new Error(`data: images are ${data.shape.height}x${data.shape.width}x${data.shape.channels}, the model takes ${unet.imageSize}x${unet.imageSize}x${unet.inChannels}`);
  }
  if (!data.labels) throw new Error('data: the training set has no labels (the model is class-conditional)');
  if (data.length < batchSize) throw new Error(`data: ${data.length} images are fewer than one batch of ${batchSize}`);
  return data.labels;
}

/** The reference's progress-bar loss: an EMA (0.95) of the step losses. */
const smoothStep = (prev: number, loss: number) => (Number.isNaN(prev) ? loss : 0.95 * prev + 0.05 * loss);

/** The loss curves of a run (loss.png, and the report's chart). */
export const lossPlot = (config: Pick<TrainConfig, 'preset'>): LossPlotSpec => ({
  title: `DDPM (${config.preset}): noise-prediction MSE`,
  yLabel: 'MSE',
  logY: true,
  series: [{ key: 'loss', name: 'loss' }],
  emaDecay: 0.95,
});

/** Whether the epoch that just ended gets a grid: every `preview.every` epochs, and the run's last. */
export function gridDue(preview: PreviewConfig, epoch: number, last: boolean): boolean {
  return last || epoch % (preview.every ?? 1) === 0;
}

/** The grid at the end of an epoch: `preview.perClass` images of each class, from `model`. */
async function epochGrid(runDir: string, model: tf.LayersModel, config: TrainConfig, epoch: number): Promise<string> {
  const file = path.join(runDir, 'samples', `epoch-${String(epoch).padStart(4, '0')}.png`);
  const { preview: p, unet } = config;
  const pipe = new DiffusionPipeline(model, makeScheduler(p.sampler, config.scheduler, { steps: p.steps }), unet);
  const rows = Array.from({ length: unet.nClasses }, (_, d) => d);
  const x = await pipe.sample({
    labels: rows.flatMap((d) => new Array<number>(p.perClass).fill(d)),
    noiseIds: rows.flatMap(() => Array.from({ length: p.perClass }, (_, j) => j)),
    seed: config.seed,
    w: p.w,
  });
  const perImage = unet.imageSize * unet.imageSize * unet.inChannels;
  await writeGrid(file, tensorToImages(x, [x.length / perImage, unet.imageSize, unet.imageSize, unet.inChannels]), { cols: p.perClass });
  return file;
}

/** The model folder of a finished run: `model` holds the EMA weights. */
async function saveTrainedModel(runDir: string, model: tf.LayersModel, config: TrainConfig, facts: Record<string, unknown>): Promise<string> {
  const modelDir = path.join(runDir, 'model');
  await saveModelFolder(modelDir, model, {
    unet: config.unet,
    scheduler: config.scheduler,
    sampling: config.sampling,
    training: {
      preset: config.preset,
      steps: facts.steps,
      epochs: facts.epochs,
      batch_size: config.batchSize,
      lr: config.lr,
      p_uncond: config.pUncond,
      ema_decay: config.emaDecay,
      seed: config.seed,
      final_loss_ema: facts.final_loss_ema,
      data: facts.data,
    },
  });
  return modelDir;
}

/** The model, its EMA, the optimizer and the training generator, fresh or restored by core's openRun. */
async function startRun(options: TrainOptions, config: TrainConfig, run: { totalSteps: number; epochs: number; stepsPerEpoch: number; log: (m: string) => void }) {
  const { unet, batchSize } = config;
  const { totalSteps, epochs, stepsPerEpoch, log } = run;
  const model = createUnet(unet, config.seed);
  const ema = new Ema(model, config.emaDecay);
  const optimizer = tf.train.adam(config.lr);
  log(`model: ContextUnet n_feat ${unet.nFeat}, ${countParams(model).trainable.toLocaleString('en-US')} trainable parameters`);
  log(
    `training: ${totalSteps} steps of batch ${batchSize} (${epochs} epoch${epochs === 1 ? '' : 's'} of ${stepsPerEpoch} steps over ${options.data.length} images), lr ${config.lr} decaying linearly per epoch, p_uncond ${config.pUncond}, EMA ${config.emaDecay}`,
  );
  const rng = new Rng(config.seed, STREAM_TRAIN);
  const opened = await openRun({
    runDir: options.runDir,
    config,
    mayChange: RESUMABLE_CHANGES,
    resume: options.resume === true,
    models: { unet: model, ema: ema.shadow },
    optimizers: { adam: optimizer },
    initialState: { step: 0, epoch: 0, batch: 0, rng: rng.getState() } as TrainState,
    stateSchema,
    log,
  });
  rng.setState(opened.state.rng);
  const losses = opened.resumedFrom ? ((await readStepSeries(opened.metrics.file, ['loss'])).values.loss ?? []) : [];
  return { model, ema, optimizer, run: opened, state: { ...opened.state }, rng, losses };
}

type Session = Awaited<ReturnType<typeof startRun>> & {
  options: TrainOptions;
  config: TrainConfig;
  labels: ArrayLike<number>;
  length: { totalSteps: number; epochs: number; stepsPerEpoch: number };
  log: (m: string) => void;
  /** Holds the EMA weights for the per-epoch grids and the saved model. */
  previewModel: tf.LayersModel;
  /** loss.png: redrawn at the end of an epoch at most every 30 s, and at the end of the run. */
  plots: LossPlotWriter;
};

/**
 * The steps' sources up to `stopAt`: batches (one step ahead) and draws (inline, or ahead on
 * worker threads), `hostInputs(step)`, a step's host work (its draws, batch, x_t and
 * conditions), done while the step before trains, and `step`, which runs a step on its inputs.
 */
function stepSources(s: Session, stopAt: number, noiser: DDPMScheduler) {
  const { config, state, rng } = s;
  const { unet } = config;
  const data = s.options.data;
  const plan = batchPlan(config.seed, data.length, s.length.stepsPerEpoch, config.batchSize);
  const batches = new Prefetcher(async (step) => pixelsToFloat(await data.getPixelsBatch(plan(step)), unet.inChannels, { range: [-1, 1] }), stopAt);
  const drawSpec: StepDrawSpec = {
    batch: config.batchSize,
    valuesPerImage: unet.imageSize * unet.imageSize * unet.inChannels,
    timesteps: noiser.config.num_train_timesteps,
    pUncond: config.pUncond,
  };
  const drawThreads = s.options.drawThreads ?? 0;
  const draws = drawThreads > 0 ? workerStepDraws(rng.getState(), drawSpec, state.step, stopAt, drawThreads) : inlineStepDraws(rng, drawSpec, state.step);
  const hostInputs = async (step: number) => {
    const drawn = await draws.take(step);
    const labels = plan(step).map((i) => s.labels[i] as number);
    return { rngAfter: drawn.rngAfter, inputs: hostStepInputs(noiser, drawn, { x0: await batches.take(step), labels }, unet) };
  };
  // the step itself; with DLCV_STEP_REPLAY=1 on libtorch, the steps after the third replay their
  // addon calls without their JavaScript (core's replayableStep; the same bytes)
  const step = replayableStep((inputs: HostStepInputs) => diffusionStepOnHost(s.model, s.optimizer, inputs));
  return { batches, draws, hostInputs, step };
}

/** The training loop up to `stopAt`; returns the smoothed loss and the newest checkpoint. */
async function trainSteps(s: Session, stopAt: number): Promise<{ smoothLoss: number; saved: { step: number; dir?: string } }> {
  const { config, state, run, rng, ema, losses, log } = s;
  const { totalSteps, epochs, stepsPerEpoch } = s.length;
  const { batches, draws, hostInputs, step } = stepSources(s, stopAt, new DDPMScheduler(config.scheduler));
  const bar = progress({ total: totalSteps, start: state.step, label: 'ddpm train', quiet: s.options.quiet });
  let smoothLoss = losses.reduce(smoothStep, NaN);
  let saved: { step: number; dir?: string } = { step: run.resumedFrom ? state.step : -1, dir: run.resumedFrom };
  let clock = { time: Date.now(), step: state.step };
  // Where the last trained step left the generator: what a checkpoint stores. Inline draws move
  // `rng` itself, and the next step's are drawn before this step's checkpoint.
  let rngAfter = rng.getState();
  // Each step's loss is read while the step after it trains (core's ReadBehind); a checkpoint is
  // written only after every step in it has had its loss read and checked.
  const reads = new ReadBehind(async ({ result, step, epoch, lr }: { result: Promise<number>; step: number; epoch: number; lr: number }) => {
    const loss = await result;
    // A NaN stops the run here, before any checkpoint holds the step.
    assertFinite({ loss }, step);
    losses.push(loss);
    smoothLoss = smoothStep(smoothLoss, loss);
    await run.metrics.append({ step, epoch, loss, lr });
    bar.tick(1, { loss: smoothLoss, epoch: `${epoch}/${epochs}` });
  });
  const save = async () => {
    await reads.drain();
    return (saved = { step: state.step, dir: await run.save({ ...state, rng: rngAfter }) }).dir as string;
  };
  let next = state.step < stopAt ? hostInputs(state.step) : undefined;
  try {
    while (state.step < stopAt) {
      const lr = learningRateAt(config.lr, state.epoch, epochs);
      setLearningRate(s.optimizer, lr);
      // inputs that fail to load (an unreadable image) stop the run with the steps so far checkpointed
      const current = await run.takeInputs(next!, state.step, save);
      const lossRead = startDiffusionStep(s.model, s.optimizer, current.inputs, step);
      next = state.step + 1 < stopAt ? hostInputs(state.step + 1) : undefined;
      next?.catch(() => undefined); // its error surfaces when it is awaited; the run may stop first
      // queued behind the step: the EMA of the weights it made
      ema.update(state.step);
      rngAfter = current.rngAfter;
      state.step++;
      state.batch++;
      // the step before this one is read now that this one is queued behind it
      await reads.issued({ result: lossRead, step: state.step, epoch: state.epoch + 1, lr });
      const epochEnd = state.batch === stepsPerEpoch || state.step === totalSteps;
      if (epochEnd) {
        state.epoch++;
        state.batch = 0;
      }
      if (state.step % config.saveEvery === 0) await save();

      // evaluate at the end of each epoch: the loss, and a sample grid from the EMA weights when one is due
      if (epochEnd) {
        await reads.drain();
        const perStep = (Date.now() - clock.time) / 1000 / (state.step - clock.step);
        let drawn = '';
        if (gridDue(config.preview, state.epoch, state.step === totalSteps)) {
          ema.copyTo(s.previewModel);
          drawn = `; ${path.relative(process.cwd(), await epochGrid(s.options.runDir, s.previewModel, config, state.epoch))}`;
        }
        await s.plots.update();
        log(`epoch ${state.epoch}/${epochs}: loss ${smoothLoss.toFixed(4)} (EMA 0.95), ${perStep.toFixed(2)} s/step${drawn}`);
        clock = { time: Date.now(), step: state.step };
      }

      // interrupted: stop here, with this step checkpointed
      if (run.stopSignal) throw run.interrupted(state.step, saved.step === state.step ? (saved.dir as string) : await save());
    }
    await reads.drain();
  } finally {
    bar.stop();
    logStepReplay(step, log);
    await reads.drop(); // settled (its tensors released) before the sources close
    await next?.catch(() => undefined); // settled before its sources close
    await batches.close();
    await draws.close();
    await run.metrics.flush();
  }
  if (saved.step !== state.step) await save();
  return { smoothLoss, saved };
}

export async function train(options: TrainOptions): Promise<TrainResult> {
  const config = validateTrainConfig(options.config);
  const log = options.log ?? (() => undefined);
  const labels = checkData(options.data, config);
  const stepsPerEpoch = Math.floor(options.data.length / config.batchSize);
  const length = { ...runLength(config, stepsPerEpoch), stepsPerEpoch };
  const started = await startRun(options, config, { ...length, log });
  const plots = new LossPlotWriter(options.runDir, lossPlot(config));
  const s: Session = { ...started, options, config, labels, length, log, previewModel: buildUnet(config.unet), plots };
  try {
    const { smoothLoss } = await trainSteps(s, Math.min(options.stopAtStep ?? length.totalSteps, length.totalSteps));
    await plots.write();

    // when done, the model folder
    const { state } = s;
    if (state.step < length.totalSteps) {
      log(`stopped at step ${state.step} of ${length.totalSteps}; continue with --resume`);
      return { steps: state.step, losses: s.losses, modelDir: undefined, stoppedEarly: true };
    }
    s.ema.copyTo(s.previewModel);
    const modelDir = await saveTrainedModel(options.runDir, s.previewModel, config, {
      steps: state.step,
      epochs: length.epochs,
      final_loss_ema: smoothLoss,
      data: options.dataLabel ?? null,
    });
    log(`model (EMA weights): ${modelDir}`);
    return { steps: state.step, losses: s.losses, modelDir, stoppedEarly: false };
  } finally {
    s.run.close();
    s.previewModel.dispose();
    s.model.dispose();
    s.ema.dispose();
    s.optimizer.dispose();
  }
}
