/**
 * One training run (labelled-only or DANN) with model selection on a held-out part of the
 * labelled training set, checkpoints, resume and metrics.
 *
 * Every random choice is a pure function of (seed, epoch or step): epoch e's order is
 * permutation(seed, e), the target stream's cycle c is permutation(seed, c), step s's dropout
 * masks come from Rng(seed, s). A resumed run therefore needs only its weights, Adam's state and
 * the step count to continue exactly as if it had never stopped.
 *
 * Run folder:
 *   checkpoints/   latest weights + Adam state (every `checkpointEvery` steps and each epoch end)
 *   best/          weights of the epoch with the best held-out accuracy
 *   metrics.jsonl  one line per step (losses, lambda) and per epoch (held-out accuracy)
 *   result.json    written last: accuracies on the val.csv files asked for, chosen epoch
 *   loss.png       loss curves
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import {
  assertFinite, findLatestCheckpoint, loadCheckpoint, MetricsLog, progress, readMetrics, Rng, saveCheckpoint, writeFileAtomic, writePlot,
  type ImageDataset,
} from '@dlcv/core';
import { runName, selectionNote, validateConfig, type RunSpec, type TrainConfig } from './config';
import { holdOut, openDomain, preloadAll, resolveDomain, SCALING, withoutLabels, type DataLocation, type Domain } from './data';
import { accuracy } from './evaluate';
import { grlLambda } from './grl';
import { DannNet } from './model';
import { dannStep, labelledStep, makeOptimizer, type StepLosses } from './step';

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
  /** Continue from the run folder's latest checkpoint (an error if its config differs). */
  resume?: boolean;
  /** Steps between checkpoints besides each epoch end (default 50). */
  checkpointEvery?: number;
  /** Stop after this many steps in total (tests: a run "killed" midway). */
  stopAfterStep?: number;
  log?: (message: string) => void;
  quiet?: boolean;
}

export interface EpochRecord {
  epoch: number;
  step: number;
  heldOutAccuracy: number;
}

export interface RunResult {
  name: string;
  spec: RunSpec;
  config: TrainConfig;
  data: Record<string, string>;
  selection: string;
  bestEpoch: number;
  heldOutAccuracy: number;
  /** Accuracy of the chosen weights on each domain's val.csv. */
  accuracy: Partial<Record<Domain, number>>;
  epochs: EpochRecord[];
  steps: number;
  trainSeconds: number;
}

interface RunState {
  step: number;
  epoch: number;
  epochs: EpochRecord[];
  bestEpoch: number;
  bestHeldOut: number;
  trainSeconds: number;
  [key: string]: unknown;
}

export const RESULT_FILE = 'result.json';

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

export async function readResult(runDir: string): Promise<RunResult | undefined> {
  try {
    return JSON.parse(await fs.readFile(path.join(runDir, RESULT_FILE), 'utf8')) as RunResult;
  } catch {
    return undefined;
  }
}

