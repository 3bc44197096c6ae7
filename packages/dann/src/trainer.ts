/**
 * One training run (labelled-only or DANN) on core's run scaffold, with model selection on a
 * held-out part of the labelled training set.
 *
 * Every random choice is a pure function of (seed, epoch or step): epoch e's order is
 * permutation(seed, e), the target stream's cycle c is permutation(seed, c), step s's dropout
 * masks come from Rng(seed, s). A resumed run therefore needs only its weights, Adam's state and
 * the step count to continue exactly as if it had never stopped.
 *
 * Run folder:
 *   checkpoints/   latest weights + Adam state (every `saveEvery` steps and each epoch end)
 *   best/          checkpoint of the epoch with the best held-out accuracy
 *   config.json    the run's settings
 *   metrics.jsonl  one line per step (losses, lambda) and per epoch (held-out accuracy; with
 *                  `trace`, the eval domains' val.csv accuracies too, which choose nothing)
 *   loss.png       loss curves
 *   model/         the chosen epoch's network as a model folder (model-io.ts), once training ends
 *   result.json    written last: accuracies on the val.csv files asked for, chosen epoch
 */
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {
  assertFinite,
  loadCheckpoint,
  openRun,
  preloadAll,
  Prefetcher,
  ReadBehind,
  logStepReplay,
  progress,
  replayableStep,
  Rng,
  saveCheckpoint,
  StepValue,
  writeLossPlot,
  z,
  type ImageDataset,
  type LossPlotSpec,
  type MetricsLog,
  type TrainingRun,
} from '@dlcv/core';
import { RESUMABLE_CHANGES, runName, selectionNote, validateTrainConfig, type RunSpec, type TrainConfig } from './config';
import { holdOut, openDomain, resolveDomain, SCALING, withoutLabels, type DataLocation, type Domain } from './data';
import { accuracy } from './evaluate';
import { grlLambda } from './grl';
import { DannNet } from './model';
import { MODEL_DIR, saveDannModel } from './model-io';
import { epochRecordSchema, writeResult, type EpochRecord, type RunResult } from './result';
import { makeOptimizer, queueDannStep, queueLabelledStep, readStepLosses, type StepLosses } from './step';

// Rng streams, one per use, so that no two uses ever share draws.
const STREAM_INIT = 1;
const STREAM_EPOCH = 0x10000;
const STREAM_TARGET = 0x20000;
const STREAM_DROPOUT = 0x40000000;

export interface TrainOptions {
  spec: RunSpec;
  config: TrainConfig;
  runDir: string;
  data: DataLocation;
  /** Domains whose val.csv the chosen model is scored on at the end. */
  evalOn: Domain[];
  /** Continue from the run folder's latest checkpoint (a fresh start when there is none). */
  resume?: boolean;
  /**
   * Also score the `evalOn` val.csv files at each epoch end, into metrics.jsonl and result.json's
   * epochs: how the target accuracy moves over training. The epoch is still chosen on held-out
   * source images alone, and the trace draws nothing from the run's random streams.
   */
  trace?: boolean;
  /** Stop with a checkpoint once this many steps are done; resume later with `resume`. */
  stopAtStep?: number;
  log?: (message: string) => void;
  quiet?: boolean;
}

/** What trainRun returns for a run stopped by `stopAtStep` before its end. */
export interface StoppedRun {
  stopped: true;
  name: string;
  steps: number;
  totalSteps: number;
}

const stateSchema = z.object({
  step: z.number().int().min(0),
  epoch: z.number().int().min(0),
  epochs: z.array(epochRecordSchema),
  bestEpoch: z.number().int(),
  bestHeldOut: z.number(),
  trainSeconds: z.number(),
});
type RunState = z.infer<typeof stateSchema>;

/** The indices of step `step` in the endless stream of shuffled passes over n target images. */
export function targetIndices(seed: number, n: number, step: number, batch: number): number[] {
  const out: number[] = [];
  let cycle = -1;
  let perm: number[] = [];
  for (let pos = step * batch; pos < (step + 1) * batch; pos++) {
    const c = Math.floor(pos / n);
    if (c !== cycle) {
      cycle = c;
      perm = new Rng(seed, STREAM_TARGET + c).permutation(n);
    }
    out.push(perm[pos % n] as number);
  }
  return out;
}

export function epochOrder(seed: number, n: number, epoch: number): number[] {
  return new Rng(seed, STREAM_EPOCH + epoch).permutation(n);
}

interface RunData {
  train: ImageDataset;
  heldOut: ImageDataset;
  /** The unlabelled target images (dann mode). */
  target?: ImageDataset;
  evalSets: { domain: Domain; ds: ImageDataset }[];
  /** Domain -> where its images came from, for logs and result.json. */
  labels: Record<string, string>;
  stepsPerEpoch: number;
}

const firstImages = (ds: ImageDataset, limit: number | null) => (limit !== null && ds.length > limit ? ds.subset(Array.from({ length: limit }, (_, i) => i)) : ds);

/** Opens and decodes every set the run reads, so a bad file fails the run at start, naming it. */
async function openRunData(options: TrainOptions, config: TrainConfig, log: (m: string) => void): Promise<RunData> {
  const { spec, data } = options;
  const size = config.net.imageSize;
  const labelledFolder = await resolveDomain(spec.labelled, data);
  const labelled = firstImages(await openDomain(labelledFolder, 'train', size), config.trainLimit);
  const { train, heldOut } = holdOut(labelled, config.heldOutFraction, config.seed);
  const stepsPerEpoch = Math.floor(train.length / config.batchSize);
  if (stepsPerEpoch < 1) throw new Error(`${labelledFolder.dir}: ${train.length} training images after the hold-out, fewer than one batch of ${config.batchSize}`);
  const labels: Record<string, string> = { [spec.labelled]: labelledFolder.label };
  const toLoad = [
    { name: `${spec.labelled} train`, ds: train },
    { name: `${spec.labelled} held-out`, ds: heldOut },
  ];
  let target: ImageDataset | undefined;
  if (spec.unlabelled) {
    const folder = await resolveDomain(spec.unlabelled, data);
    target = firstImages(withoutLabels(await openDomain(folder, 'train', size)), config.trainLimit);
    labels[spec.unlabelled] = folder.label;
    toLoad.push({ name: `${spec.unlabelled} train (unlabelled)`, ds: target });
  }
  const evalSets: RunData['evalSets'] = [];
  for (const d of options.evalOn) {
    const folder = await resolveDomain(d, data);
    labels[d] ??= folder.label;
    const ds = await openDomain(folder, 'val', size);
    evalSets.push({ domain: d, ds });
    toLoad.push({ name: `${d} val`, ds });
  }
  await preloadAll(toLoad, log);
  return { train, heldOut, target, evalSets, labels, stepsPerEpoch };
}

interface Batch {
  source: { x: tf.Tensor4D; y: tf.Tensor1D };
  target?: tf.Tensor4D;
}

/** The batch of global step s: batch s % perEpoch of its epoch's order, plus s's target images. */
function batchLoader(d: RunData, config: TrainConfig): (step: number) => Promise<Batch> {
  const { seed, batchSize } = config;
  let cached: { epoch: number; order: number[] } | undefined;
  return async (step) => {
    const epoch = Math.floor(step / d.stepsPerEpoch);
    if (cached?.epoch !== epoch) cached = { epoch, order: epochOrder(seed, d.train.length, epoch) };
    const k = step % d.stepsPerEpoch;
    const source = d.train.getBatch(cached.order.slice(k * batchSize, (k + 1) * batchSize), SCALING);
    const target = d.target?.getBatch(targetIndices(seed, d.target.length, step, batchSize), SCALING);
    const [s, t] = await Promise.all([source, target]);
    return { source: { x: s.x, y: s.y as tf.Tensor1D }, target: t?.x };
  };
}

const disposeBatch = (b: Batch) => tf.dispose([b.source.x, b.source.y, ...(b.target ? [b.target] : [])]);

/** The trainer's two kinds of step, replayable (core's replayableStep: with DLCV_STEP_REPLAY=1 on the libtorch engine). */
function replayableSteps(net: DannNet, optimizer: tf.Optimizer) {
  return {
    dann: replayableStep((i: { xs: tf.Tensor4D; ys: tf.Tensor1D; xt: tf.Tensor4D; lambda: StepValue; rng: Rng }) =>
      queueDannStep(net, optimizer, i.xs, i.ys, i.xt, i.lambda, i.rng),
    ),
    labelled: replayableStep((i: { x: tf.Tensor4D; y: tf.Tensor1D; rng: Rng }) => queueLabelledStep(net, optimizer, i.x, i.y, i.rng)),
  };
}

/** One optimizer step on the batch (dann when it has target images), which it frees. */
async function trainStep(steps: ReturnType<typeof replayableSteps>, b: Batch, lambda: number, rng: Rng): Promise<StepLosses> {
  try {
    const parts = b.target
      ? steps.dann({ xs: b.source.x, ys: b.source.y, xt: b.target, lambda: new StepValue(lambda), rng })
      : steps.labelled({ x: b.source.x, y: b.source.y, rng });
    return await readStepLosses(parts);
  } finally {
    disposeBatch(b);
  }
}

/** The losses a step logs and checks (the domain loss in dann mode only). */
const stepLosses = (l: StepLosses): Record<string, number> => ({ classLoss: l.classLoss, ...(l.domainLoss !== undefined ? { domainLoss: l.domainLoss } : {}) });