export async function trainRun(options: TrainOptions): Promise<RunResult> {
  const { spec, config, runDir, evalOn } = options;
  const log = options.log ?? ((m: string) => console.log(m));
  const checkpointEvery = options.checkpointEvery ?? 50;
  validateConfig(config);
  const name = runName(spec);
  const size = config.net.imageSize;

  // data
  const labelledFolder = await resolveDomain(spec.labelled, options.data);
  let labelled = await openDomain(labelledFolder, 'train', size);
  if (config.trainLimit !== null && labelled.length > config.trainLimit) labelled = labelled.subset(Array.from({ length: config.trainLimit }, (_, i) => i));
  const { train, heldOut } = holdOut(labelled, config.heldOutFraction, config.seed);
  const steps = Math.floor(train.length / config.batchSize);
  if (steps < 1) throw new Error(`${labelledFolder.dir}: ${train.length} training images after the hold-out, fewer than one batch of ${config.batchSize}`);
  let target: ImageDataset | undefined;
  const dataLabels: Record<string, string> = { [spec.labelled]: labelledFolder.label };
  const toLoad = [{ name: `${spec.labelled} train`, ds: train }, { name: `${spec.labelled} held-out`, ds: heldOut }];
  if (spec.unlabelled) {
    const folder = await resolveDomain(spec.unlabelled, options.data);
    let t = withoutLabels(await openDomain(folder, 'train', size));
    if (config.trainLimit !== null && t.length > config.trainLimit) t = t.subset(Array.from({ length: config.trainLimit }, (_, i) => i));
    target = t;
    dataLabels[spec.unlabelled] = folder.label;
    toLoad.push({ name: `${spec.unlabelled} train (unlabelled)`, ds: t });
  }
  const evalSets: { domain: Domain; ds: ImageDataset }[] = [];
  for (const d of evalOn) {
    const folder = await resolveDomain(d, options.data);
    dataLabels[d] ??= folder.label;
    const ds = await openDomain(folder, 'val', size);
    evalSets.push({ domain: d, ds });
    toLoad.push({ name: `${d} val`, ds });
  }
  await preloadAll(toLoad, log);
  log(`run ${name}: ${train.length} labelled train images (${heldOut.length} held out), ${target ? `${target.length} unlabelled ${spec.unlabelled} images, ` : ''}${steps} steps/epoch x ${config.epochs} epochs; ${selectionNote(spec, config)}`);

  // model, optimizer, resume
  const net = new DannNet(config.net, new Rng(config.seed, STREAM_INIT));
  const optimizer = makeOptimizer(config.lr);
  const holder = () => ({ net: net.allVariables() });
  let state: RunState = { step: 0, epoch: 0, epochs: [], bestEpoch: -1, bestHeldOut: -1, trainSeconds: 0 };
  const existing = await findLatestCheckpoint(runDir);
  if (existing && !options.resume) throw new Error(`${runDir}: the run folder already has checkpoints; resume it (--resume) or choose another folder`);
  if (existing) {
    const loaded = await loadCheckpoint(runDir, { models: holder(), optimizers: { adam: optimizer } });
    if (JSON.stringify(loaded.config) !== JSON.stringify(config)) {
      throw new Error(`${loaded.dir}: saved with another configuration (${JSON.stringify(loaded.config)}); resume with the same flags or choose another folder`);
    }
    state = loaded.state as RunState;
    log(`resumed ${name} from ${loaded.dir} at step ${state.step}`);
  }

  // train
  const totalSteps = config.epochs * steps;
  const metrics = new MetricsLog(path.join(runDir, 'metrics.jsonl'));
  const bar = progress({ total: totalSteps, start: state.step, label: name, quiet: options.quiet });
  bar.update(state.step);
  const save = () => saveCheckpoint(runDir, { models: holder(), optimizers: { adam: optimizer }, config, state });
  let order: number[] = [];
  let orderEpoch = -1;
  const batchAt = (step: number) => {
    const epoch = Math.floor(step / steps);
    if (epoch !== orderEpoch) {
      order = epochOrder(config.seed, train.length, epoch);
      orderEpoch = epoch;
    }
    const k = step % steps;
    const source = train.getBatch(order.slice(k * config.batchSize, (k + 1) * config.batchSize), SCALING);
    const tgt = target?.getBatch(targetIndices(config.seed, target.length, step, config.batchSize), SCALING);
    return Promise.all([source, tgt]);
  };
  // The next batch is decoded while this step runs; a failure surfaces when it is awaited.
  const prefetch = (step: number) => {
    const p = batchAt(step);
    p.catch(() => undefined);
    return p;
  };
  const stopAt = Math.min(totalSteps, options.stopAfterStep ?? totalSteps);
  let pending = state.step < stopAt ? prefetch(state.step) : undefined;
  let clock = Date.now();
  const acc: Partial<Record<Domain, number>> = {};
  try {
    while (state.step < stopAt) {
      const [source, tgt] = await (pending as ReturnType<typeof batchAt>);
      pending = state.step + 1 < stopAt ? prefetch(state.step + 1) : undefined;
      const rng = new Rng(config.seed, STREAM_DROPOUT + state.step);
      const lambda = grlLambda(state.step / totalSteps, config.gamma);
      let losses: StepLosses;
      try {
        losses = tgt
          ? await dannStep(net, optimizer, source.x, source.y as tf.Tensor1D, tgt.x, lambda, rng)
          : await labelledStep(net, optimizer, source.x, source.y as tf.Tensor1D, rng);
      } finally {
        tf.dispose([source.x, source.y as tf.Tensor, ...(tgt ? [tgt.x] : [])]);
      }
      const step = state.step + 1;
      // A NaN stops the run here: nothing of this step is saved, the last checkpoint stays.
      assertFinite({ classLoss: losses.classLoss, ...(losses.domainLoss !== undefined ? { domainLoss: losses.domainLoss } : {}) }, step);
      state.step = step;
      state.epoch = Math.floor(step / steps);
      const now = Date.now();
      state.trainSeconds += (now - clock) / 1000;
      clock = now;
      await metrics.append({ step, epoch: state.epoch, ...losses, ...(tgt ? { lambda } : {}) });
      bar.tick(1, { loss: losses.classLoss, ...(losses.domainLoss !== undefined ? { domain: losses.domainLoss } : {}) });

      // evaluate on the held-out part at each epoch end; keep the best weights
      if (step % steps === 0) {
        const held = await accuracy(net, heldOut);
        const epoch = step / steps;
        state.epochs.push({ epoch, step, heldOutAccuracy: held });
        await metrics.append({ step, epoch, heldOutAccuracy: held });
        if (held > state.bestHeldOut) {
          state.bestHeldOut = held;
          state.bestEpoch = epoch;
          await saveCheckpoint(path.join(runDir, 'best'), { models: holder(), config, state }, { keep: 1 });
        }
        log(`${name} epoch ${epoch}/${config.epochs}: held-out ${spec.labelled} accuracy ${(held * 100).toFixed(2)}% (best ${(state.bestHeldOut * 100).toFixed(2)}% at epoch ${state.bestEpoch})`);
        clock = Date.now();
      }
      if (step % steps === 0 || step % checkpointEvery === 0 || step === stopAt) await save();
    }
    if (state.step < totalSteps) throw new Error(`${name}: stopped after step ${state.step} of ${totalSteps} as asked; resume to finish`);

    // score the chosen weights on the val.csv files
    await loadCheckpoint(path.join(runDir, 'best'), { models: holder() });
    for (const { domain, ds } of evalSets) {
      acc[domain] = await accuracy(net, ds);
      log(`${name} (epoch ${state.bestEpoch}) on ${dataLabels[domain]} val.csv: ${((acc[domain] as number) * 100).toFixed(2)}%`);
    }
  } finally {
    bar.stop();
    await metrics.flush();
    net.dispose();
    optimizer.dispose();
  }
  const result: RunResult = {
    name, spec, config, data: dataLabels, selection: selectionNote(spec, config), bestEpoch: state.bestEpoch, heldOutAccuracy: state.bestHeldOut,
    accuracy: acc, epochs: state.epochs, steps: state.step, trainSeconds: Math.round(state.trainSeconds),
  };
  await plotLosses(runDir, name);
  await writeFileAtomic(path.join(runDir, RESULT_FILE), JSON.stringify(result, null, 2) + '\n');
  return result;
}

/** loss.png from metrics.jsonl (a resumed run may have logged a step twice: the last line wins). */
async function plotLosses(runDir: string, name: string): Promise<void> {
  const { records } = await readMetrics<{ step: number; classLoss?: number; domainLoss?: number }>(path.join(runDir, 'metrics.jsonl'));
  const byStep = new Map<number, { classLoss?: number; domainLoss?: number }>();
  for (const r of records) if (r.classLoss !== undefined) byStep.set(r.step, r);
  const steps = [...byStep.keys()].sort((a, b) => a - b);
  const series = [{ name: 'class', x: steps, y: steps.map((s) => byStep.get(s)?.classLoss ?? NaN) }];
  if (steps.some((s) => byStep.get(s)?.domainLoss !== undefined)) series.push({ name: 'domain', x: steps, y: steps.map((s) => byStep.get(s)?.domainLoss ?? NaN) });
  await writePlot(path.join(runDir, 'loss.png'), { title: `${name}: training losses`, xLabel: 'step', yLabel: 'loss (class: cross-entropy; domain: BCE)', series });
}