/**
 * The epoch's record: held-out accuracy (and the val.csv accuracies of `traced`); the best
 * epoch's weights go to best/.
 */
async function endEpoch(net: DannNet, run: TrainingRun<RunState>, config: TrainConfig, state: RunState, heldOut: ImageDataset, traced: RunData['evalSets']): Promise<EpochRecord> {
  const held = await accuracy(net, heldOut);
  const record: EpochRecord = { epoch: state.epoch, step: state.step, heldOutAccuracy: held };
  if (traced.length > 0) {
    record.valAccuracy = {};
    for (const { domain, ds } of traced) record.valAccuracy[domain] = await accuracy(net, ds);
  }
  state.epochs.push(record);
  await run.metrics.append({ step: state.step, epoch: state.epoch, heldOutAccuracy: held, ...(record.valAccuracy ? { valAccuracy: record.valAccuracy } : {}) });
  if (held > state.bestHeldOut) {
    state.bestHeldOut = held;
    state.bestEpoch = state.epoch;
    await saveCheckpoint(path.join(run.runDir, 'best'), { models: { net: net.allVariables() }, config, state }, { keep: 1 });
  }
  return record;
}

/** The loss curves of a run (loss.png, and the report's chart). */
export const lossPlot = (name: string): LossPlotSpec => ({
  title: `${name}: training losses`,
  yLabel: 'loss (class: cross-entropy; domain: BCE)',
  series: [
    { key: 'classLoss', name: 'class' },
    { key: 'domainLoss', name: 'domain' },
  ],
  // Every step is drawn: a run has a few thousand.
  maxPoints: Number.POSITIVE_INFINITY,
});

/**
 * Scores the best epoch's weights on the val.csv files, writes them as the run's model folder,
 * then loss.png and result.json.
 */
async function finishRun(net: DannNet, options: TrainOptions, config: TrainConfig, d: RunData, state: RunState, log: (m: string) => void): Promise<RunResult> {
  const { spec, runDir } = options;
  const name = runName(spec);
  await loadCheckpoint(path.join(runDir, 'best'), { models: { net: net.allVariables() } });
  const acc: RunResult['accuracy'] = {};
  for (const { domain, ds } of d.evalSets) {
    acc[domain] = await accuracy(net, ds);
    log(`${name} (epoch ${state.bestEpoch}) on ${d.labels[domain]} val.csv: ${((acc[domain] as number) * 100).toFixed(2)}%`);
  }
  const selection = selectionNote(spec, config);
  await saveDannModel(path.join(runDir, MODEL_DIR), net, {
    run: name,
    spec,
    bestEpoch: state.bestEpoch,
    heldOutAccuracy: state.bestHeldOut,
    steps: state.step,
    selection,
    data: d.labels,
  });
  const result: RunResult = {
    name,
    spec,
    config,
    data: d.labels,
    selection,
    bestEpoch: state.bestEpoch,
    heldOutAccuracy: state.bestHeldOut,
    accuracy: acc,
    epochs: state.epochs,
    steps: state.step,
    trainSeconds: Math.round(state.trainSeconds),
  };
  await writeLossPlot(runDir, lossPlot(name));
  await writeResult(runDir, result);
  return result;
}

/** The run's network and Adam, fresh or restored by core's openRun (which refuses changed settings). */
async function startRun(options: TrainOptions, config: TrainConfig, log: (m: string) => void) {
  const net = new DannNet(config.net, new Rng(config.seed, STREAM_INIT));
  const optimizer = makeOptimizer(config.lr);
  try {
    const run = await openRun({
      runDir: options.runDir,
      config,
      mayChange: RESUMABLE_CHANGES,
      resume: options.resume === true,
      models: { net: net.allVariables() },
      optimizers: { adam: optimizer },
      initialState: { step: 0, epoch: 0, epochs: [], bestEpoch: -1, bestHeldOut: -1, trainSeconds: 0 } as RunState,
      stateSchema,
      log,
    });
    return { net, optimizer, run, state: { ...run.state, epochs: [...run.state.epochs] } };
  } catch (err) {
    net.dispose();
    optimizer.dispose();
    throw err;
  }
}

/** A step issued to the engine: its losses to come, and what its metrics line records beside them. */
interface IssuedStep {
  result: Promise<StepLosses>;
  step: number;
  epoch: number;
  /** dann steps only */
  lambda?: number;
}

/** Reads a step's losses, checks them and logs them (its metrics line, the progress bar). */
function stepRecorder(metrics: MetricsLog, bar: ReturnType<typeof progress>): (issued: IssuedStep) => Promise<void> {
  return async ({ result, step, epoch, lambda }) => {
    const losses = await result;
    // A NaN stops the run here: no checkpoint holds this step, the last one stays.
    assertFinite(stepLosses(losses), step);
    await metrics.append({ step, epoch, ...losses, ...(lambda !== undefined ? { lambda } : {}) });
    bar.tick(1, { loss: losses.classLoss, ...(losses.domainLoss !== undefined ? { domain: losses.domainLoss } : {}) });
  };
}

export function trainRun(options: TrainOptions & { stopAtStep?: undefined }): Promise<RunResult>;
export function trainRun(options: TrainOptions): Promise<RunResult | StoppedRun>;
export async function trainRun(options: TrainOptions): Promise<RunResult | StoppedRun> {
  const { spec, runDir } = options;
  const log = options.log ?? ((m: string) => console.log(m));
  const config = validateTrainConfig(options.config);
  const name = runName(spec);

  // data
  const d = await openRunData(options, config, log);
  const { stepsPerEpoch } = d;
  log(
    `run ${name}: ${d.train.length} labelled train images (${d.heldOut.length} held out), ${d.target ? `${d.target.length} unlabelled ${spec.unlabelled} images, ` : ''}${stepsPerEpoch} steps/epoch x ${config.epochs} epochs; ${selectionNote(spec, config)}`,
  );

  // model, optimizer, resume
  const { net, optimizer, run, state } = await startRun(options, config, (m) => log(`${name}: ${m}`));
  try {
    // train
    const totalSteps = config.epochs * stepsPerEpoch;
    const stopAt = Math.min(options.stopAtStep ?? totalSteps, totalSteps);
    const [batches, steps] = [new Prefetcher(batchLoader(d, config), stopAt), replayableSteps(net, optimizer)];
    const bar = progress({ total: totalSteps, start: state.step, label: name, quiet: options.quiet });
    let clock = Date.now();
    // Each step's losses are read while the step after it trains (core's ReadBehind); a checkpoint
    // is written only after every step in it has been read and checked.
    const reads = new ReadBehind(stepRecorder(run.metrics, bar));
    try {
      while (state.step < stopAt) {
        // a batch that fails to load (an unreadable image) stops the run with the steps so far checkpointed
        const batch = await run.takeInputs(batches.take(state.step), state.step, async () => (await reads.drain(), run.save(state)));
        const lambda = grlLambda(state.step / totalSteps, config.gamma);
        const result = trainStep(steps, batch, lambda, new Rng(config.seed, STREAM_DROPOUT + state.step));
        const step = state.step + 1;
        // the step before this one is read now that this one is queued behind it
        await reads.issued({ result, step, epoch: Math.floor(step / stepsPerEpoch), ...(batch.target ? { lambda } : {}) });
        state.step = step;
        state.epoch = Math.floor(step / stepsPerEpoch);
        const now = Date.now();
        state.trainSeconds += (now - clock) / 1000;
        clock = now;

        // evaluate: held-out accuracy at each epoch end, the best epoch's weights kept
        const epochEnd = step % stepsPerEpoch === 0;
        if (epochEnd) {
          await reads.drain();
          const record = await endEpoch(net, run, config, state, d.heldOut, options.trace === true ? d.evalSets : []);
          const traced = Object.entries(record.valAccuracy ?? {}).map(([domain, acc]) => `, ${domain} val ${(acc * 100).toFixed(2)}%`);
          log(
            `${name} epoch ${state.epoch}/${config.epochs}: held-out ${spec.labelled} accuracy ${(record.heldOutAccuracy * 100).toFixed(2)}% (best ${(state.bestHeldOut * 100).toFixed(2)}% at epoch ${state.bestEpoch})${traced.join('')}`,
          );
          clock = Date.now();
        }

        // checkpoint; stop here when a signal asked for it
        if (epochEnd || step % config.saveEvery === 0 || step === stopAt || run.stopSignal) {
          await reads.drain();
          const dir = await run.save(state);
          if (run.stopSignal) throw run.interrupted(step, dir);
        }
      }
    } finally {
      bar.stop();
      [steps.dann, steps.labelled].forEach((replayed) => logStepReplay(replayed, (m) => log(`${name}: ${m}`)));
      await reads.drop(); // settled (its batch freed) before the sources close
      await batches.close(disposeBatch);
      await run.metrics.flush();
    }

    // termination: stopped as asked, or scored and saved as a model folder
    if (state.step < totalSteps) {
      await writeLossPlot(runDir, lossPlot(name));
      log(`${name}: stopped after step ${state.step} of ${totalSteps} as asked; continue with --resume`);
      return { stopped: true, name, steps: state.step, totalSteps };
    }
    return await finishRun(net, options, config, d, state, log);
  } finally {
    run.close();
    net.dispose();
    optimizer.dispose();
  }
}
